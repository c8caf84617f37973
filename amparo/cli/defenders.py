"""``amparo defenders``: add, list, show, search, amend, history, merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.incidents import _read_json_arg
from amparo.cli.output import FORMATS, render

__all__ = ["defenders"]

LIST_COLUMNS = ("id", "display_name", "kind", "gender_identity", "country", "region", "sectors")


@click.group()
def defenders() -> None:
    """Defender profiles: people, collectives and organisations."""


@defenders.command("add")
@vault_option
@click.option("--json", "json_text", help="The profile as a JSON object.")
@click.option("--file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--case", "case_id", help="File it in this case (default: a new case).")
@handle_errors
def add(vault: Path, json_text: str | None, file: Path | None, case_id: str | None) -> None:
    """Add a defender profile; prints its id."""
    data = _read_json_arg(json_text, file)
    if not isinstance(data, dict):
        raise click.UsageError("add takes one JSON object")
    with open_registry(vault) as registry:
        defender = registry.defenders.add(data, case_id=case_id)
    click.echo(defender.id)


def _list(vault: Path, fmt: str, **kw: Any) -> None:
    from amparo.services.defenders import DefenderFilter

    with open_registry(vault) as registry:
        rows = registry.defenders.list(DefenderFilter(**kw))
    click.echo(render([r.to_dict() for r in rows], fmt, LIST_COLUMNS), nl=False)


def _common(fn: Any) -> Any:
    options = [
        click.option("--country", help="Country of work (alpha-2)."),
        click.option("--region"),
        click.option("--gender-identity"),
        click.option("--sector"),
        click.option("--kind", type=click.Choice(["person", "collective", "organisation"])),
        click.option("--case", "case_id"),
        click.option("--include-merged", is_flag=True, help="Also profiles merged into others."),
        click.option("--limit", type=int),
        click.option("--offset", type=int, default=0),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


@defenders.command("list")
@vault_option
@_common
@handle_errors
def list_(vault: Path, fmt: str, **kw: Any) -> None:
    """List defender profiles with their names."""
    _list(vault, fmt, **kw)


@defenders.command("search")
@vault_option
@click.option("--text", required=True, help="Words of a name, alias, organisation or note.")
@_common
@handle_errors
def search(vault: Path, text: str, fmt: str, **kw: Any) -> None:
    """Find profiles by name, alias, organisation or notes (over encrypted text)."""
    _list(vault, fmt, text=text, **kw)


@defenders.command("show")
@vault_option
@click.argument("defender_id")
@handle_errors
def show(vault: Path, defender_id: str) -> None:
    """Show one profile in full, as JSON."""
    with open_registry(vault) as registry:
        defender = registry.defenders.get(registry.defenders.resolve(defender_id))
    click.echo(json.dumps(defender.to_dict(), ensure_ascii=False, indent=2, default=str))


@defenders.command("amend")
@vault_option
@click.argument("defender_id")
@click.option("--json", "json_text", help="Fields to change, as a JSON object.")
@click.option("--file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expect-version", type=int)
@handle_errors
def amend(
    vault: Path, defender_id: str, json_text: str | None, file: Path | None,
    expect_version: int | None,
) -> None:  # fmt: skip
    """Change fields of a profile; the old version stays in its history."""
    changes = _read_json_arg(json_text, file)
    with open_registry(vault) as registry:
        full = registry.defenders.resolve(defender_id)
        updated = registry.defenders.amend(full, changes, expected_version=expect_version)
    click.echo(f"{updated.id} now at version {updated.version}")


@defenders.command("history")
@vault_option
@click.argument("defender_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def history(vault: Path, defender_id: str, fmt: str) -> None:
    """Who changed the profile and when (field names only)."""
    with open_registry(vault) as registry:
        versions = registry.defenders.history(registry.defenders.resolve(defender_id))
    rows = [v.to_dict() for v in versions]
    click.echo(render(rows, fmt, ("version", "at", "actor", "action", "changed_fields")), nl=False)


@defenders.command("merge")
@vault_option
@click.argument("keep_id")
@click.argument("duplicate_id")
@handle_errors
def merge(vault: Path, keep_id: str, duplicate_id: str) -> None:
    """Fold DUPLICATE_ID into KEEP_ID: names become aliases, acts follow, history records it."""
    with open_registry(vault) as registry:
        keep = registry.defenders.resolve(keep_id)
        dup = registry.defenders.resolve(duplicate_id)
        merged = registry.defenders.merge(keep, dup)
    click.echo(f"merged {dup} into {merged.id} (version {merged.version})")
