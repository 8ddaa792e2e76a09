"""Routers of the API, one module per area; :mod:`api.main` includes them."""
