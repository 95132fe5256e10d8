"""Quotes: exact spans of an article body, with who said them and the events they support."""
