"""Benchmarks: synthetic reports, and the load runner that measures the API against its database."""
