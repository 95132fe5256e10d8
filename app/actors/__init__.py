"""Actors: armed groups, states, coalitions and persons, with aliases and affiliations."""
