"""The API's front door: ``GET /`` and ``GET /v1``, an index linking the docs and collections."""
