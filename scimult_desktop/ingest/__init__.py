"""Importers: read sources (BibTeX, CSL-JSON, PDF, Zotero) into `ImportedRecord`s.

Importers never touch the database; `services.library` matches and stores what
they yield. Third-party parsers are imported inside the functions that use them.
"""
