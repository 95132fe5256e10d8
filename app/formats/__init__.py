"""File formats, each one module that reads and writes it: ``csvfile`` (CSV rows and the value
parsers), ``events_csv`` (the flat CSV of events), ``acled`` (ACLED's CSV, both ways),
``ndjson``, ``geojson``; ``records`` (the plain records parsers produce and writers take),
``rowstream`` (a file parsed in a second process) and ``countries`` (dataset country names to
ISO codes). Nothing here touches the database."""
