"""Recipes: one command that reproduces a shipped artefact from data to weights."""
