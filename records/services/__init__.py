"""The clinical record's services, one module per area: plans, notes (with addenda,
co-signing and the queue), groups."""
