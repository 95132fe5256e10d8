"""Health check: is the API up and can it reach its database."""
