"""Finding: search, related papers, suggestions, evidence, filters and field classification."""
