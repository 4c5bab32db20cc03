"""Pure data: records, identifiers and task names. Standard library only."""
