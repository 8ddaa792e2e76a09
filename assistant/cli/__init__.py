"""The ``strategy-assistant`` command. Each command group lives in its own module; this one only
assembles them and converts project errors into a one-line message and a non-zero exit."""

from __future__ import annotations

import logging
import sys

import typer

from assistant.cli import documents, ingest
from assistant.errors import AssistantError

app = typer.Typer(
    name="strategy-assistant",
    help="Answers questions about municipal strategy documents with exact citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest.register(app)
app.add_typer(documents.app, name="documents")


def _register_optional() -> None:
    """Command groups added by later parts of the product register here when present."""
    import importlib

    for name in ("search", "answer", "serve", "evaluate", "keys"):
        try:
            module = importlib.import_module(f"assistant.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.cli.{name}":
                raise
            continue
        module.register(app)


_register_optional()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "chromadb", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app()
    except AssistantError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
