"""Owns the index: Chroma (dense vectors, chunk texts, document texts) and the lexical side."""
