"""The clinical record's selectors, one module per area: plans, notes (with addenda,
co-signing and the queue), groups."""
