"""``amparo incidents``: add, import, list, show, search, amend, history, diff, restore, delete."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.cli.transfer import mapping_options

__all__ = ["incidents"]

LIST_COLUMNS = ("id", "date_start", "country", "region", "act_types", "violation_status", "title")


def _read_json_arg(json_text: str | None, file: Path | None) -> Any:
    if json_text is not None:
        return json.loads(json_text)
    if file is not None:
        from amparo.services.records_io import read_records

        records = read_records(file)
        return records[0] if len(records) == 1 else records
    if not sys.stdin.isatty():
        return json.loads(sys.stdin.read())
    raise click.UsageError("give the record with --json, --file, or on standard input")


def _filter_options(fn: Any) -> Any:
    options = [
        click.option("--country", help="ISO 3166 alpha-2 code, e.g. CO."),
        click.option("--region", help="Region as recorded."),
        click.option("--act-type", help="Act type code, e.g. A09."),
        click.option("--year", type=int, help="Incidents that started in this year."),
        click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]),
                     help="Started on or after (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]),
                     help="Started on or before (YYYY-MM-DD)."),
        click.option("--gender-identity", help="Gender identity of a victim, e.g. woman."),
        click.option("--sector", help="Sector of defence of a victim, e.g. land."),
        click.option("--perpetrator-type", help="Perpetrator type code."),
        click.option("--modality", help="in_person, online or both."),
        click.option("--gender-feature", help="Gender-lens feature code, e.g. rape_threat."),
        click.option("--gender-specific", help="yes, no or unknown."),
        click.option("--case", "case_id", help="Only this case."),
        click.option("--defender", "defender_id", help="Only acts against this defender."),
        click.option("--limit", type=int, help="At most this many rows."),
        click.option("--offset", type=int, default=0, help="Skip this many rows."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def _make_filter(text: str | None, **kw: Any) -> Any:
    from amparo.services.incidents import IncidentFilter

    for key in ("date_from", "date_to"):
        if kw.get(key) is not None:
            kw[key] = kw[key].date()
    return IncidentFilter(text=text, **kw)


@click.group()
def incidents() -> None:
    """Incidents (events): who did what to whom, when and where."""


@incidents.command("add")
@vault_option
@click.option("--json", "json_text", help="The incident as a JSON object.")
@click.option("--file", type=click.Path(dir_okay=False, path_type=Path),
              help="A JSON file holding one incident.")  # fmt: skip
@click.option("--case", "case_id", help="File it in this case (default: the victim's case).")
@handle_errors
def add(vault: Path, json_text: str | None, file: Path | None, case_id: str | None) -> None:
    """Add one incident; prints its id. Nothing is stored if any field is wrong."""
    data = _read_json_arg(json_text, file)
    if not isinstance(data, dict):
        raise click.UsageError("add takes one JSON object; use 'incidents import' for many")
    with open_registry(vault) as registry:
        incident = registry.incidents.add(data, case_id=case_id)
    click.echo(incident.id)


@incidents.command("import")
@vault_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--atomic", is_flag=True, help="Store nothing unless every row is valid.")
@mapping_options
@handle_errors
def import_(
    vault: Path, file: Path, atomic: bool, mapping_file: Path | None, map_specs: tuple[str, ...],
    dry_run: bool, case_id: str | None, report_file: Path | None, report_format: str | None,
) -> None:  # fmt: skip
    """Import incidents from JSON (array), JSON Lines or CSV, with progress.

    Each row is stored whole or not at all; bad rows are listed with their row number, line,
    field and reason, and the exit code is 3 if any row was rejected. The same as 'amparo
    import' for record files, plus --atomic.
    """
    if not atomic:
        from amparo.cli.transfer import import_records

        import_records(vault, file, mapping_file, map_specs, dry_run, case_id, report_file,
                       report_format)  # fmt: skip
        return
    if mapping_file or map_specs or dry_run or report_file:
        raise click.UsageError("--atomic reads the file as it is: no mapping, dry run or report")
    from amparo.errors import ValidationErrors
    from amparo.services.records_io import read_records

    records = read_records(file)
    with (
        open_registry(vault) as registry,
        click.progressbar(length=len(records), label="Importing", file=sys.stderr) as bar,
    ):
        done = {"n": 0}

        def progress(n: int, _total: int) -> None:
            bar.update(n - done["n"])
            done["n"] = n

        try:
            report = registry.incidents.add_many(
                records, case_id=case_id, atomic=True, progress=progress, total=len(records)
            )
        except ValidationErrors as rejected:
            for err in rejected.errors:
                click.echo(f"row {err.row}: {err.field}: {err.message}", err=True)
            click.echo(f"error: {len(rejected.errors)} problem(s); nothing imported (--atomic)",
                       err=True)  # fmt: skip
            raise SystemExit(3) from None
    click.echo(f"{len(report.added)} imported, {len(report.errors)} rejected.")


@incidents.command("list")
@vault_option
@_filter_options
@handle_errors
def list_(vault: Path, fmt: str, **kw: Any) -> None:
    """List incidents, newest first, with filters."""
    with open_registry(vault) as registry:
        rows = registry.incidents.list(_make_filter(None, **kw))
    click.echo(render([r.to_dict() for r in rows], fmt, LIST_COLUMNS), nl=False)


@incidents.command("search")
@vault_option
@click.option("--text", required=True, help="Words that must all occur (any text field).")
@_filter_options
@handle_errors
def search(vault: Path, text: str, fmt: str, **kw: Any) -> None:
    """Keyword search over encrypted text (titles, narratives, places, names)."""
    with open_registry(vault) as registry:
        rows = registry.incidents.list(_make_filter(text, **kw))
    click.echo(render([r.to_dict() for r in rows], fmt, LIST_COLUMNS), nl=False)


@incidents.command("show")
@vault_option
@click.argument("incident_id")
@handle_errors
def show(vault: Path, incident_id: str) -> None:
    """Show one incident in full, as JSON (an id, or its last 8 characters)."""
    with open_registry(vault) as registry:
        incident = registry.incidents.get(registry.incidents.resolve(incident_id))
    click.echo(json.dumps(incident.to_dict(), ensure_ascii=False, indent=2, default=str))


@incidents.command("amend")
@vault_option
@click.argument("incident_id")
@click.option("--json", "json_text", help="Fields to change, as a JSON object.")
@click.option("--file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expect-version", type=int, help="Refuse if someone changed it since.")
@handle_errors
def amend(
    vault: Path, incident_id: str, json_text: str | None, file: Path | None,
    expect_version: int | None,
) -> None:  # fmt: skip
    """Change fields of an incident; the old version stays in its history."""
    changes = _read_json_arg(json_text, file)
    if not isinstance(changes, dict):
        raise click.UsageError("amend takes one JSON object of fields to change")
    with open_registry(vault) as registry:
        full_id = registry.incidents.resolve(incident_id)
        updated = registry.incidents.amend(full_id, changes, expected_version=expect_version)
    click.echo(f"{updated.id} now at version {updated.version}")


@incidents.command("history")
@vault_option
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def history(vault: Path, incident_id: str, fmt: str) -> None:
    """Who changed what and when (field names only)."""
    with open_registry(vault) as registry:
        versions = registry.incidents.history(registry.incidents.resolve(incident_id))
    rows = [v.to_dict() for v in versions]
    click.echo(render(rows, fmt, ("version", "at", "actor", "action", "changed_fields")), nl=False)


@incidents.command("diff")
@vault_option
@click.argument("incident_id")
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def diff(vault: Path, incident_id: str, old: int, new: int, fmt: str) -> None:
    """Field-by-field differences between two versions."""
    with open_registry(vault) as registry:
        changes = registry.incidents.diff(registry.incidents.resolve(incident_id), old, new)
    rows = [{"field": c.field, "before": c.before, "after": c.after} for c in changes]
    click.echo(render(rows, fmt, ("field", "before", "after")), nl=False)


@incidents.command("restore")
@vault_option
@click.argument("incident_id")
@click.option("--version", "version", type=int, required=True, help="Version to bring back.")
@handle_errors
def restore(vault: Path, incident_id: str, version: int) -> None:
    """Make an earlier version current again (recorded as a new version)."""
    with open_registry(vault) as registry:
        with registry.store.read() as conn:
            from amparo.services.lookup import resolve_prefix
            from amparo.store.schema import record_versions

            full_id = resolve_prefix(conn, _history_ids(record_versions), incident_id, "incident")
        restored = registry.incidents.restore(full_id, version)
    click.echo(f"{restored.id} restored from version {version}; now at version {restored.version}")


def _history_ids(record_versions: Any) -> Any:
    import sqlalchemy as sa

    # Deleted incidents live on only in their history: resolve ids there.
    return (
        sa.select(record_versions.c.entity_id.label("id"))
        .where(record_versions.c.entity == "incident")
        .distinct()
        .subquery()
    )


@incidents.command("delete")
@vault_option
@click.argument("incident_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def delete(vault: Path, incident_id: str, yes: bool) -> None:
    """Remove an incident (its history keeps a sealed copy; 'restore' brings it back)."""
    with open_registry(vault) as registry:
        full_id = registry.incidents.resolve(incident_id)
        if not yes:
            click.confirm(f"Delete incident {full_id}?", abort=True)
        registry.incidents.delete(full_id)
    click.echo(f"deleted {full_id}")
