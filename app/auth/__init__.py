"""Access: API keys (stored as SHA-256 with a visible prefix), scopes, the request's principal."""
