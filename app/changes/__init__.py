"""The change feed: events created, updated and retracted, in commit order."""
