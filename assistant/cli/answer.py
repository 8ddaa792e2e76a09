"""``ask`` (one question, JSON for scripts) and ``chat`` (interactive, citations under answers)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from assistant.cli.output import console, print_json


def _filter(audience: str):
    from vectorstore.filters import SearchFilter

    if audience not in ("public", "staff"):
        raise typer.BadParameter("--audience must be public or staff")
    return SearchFilter(audience=audience)  # type: ignore[arg-type]


def _load_history(path: Path | None):
    from assistant.contract import Message

    if path is None:
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"cannot read history {path}: {exc}") from exc
    if isinstance(raw, dict):
        raw = raw.get("messages", [])
    try:
        return [Message.model_validate(m) for m in raw]
    except Exception as exc:
        raise typer.BadParameter(
            f"history {path} is not a list of {{role, content}}: {exc}"
        ) from exc


def show_answer(result) -> None:
    """Answer text, then its citations as a numbered list."""
    console.print(result.answer, markup=False, highlight=False)
    if result.citations:
        console.print()
        for c in result.citations:
            page = f", p. {c.page}" if c.page else ""
            section = f" — {c.section}" if c.section else ""
            console.print(f"[bold][{c.id}][/bold] {c.title}{section}{page}", highlight=False)
            console.print(f"    [dim]{c.quote[:300]}[/dim]", highlight=False)
    if result.unsupported:
        console.print(f"[yellow]unsupported:[/yellow] {result.unsupported}")


def ask(
    question: str = typer.Argument(..., help="The question."),
    history: Path | None = typer.Option(None, "--history", help="JSON file: earlier messages."),
    audience: str = typer.Option("staff", "--audience", help="public or staff."),
    k: int = typer.Option(None, "--k", min=1, max=50, help="Passages to retrieve."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer contract as JSON."),
) -> None:
    """Answer one question with citations (``--json``: the contract evaluation scripts read)."""
    from assistant.contract import Message
    from assistant.core import Core

    messages = [*_load_history(history), Message(role="user", content=question)]
    result = Core().answers.answer(messages, _filter(audience), k=k)
    if as_json:
        print_json(result.model_dump())
    else:
        show_answer(result)


def chat(audience: str = typer.Option("staff", "--audience", help="public or staff.")) -> None:
    """Interactive chat. Empty line or Ctrl-D ends; ``/clear`` forgets the conversation."""
    from assistant.contract import Message
    from assistant.core import Core
    from assistant.errors import AssistantError

    core = Core()
    flt = _filter(audience)
    messages: list[Message] = []
    console.print("Strategy Assistant — ask in Danish, Swedish or English. Empty line ends.")
    while True:
        try:
            question = console.input("[bold]> [/bold]").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        if question == "/clear":
            messages = []
            continue
        messages.append(Message(role="user", content=question))
        try:
            result = core.answers.answer(messages, flt)
        except AssistantError as exc:
            console.print(f"[red]error:[/red] {exc.message}")
            messages.pop()
            continue
        show_answer(result)
        console.print()
        messages.append(Message(role="assistant", content=result.answer))


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("chat")(chat)
