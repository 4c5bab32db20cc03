"""Vector indexes over paper embeddings: FAISS (the app's) and exact NumPy (fallback and test oracle)."""
