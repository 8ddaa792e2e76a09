"""Strategy Assistant: answers questions about municipal strategy documents with exact citations.

The package is the core that both the CLI and the HTTP API use. It must stay importable without
the heavy libraries (chromadb, torch): those are imported lazily where they are needed.
"""

__version__ = "0.1.0"
