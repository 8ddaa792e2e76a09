"""``ingest`` and ``reindex``: filling and rebuilding the index."""

from __future__ import annotations

from pathlib import Path

import typer

from assistant.cli.output import console, print_json, progress_bar


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders to ingest.", exists=False),
    manifest: Path | None = typer.Option(
        None, "--manifest", help="TOML manifest (default: corpus.toml beside the files)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest documents: load, clean, chunk, embed and store. Unchanged files are skipped."""
    from assistant.core import Core
    from assistant.indexer import ingest_paths

    core = Core()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}")
    store = core.store
    store.collect_garbage()
    with progress_bar("ingesting", enabled=not as_json) as on_progress:
        report = ingest_paths(
            paths,
            settings=core.settings,
            store=store,
            embedder=core.embedder,
            manifest=manifest,
            on_progress=on_progress,
        )
    if as_json:
        print_json(report.as_dict())
    else:
        for failed in report.failed:
            console.print(f"[red]failed[/red] {failed.path}: {failed.message}")
        s = report.summary()
        console.print(
            f"documents: {s['added']} added, {s['updated']} updated, {s['unchanged']} unchanged, "
            f"{s['failed']} failed; chunks written: {s['chunks']} ({s['embedded']} newly embedded)"
        )
    if report.failed and not (
        report.count("added") + report.count("updated") + report.count("unchanged")
    ):
        raise typer.Exit(1)


def reindex() -> None:
    """Rebuild all embeddings with the configured embedder (after changing it)."""
    from assistant.embedders import build_embedder
    from assistant.settings import get_settings
    from vectorstore.rebuild import rebuild_embeddings

    settings = get_settings()
    with progress_bar("re-embedding") as on_progress:
        n = rebuild_embeddings(settings, build_embedder(settings), on_progress)
    console.print(f"re-embedded {n} chunks with {build_embedder(settings).info().describe()}")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("reindex")(reindex)
