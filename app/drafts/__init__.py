"""The draft assistant: a news text drafted into a report to check, edit and post."""
