"""Cross-cutting pieces: problem details, pagination cursors, normalisation."""
