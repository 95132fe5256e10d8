"""Exports of events in the layouts other tools read: flat CSV, ACLED's CSV, GeoJSON, NDJSON.

``service.iter_events`` streams the events matching a filter in keyset pages; ``formats``
turns them into text chunks, for a file (``conflictdb export``) or an HTTP response alike.
"""
