"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by reciprocal rank, with filters."""
