"""Ingestion: turns files into clean, structured chunks (loaders, cleaning, structure, chunking)."""
