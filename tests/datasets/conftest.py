"""Fixtures: the parsed samples (tests/samples.py)."""

from tests.samples import acled_records, acled_results, ged_records, ged_results, ged_rows

__all__ = ["acled_records", "acled_results", "ged_records", "ged_results", "ged_rows"]
