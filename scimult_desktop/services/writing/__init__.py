"""Writing: citation text and feedback, and the local endpoint editors call."""
