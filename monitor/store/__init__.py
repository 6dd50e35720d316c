"""The SQLite store of runs, findings and their lifecycle, with evidence files and online backups."""
