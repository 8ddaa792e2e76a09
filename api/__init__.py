"""The HTTP layer: FastAPI app, routes and the chat page (see :func:`api.main.create_app`)."""
