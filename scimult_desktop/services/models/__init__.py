"""Models: bundles, model history, the embedding cache and the vector indexes."""
