"""One module per area; import them by full path."""
