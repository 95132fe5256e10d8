"""Tests of GET /v1/stats/events and /v1/stats/places against pandas over the events list."""
