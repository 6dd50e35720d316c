"""Core types and pure helpers every layer may use: the run's clock, findings, indicators, posts,
URLs, ISO weeks and workdays, atomic files, the derived-data cache."""
