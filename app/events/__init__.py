"""Events: the list with its filters, and the detail with actors, place and evidence."""
