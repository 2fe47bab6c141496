"""The clinical record's views, one module per area: plans, notes (with addenda,
co-signing and the queue), groups."""
