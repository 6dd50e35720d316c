"""One module per console page (and its actions)."""
