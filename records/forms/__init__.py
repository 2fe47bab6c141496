"""The clinical record's forms, one module per area: plans, notes (with addenda,
co-signing and the queue), groups."""
