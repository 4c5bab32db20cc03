"""Part of the SciMult Desktop GUI."""
