"""File loaders: one module per format, chosen by suffix through :func:`load_file`."""

from ingestion.loaders.base import (
    DocumentLoader,
    load_file,
    loader_for,
    register_loader,
    supported_suffixes,
)

__all__ = ["DocumentLoader", "load_file", "loader_for", "register_loader", "supported_suffixes"]
