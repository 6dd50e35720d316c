"""Text check family: typos and serious expression errors, sensitive words, personal data."""
