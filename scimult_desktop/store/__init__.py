"""SQLite persistence of a library (one folder: database + attached files + index files)."""
