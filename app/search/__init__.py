"""Full-text search over events: their summaries, supporting quotes and article titles."""
