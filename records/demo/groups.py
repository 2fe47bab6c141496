"""Demo groups."""
