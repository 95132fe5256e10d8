"""Places: the gazetteer, its hierarchy and aliases."""
