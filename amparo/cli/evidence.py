"""``amparo evidence``: add files and captures, list, show, custody, export copies, verify."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.errors import ValidationError

__all__ = ["evidence"]

LIST_COLUMNS = ("id", "kind", "name", "media_type", "size", "shared_status", "created_at")
CUSTODY_COLUMNS = ("seq", "at", "actor", "event", "sha256", "shared_sha256", "detail")


def _target_options(fn: Any) -> Any:
    fn = click.option("--incident", "incident_id", help="File it with this incident.")(fn)
    return click.option("--case", "case_id", help="File it in this case.")(fn)


def _read_upload(file: Path) -> bytes:
    from amparo.services.evidence import MAX_EVIDENCE_BYTES

    size = file.stat().st_size
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationError("file", f"'{file.name}' is larger than {MAX_EVIDENCE_BYTES} bytes")
    return file.read_bytes()


def _summary(item: Any) -> None:
    click.echo(item.id)
    click.echo(f"  sha256         {item.sha256}")
    if item.shared_status == "none":
        click.echo("  shared copy    none: Amparo cannot remove metadata from this kind of file")
        return
    click.echo(f"  shared sha256  {item.shared_sha256} ({item.shared_status})")
    if item.metadata_removed:
        click.echo(f"  removed        {', '.join(item.metadata_removed)}")


@click.group()
def evidence() -> None:
    """Evidence files and captures of online content, with their chain of custody.

    The original is kept sealed and never changed; a shared copy has its metadata (GPS,
    camera, author, XMP ...) removed. Every view, download and export is recorded.
    """


@evidence.command("add")
@vault_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_target_options
@click.option("--description", help="What the file shows (stored encrypted).")
@click.option("--name", help="The name to show (default: the file's name).")
@handle_errors
def add(
    vault: Path, file: Path, case_id: str | None, incident_id: str | None,
    description: str | None, name: str | None,
) -> None:  # fmt: skip
    """Store an evidence file; prints its id, hashes and what the shared copy lost."""
    data = _read_upload(file)
    with open_registry(vault) as registry:
        item = registry.evidence.add(case_id, name or file.name, data, incident_id=incident_id,
                                     description=description)  # fmt: skip
    _summary(item)


@evidence.command("capture")
@vault_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--url", required=True, help="The address of the captured content.")
@click.option(
    "--captured-at",
    required=True,
    help="When you captured it, ISO 8601 (2026-10-31T14:05:00-05:00; no zone = UTC).",
)
@_target_options
@click.option("--note", help="A note about the capture (stored encrypted).")
@handle_errors
def capture(
    vault: Path, file: Path, url: str, captured_at: str, case_id: str | None,
    incident_id: str | None, note: str | None,
) -> None:  # fmt: skip
    """Store your screenshot or saved page of online content (Amparo fetches nothing)."""
    try:
        when = datetime.fromisoformat(captured_at)
    except ValueError:
        raise ValidationError("captured_at", "is not an ISO 8601 date and time") from None
    data = _read_upload(file)
    with open_registry(vault) as registry:
        item = registry.evidence.add_capture(case_id, url, when, file.name, data,
                                             incident_id=incident_id, note=note)  # fmt: skip
    _summary(item)


@evidence.command("list")
@vault_option
@_target_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def list_(vault: Path, case_id: str | None, incident_id: str | None, fmt: str) -> None:
    """List evidence items, oldest first."""
    with open_registry(vault) as registry:
        items = registry.evidence.list(case_id=case_id, incident_id=incident_id)
    click.echo(render([i.to_dict() for i in items], fmt, LIST_COLUMNS), nl=False)


@evidence.command("show")
@vault_option
@click.argument("evidence_id")
@handle_errors
def show(vault: Path, evidence_id: str) -> None:
    """Show one item as JSON: name, type, hashes, what was removed, URL of a capture."""
    with open_registry(vault) as registry:
        item = registry.evidence.get(registry.evidence.resolve(evidence_id))
    click.echo(json.dumps(item.to_dict(), ensure_ascii=False, indent=2))


@evidence.command("custody")
@vault_option
@click.argument("evidence_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def custody(vault: Path, evidence_id: str, fmt: str) -> None:
    """The chain of custody: who added, viewed, downloaded, exported or verified it, when,
    with the hashes of both copies."""
    with open_registry(vault) as registry:
        entries = registry.evidence.custody(registry.evidence.resolve(evidence_id))
    click.echo(render([e.to_dict() for e in entries], fmt, CUSTODY_COLUMNS), nl=False)


def _export(vault: Path, evidence_id: str, out: Path, force: bool, copy: str) -> None:
    # The file first: an export that cannot be written must not be recorded as done.
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(out, flags, 0o600)
    except FileExistsError:
        raise ValidationError("out", f"{out} exists: choose another name or --force") from None
    try:
        with os.fdopen(fd, "wb") as handle, open_registry(vault) as registry:
            content = registry.evidence.export(registry.evidence.resolve(evidence_id), copy)
            handle.write(content.data)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    click.echo(f"{copy} copy of {content.evidence_id} ({len(content.data)} bytes, sha256 "
               f"{content.sha256}) written to {out}")  # fmt: skip


_OUT = click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                    help="Where to write it (created private to you).")  # fmt: skip
_FORCE = click.option("--force", is_flag=True, help="Overwrite the file if it exists.")


@evidence.command("export-shared")
@vault_option
@click.argument("evidence_id")
@_OUT
@_FORCE
@handle_errors
def export_shared(vault: Path, evidence_id: str, out: Path, force: bool) -> None:
    """Write the shared copy (metadata removed) to a file."""
    _export(vault, evidence_id, out, force, "shared")


@evidence.command("export-original")
@vault_option
@click.argument("evidence_id")
@_OUT
@_FORCE
@handle_errors
def export_original(vault: Path, evidence_id: str, out: Path, force: bool) -> None:
    """Write the original, metadata and all (GPS, camera, author), to a file."""
    _export(vault, evidence_id, out, force, "original")


@evidence.command("verify")
@vault_option
@click.argument("evidence_id")
@handle_errors
def verify(vault: Path, evidence_id: str) -> None:
    """Re-hash both copies against intake and check the custody chain; exit 1 if broken."""
    with open_registry(vault) as registry:
        report = registry.evidence.verify(registry.evidence.resolve(evidence_id))
    if not report.ok:
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"ok: {report.evidence_id} matches its intake hashes; custody chain intact")
