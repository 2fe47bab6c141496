"""Demo notes."""
