"""``keys``: create, list and revoke the API keys staff and admins send to the HTTP API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from assistant.cli.output import console, err_console, print_json

app = typer.Typer(help="Create, list or revoke API keys (stored hashed in data_dir/keys.json).")


class RoleChoice(StrEnum):
    staff = "staff"
    admin = "admin"


def _key_file():
    from assistant.auth import KeyFile
    from assistant.settings import get_settings

    return KeyFile(get_settings().data_dir / "keys.json")


@app.command("create")
def create(
    role: Annotated[
        RoleChoice,
        typer.Option("--role", help="staff: reads everything; admin: also uploads and deletes."),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Default: <role>-<key id>.")] = None,
    for_settings: Annotated[
        bool,
        typer.Option(
            "--for-settings",
            help="Store nothing; print the key and the SA_API_KEYS entry that holds its hash.",
        ),
    ] = False,
) -> None:
    """Make a key and print it once: it is stored only as a salted hash."""
    from assistant.auth import new_key

    if for_settings:
        record, key = new_key(role.value, name)
        typer.echo(key)
        err_console.print("add this entry to SA_API_KEYS (a JSON list):")
        typer.echo(f"{record.role}:{record.name}:{record.hash_string()}", err=True)
        return
    key_file = _key_file()
    record, key = key_file.create(role.value, name)
    typer.echo(key)
    err_console.print(
        f"created {record.role} key {record.name!r} in {key_file.path}. "
        "Copy the key now: it cannot be shown again."
    )


@app.command("list")
def list_keys(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Names, roles and creation times of the active keys (never the keys or their hashes)."""
    from assistant.auth import KeyRing
    from assistant.settings import get_settings

    rows = [
        {"name": k.name, "role": k.role, "created": k.created, "source": k.source}
        for k in KeyRing.from_settings(get_settings()).records()
    ]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("name", "role", "created", "source")
    for row in rows:
        table.add_row(row["name"], row["role"], row["created"] or "-", row["source"])
    console.print(table)
    console.print(f"{len(rows)} keys")


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The key's name (see `keys list`).")) -> None:
    """Delete a key from keys.json; running servers refuse it from their next request."""
    key_file = _key_file()
    record = key_file.revoke(name)
    console.print(f"revoked {record.role} key {record.name!r}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="keys")
