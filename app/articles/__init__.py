"""Articles: the reports behind every event, with their body text and quotes."""
