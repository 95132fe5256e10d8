"""Bulk imports of UCDP GED and ACLED files, and the ACLED CSV layout for exports.

The parsing half needs no database: ``ucdp.parse_rows`` and ``acled.parse_rows`` stream a file's
rows into ``records.EventRecord`` (or ``records.RowError`` for a row that cannot be imported),
``pipeline.RowStream`` (what both return) can parse the rest of a file in a second process
while the loader writes, ``countries`` maps the datasets' country names and codes to ISO
alpha-2, and ``acled.write_acled_csv`` writes records back in ACLED's layout.

The loading half: ``loader.import_records`` writes a parser's records in batches through
``app.writer`` (idempotent re-imports, conflicts with API edits, prune, bad rows isolated),
``resolve`` finds or creates the places, actors, outlets and articles they name, and
``repository`` holds the SQL. ``reports`` loads report documents from JSON Lines.
"""
