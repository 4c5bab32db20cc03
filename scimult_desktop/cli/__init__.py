"""The `scimult` command line: parse, call `services`, format. Nothing else."""
