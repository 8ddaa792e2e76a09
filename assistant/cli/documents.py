"""``documents``: list, show and remove stored documents. The CLI is an operator tool, so it
sees every audience."""

from __future__ import annotations

import typer

from assistant.cli.output import console, print_json

app = typer.Typer(help="List, show or remove stored documents.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def list_documents(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored documents."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from rich.table import Table

    from assistant.core import Core

    docs = Core().store.documents()
    if as_json:
        print_json([asdict(d) for d in docs])
        return
    table = Table("id", "title", "lang", "audience", "chunks")
    table.columns[0].no_wrap = True
    for d in docs:
        table.add_row(d.doc_id, d.title, d.language, d.audience, str(d.chunk_count))
    console.print(table)
    console.print(f"{len(docs)} documents")


@app.command("show")
def show(doc_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a document's metadata and cleaned text."""
    from dataclasses import asdict

    from assistant.core import Core

    doc = Core().store.get_document(doc_id)
    if as_json:
        print_json(asdict(doc))
    else:
        console.print(f"[bold]{doc.title}[/bold] ({doc.doc_id}, {doc.audience})")
        print(doc.text)


@app.command("remove")
def remove(doc_id: str) -> None:
    """Delete a document and all its chunks."""
    from assistant.core import Core

    Core().store.remove_document(doc_id)
    console.print(f"removed {doc_id}")
