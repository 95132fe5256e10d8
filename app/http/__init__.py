"""HTTP concerns apart from services: caching (ETags, 304, the stats cache), rate limits,
problem-details rendering, content negotiation. Given what they need by ``app.main``."""
