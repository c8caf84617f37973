"""``amparo import`` and ``amparo export``: records in and out, whole-registry archives."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import (
    handle_errors,
    open_registry,
    passphrase_from_env_or_prompt,
    vault_option,
)
from amparo.errors import VaultError

__all__ = ["export", "import_", "import_records", "mapping_options"]

ARCHIVE_MAGIC = b"AMPARCH\x00"


def mapping_options(fn: Any) -> Any:
    options = [
        click.option("--mapping", "mapping_file",
                     type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="A mapping file (TOML or JSON): their columns, values and date "
                          "format to ours (docs/import-export.md)."),
        click.option("--map", "map_specs", multiple=True, metavar="SOURCE=TARGET",
                     help="Their column=our field, field:their value=our code, or "
                          "date_format=%d/%m/%Y; repeatable, overrides --mapping."),
        click.option("--dry-run", is_flag=True,
                     help="Read, map and validate every row; store nothing."),
        click.option("--case", "case_id", help="File rows without a case in this case."),
        click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the validation report here (table, .json or .csv)."),
        click.option("--report-format", type=click.Choice(("table", "json", "csv")),
                     help="Format of --report (default: from its suffix)."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise VaultError(f"no {prompt.lower()}: set {env} or run from a terminal")
    text: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return text


def _table(rows: list[dict[str, Any]]) -> str:
    """One line per problem, never cut short: ``row 7: date_start: reason (line 9)``."""
    lines = []
    for r in rows:
        line = f" (line {r['line']})" if r["line"] else ""
        lines.append(f"row {r['row']}: {r['field'] + ': ' if r['field'] else ''}{r['reason']}"
                     f"{line}\n")  # fmt: skip
    return "".join(lines)


def import_records(
    vault: Path, file: Path, mapping_file: Path | None, map_specs: tuple[str, ...],
    dry_run: bool, case_id: str | None, report_file: Path | None, report_format: str | None,
) -> None:  # fmt: skip
    """Shared by ``amparo import`` and ``amparo incidents import``."""
    from amparo.services.import_mapping import ColumnMapping
    from amparo.services.record_import import import_file, render_report, summary_line

    mapping = ColumnMapping.load(mapping_file) if mapping_file else ColumnMapping()
    if map_specs:
        mapping = mapping.merged(ColumnMapping.from_specs(map_specs))
    bar: Any = None  # drawn from the first batch on: a file refused whole prints one line

    def progress(n: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(total, 1), file=sys.stderr,
                                    label="Checking" if dry_run else "Importing")  # fmt: skip
            bar.__enter__()
        bar.update(n - bar.pos)

    try:
        with open_registry(vault) as registry:
            outcome = import_file(registry, file, mapping=mapping, dry_run=dry_run,
                                  case_id=case_id, progress=progress)  # fmt: skip
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    problems = [p.to_dict() for p in outcome.problems]
    if report_file is not None:
        fmt = report_format or {".json": "json", ".csv": "csv"}.get(
            report_file.suffix.lower(), "table"
        )
        text = (_table(problems) + summary_line(outcome) + "\n") if fmt == "table" else (
            render_report(outcome, fmt))  # fmt: skip
        report_file.write_text(text, encoding="utf-8")
    elif problems:
        click.echo(_table(problems), err=True, nl=False)
    click.echo(summary_line(outcome) + (" (dry run: nothing stored)" if dry_run else ""))
    if outcome.problems:
        raise SystemExit(3)


@click.command("import")
@vault_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@mapping_options
@handle_errors
def import_(
    vault: Path, file: Path, mapping_file: Path | None, map_specs: tuple[str, ...],
    dry_run: bool, case_id: str | None, report_file: Path | None, report_format: str | None,
) -> None:  # fmt: skip
    """Import incident records (CSV, JSON, JSON Lines) or restore an archive.

    Records: each row is stored whole or not at all; every bad row is reported with its row,
    line, field and reason, the good ones are stored (exit code 3 if any was rejected).

    An archive made by 'amparo export --archive' restores into an empty vault only (made
    with 'amparo init'); the archive passphrase comes from AMPARO_EXPORT_PASSPHRASE or the
    prompt. The vault then holds the archived registry and keys, keeps its own passphrase
    and gets a new recovery code, printed once.
    """
    with file.open("rb") as handle:
        is_archive = handle.read(len(ARCHIVE_MAGIC)) == ARCHIVE_MAGIC
    if not is_archive:
        import_records(vault, file, mapping_file, map_specs, dry_run, case_id, report_file,
                       report_format)  # fmt: skip
        return
    if mapping_file or map_specs or dry_run or case_id or report_file:
        raise click.UsageError("an archive restores whole: mapping, dry run, case and report "
                               "options are for record files")  # fmt: skip
    from amparo.services.archive import import_archive

    vault_passphrase = passphrase_from_env_or_prompt()
    with open_registry(vault, vault_passphrase) as registry:
        secret = _secret("AMPARO_EXPORT_PASSPHRASE", "Archive passphrase")
        click.echo("Checking the archive, then restoring...", err=True)
        result = import_archive(registry, file, secret, vault_passphrase)
    counts = result.summary
    click.echo(f"restored {sum(counts.tables.values())} rows in {len(counts.tables)} tables "
               f"and {counts.files} files from vault {result.source_vault_id}")  # fmt: skip
    click.echo("New recovery code (write it down now; it is shown only once):", err=True)
    click.echo(result.recovery_code)


@click.command("export")
@vault_option
@click.option(
    "--archive",
    "archive_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the whole registry, keys included, as an encrypted archive.",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a flat, pseudonymised CSV of incidents for a partner.",
)
@click.option(
    "--pseudonymise",
    default="defenders,incidents,cases",
    show_default=True,
    help="What to replace by keyed pseudonyms: defenders, places, incidents, cases "
    "(comma-separated; 'none' for nothing).",
)
@click.option(
    "--salt-from-passphrase",
    is_flag=True,
    help="Derive the pseudonym key from a passphrase (AMPARO_PSEUDONYM_PASSPHRASE or "
    "prompt), so exports made with it can be linked; default: a fresh key.",
)
@click.option(
    "--dates",
    type=click.Choice(("exact", "month", "year")),
    default="month",
    show_default=True,
    help="Keep dates to this precision.",
)
@click.option(
    "--places",
    type=click.Choice(("exact", "region", "country")),
    default="region",
    show_default=True,
    help="Keep places down to this level.",
)
@click.option(
    "--free-text",
    type=click.Choice(("drop", "keep")),
    default="drop",
    show_default=True,
    help="Titles, narratives and victim descriptions.",
)
@click.option(
    "--ignore-consent",
    is_flag=True,
    help="Include incidents against defenders without a current consent to sharing "
    "with partners (left out by default; the audit entry says so).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@handle_errors
def export(
    vault: Path, archive_file: Path | None, csv_file: Path | None, pseudonymise: str,
    salt_from_passphrase: bool, dates: str, places: str, free_text: str,
    ignore_consent: bool, force: bool,
) -> None:  # fmt: skip
    """Export the registry: an encrypted archive (--archive) or a partner CSV (--csv).

    Both unlock the vault afresh with its passphrase (re-authentication) and are audited. The
    archive passphrase comes from AMPARO_EXPORT_PASSPHRASE or the prompt (asked twice); keep
    it apart from the archive: with it, the archive opens every record.
    """
    if (archive_file is None) == (csv_file is None):
        raise click.UsageError("give exactly one of --archive FILE or --csv FILE")
    out = archive_file or csv_file
    assert out is not None
    if out.exists() and not force:
        raise click.UsageError(f"{out} exists (use --force to overwrite)")
    with open_registry(vault) as registry:
        if archive_file is not None:
            from amparo.services.archive import export_archive

            secret = _secret("AMPARO_EXPORT_PASSPHRASE", "Archive passphrase", confirm=True)
            summary = export_archive(
                registry, archive_file, secret,
                progress=lambda table, n: click.echo(f"  {table}: {n} rows", err=True),
            )  # fmt: skip
            click.echo(f"archive of {sum(summary.tables.values())} rows and {summary.files} "
                       f"files written to {archive_file}")  # fmt: skip
            return
        assert csv_file is not None
        _partner_csv(registry, csv_file, pseudonymise, salt_from_passphrase, dates, places,
                     free_text, ignore_consent)  # fmt: skip


def _partner_csv(
    registry: Any, out: Path, pseudonymise: str, salted: bool, dates: str, places: str,
    free_text: str, ignore_consent: bool,
) -> None:  # fmt: skip
    import secrets

    from amparo.services.partner_export import PartnerOptions, PartnerStats, partner_csv

    kinds = frozenset(k.strip() for k in pseudonymise.split(",") if k.strip() not in ("", "none"))
    salt = _secret("AMPARO_PSEUDONYM_PASSPHRASE", "Pseudonym passphrase", confirm=True) if (
        salted) else None  # fmt: skip
    options = PartnerOptions(pseudonymise=kinds, dates=dates, places=places,
                             free_text=free_text, salt_passphrase=salt,
                             ignore_consent=ignore_consent)  # fmt: skip
    stats = PartnerStats()
    options.check()
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for chunk in partner_csv(registry, options, stats=stats):
                handle.write(chunk)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    withheld = f"; {stats.withheld} withheld (no consent to sharing)" if stats.withheld else ""
    click.echo(f"{stats.written} incidents written to {out}{withheld}")
