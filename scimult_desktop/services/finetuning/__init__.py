"""Fine-tuning on the user's library: signals, the run, and its evaluation."""
