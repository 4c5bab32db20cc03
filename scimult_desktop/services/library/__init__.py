"""Libraries: the `Library` facade, importing, watching, browsing, duplicates, export, preferences."""
