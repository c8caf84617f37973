"""``amparo report period|dossier`` and ``amparo un-communication``: documents from the vault.

Each writes one file (to a temporary name first, renamed when complete, so a failed run
leaves nothing half-written) and leaves its audit entry through the library.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, vault_option

__all__ = ["report", "un_communication"]

LANGS = click.Choice(["en", "es"])
OUT = click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                   help="File to write (replaced only once the document is complete).")  # fmt: skip


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


def _write(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out`` whole or not at all (private permissions: it may hold names)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {out} ({len(data):,} bytes)", err=True)


@click.group()
def report() -> None:
    """Reports: the period report (counts only) and a case dossier."""


@report.command("period")
@vault_option
@click.option("--from", "date_from", required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last day (YYYY-MM-DD).")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html",
              show_default=True, help="HTML (one self-contained file) or PDF.")  # fmt: skip
@click.option("--crosswalk", default="amparo", show_default=True,
              help="Act type categories: amparo, front_line_defenders, bhrrc, im_defensoras, "
              "sdg_16_10_1 or huridocs.")  # fmt: skip
@click.option("--country", help="Only incidents in this country (ISO code).")
@click.option(
    "--public",
    is_flag=True,
    help="Registry-wide counts with small ones suppressed: the version to publish.",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(5, 1000),
    default=None,
    help="Suppress counts below k (at least 5; implies --public).",
)
@OUT
@handle_errors
def report_period(
    vault: Path, date_from: str, date_to: str, lang: str, fmt: str, crosswalk: str,
    country: str | None, public: bool, k: int | None, out: Path,
) -> None:  # fmt: skip
    """An annual-analysis style report of the acts recorded in a period: headline figures,
    charts with their tables, escalation patterns and the methodology. Counts only."""
    from amparo.reports.period import export_period_report
    from amparo.services.incidents import IncidentFilter

    start, end = _date(date_from, "--from"), _date(date_to, "--to")

    def progress(step: int, steps: int, what: str) -> None:
        click.echo(f"[{step}/{steps}] {what}", err=True)

    with open_registry(vault) as registry:
        data = export_period_report(
            registry, start, end, fmt=fmt, lang=lang, crosswalk=crosswalk, public=public, k=k,
            filters=IncidentFilter(country=country), progress=progress,
        )  # fmt: skip
    _write(out, data)


@report.command("dossier")
@vault_option
@click.argument("case_id")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="pdf",
              show_default=True, help="HTML or PDF.")  # fmt: skip
@click.option("--redact-as", "redact_as",
              type=click.Choice(["viewer", "documenter", "analyst"]),
              help="Write what a reader of this role with a read grant on the case would see "
              "(contact details and confidential records redacted; an analyst sees coded "
              "facets only). Default: everything.")  # fmt: skip
@OUT
@handle_errors
def report_dossier(
    vault: Path, case_id: str, lang: str, fmt: str, redact_as: str | None, out: Path
) -> None:
    """A case's people, incidents and acts, evidence (hashes), risk assessments and plan."""
    from amparo.reports.dossier import export_dossier
    from amparo.security.permissions import Actor

    with open_registry(vault) as registry:
        reader = registry
        if redact_as is not None:
            grants = {} if redact_as == "analyst" else {case_id: "read"}
            actor = Actor(user_id=f"redacted-as-{redact_as}", role=redact_as, grants=grants,
                          mfa_complete=True)  # fmt: skip
            reader = registry.acting_as(actor, f"{registry.actor} as {redact_as}")
        data = export_dossier(reader, case_id, fmt=fmt, lang=lang)
    _write(out, data)


@click.command("un-communication")
@vault_option
@click.argument("case_id")
@click.option("--kind", type=click.Choice(["urgent-appeal", "allegation"]),
              help="Default: an urgent appeal when harm is ongoing or imminent (open urgent "
              "action, High/Extreme risk, an attack in 90 days, detention), else an "
              "allegation letter.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["pdf", "text"]), default="pdf",
              show_default=True, help="PDF or plain text.")  # fmt: skip
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language.")
@click.option("--link-to-work", help="Block B: how the attack is linked to her human rights "
              "work (essential for this mandate; the records do not hold it).")  # fmt: skip
@click.option("--submitted-by", help="Block F: the submitting organisation.")
@OUT
@handle_errors
def un_communication(
    vault: Path, case_id: str, kind: str | None, fmt: str, lang: str,
    link_to_work: str | None, submitted_by: str | None, out: Path,
) -> None:  # fmt: skip
    """Draft a communication to the UN Special Rapporteur on human rights defenders from a
    case, for a person to review. Refused (exit 8, nothing written) without her consent to a
    UN submission; facts still missing are listed on stderr and in the document."""
    from amparo.reports.un_communication import Refused, export_communication

    with open_registry(vault) as registry:
        try:
            result, data = export_communication(
                registry, case_id, kind=kind, fmt=fmt, lang=lang, link_to_work=link_to_work,
                submitted_by=submitted_by,
            )  # fmt: skip
        except Refused as refused:
            click.echo("error: refused: no UN communication without her consent. Missing:",
                       err=True)  # fmt: skip
            for code, text in refused.missing:
                click.echo(f"  {code}  {text}", err=True)
            raise SystemExit(8) from None
    _write(out, data)
    click.echo(f"{result.kind}: {len(result.missing)} fact(s) missing", err=True)
    for code, text in result.missing:
        click.echo(f"  {code}  {text}", err=True)
