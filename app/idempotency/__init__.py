"""Safe retries: the Idempotency-Key header on POST (Stripe's semantics, IETF draft)."""
