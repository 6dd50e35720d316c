"""New-media check family: account updates and quality from feeds, APIs, list pages and ledgers."""
