"""Demo plans."""
