"""Outlets: the publishers whose articles are the evidence."""
