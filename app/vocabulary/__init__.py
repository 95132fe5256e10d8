"""Vocabulary: the controlled lookup lists (event types, actor kinds, ...) in one response."""
