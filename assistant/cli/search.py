"""``search``: ranked passages for a query, as a person or a script wants them."""

from __future__ import annotations

import typer

from assistant.cli.output import console, print_json


def passage_dict(p, rank: int) -> dict:
    return {
        "rank": rank,
        "score": round(p.score, 6),
        "dense": None if p.dense is None else round(p.dense, 6),
        "lexical": None if p.lexical is None else round(p.lexical, 6),
        **p.chunk.describe(),
        "expanded_from": p.expanded_from,
        "text": p.chunk.text,
    }


def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(None, "--k", min=1, max=50, help="Number of passages."),
    audience: str = typer.Option("staff", "--audience", help="public or staff."),
    mode: str = typer.Option(None, "--mode", help="hybrid, dense or bm25 (default: settings)."),
    document: list[str] = typer.Option([], "--document", help="Only these document ids."),
    organisation: list[str] = typer.Option([], "--organisation"),
    language: list[str] = typer.Option([], "--language"),
    year: int = typer.Option(None, "--year"),
    quarter: list[int] = typer.Option([], "--quarter", min=1, max=4),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search the index and print ranked passages with their exact quotes."""
    from assistant.core import Core
    from vectorstore.filters import SearchFilter

    if audience not in ("public", "staff"):
        raise typer.BadParameter("--audience must be public or staff")
    if mode not in (None, "hybrid", "dense", "bm25"):
        raise typer.BadParameter("--mode must be hybrid, dense or bm25")
    flt = SearchFilter(
        audience=audience,  # type: ignore[arg-type]
        doc_ids=tuple(document),
        organisations=tuple(organisation),
        languages=tuple(language),
        year=year,
        quarters=tuple(quarter),
    )
    passages = Core().retriever.search(query, flt, k=k, mode=mode)  # type: ignore[arg-type]
    rows = [passage_dict(p, n) for n, p in enumerate(passages, start=1)]
    if as_json:
        print_json({"query": query, "passages": rows})
        return
    if not rows:
        console.print("no passages found")
    for row in rows:
        where = " > ".join(filter(None, [row["section"]]))
        page = f", p. {row['page']}" if row["page"] else ""
        console.print(
            f"[bold]{row['rank']}.[/bold] {row['title']} ({row['doc_id']}){page}  "
            f"score {row['score']:.4f}\n   [dim]{where}[/dim]"
        )
        console.print(f"   {row['text']}\n", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("search")(search)
