"""``amparo audit``: list entries, verify the chain, export a signed checkpoint."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render

__all__ = ["audit"]

LIST_COLUMNS = ("seq", "at", "actor", "action", "object_type", "object_id", "detail")


@click.group()
def audit() -> None:
    """The tamper-evident audit log: who did what to which record, and when."""


@audit.command("list")
@vault_option
@click.option("--actor", help="Only entries by this actor, e.g. cli:ana.")
@click.option("--action", help="Only this action, e.g. defender.read.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Only entries at or after this UTC time (YYYY-MM-DD[THH:MM:SS]).")  # fmt: skip
@click.option("--object", "object_id", help="Only entries about this record id.")
@click.option("--limit", type=int, help="Only the newest N entries.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def list_(
    vault: Path, actor: str | None, action: str | None, since: datetime | None,
    object_id: str | None, limit: int | None, fmt: str,
) -> None:  # fmt: skip
    """List audit entries, oldest first (never field values)."""
    with open_registry(vault) as registry:
        entries = registry.audit.entries(
            actor=actor, action=action, object_id=object_id, limit=limit,
            since=since.replace(tzinfo=UTC) if since is not None else None,
        )  # fmt: skip
    click.echo(render([e.to_dict() for e in entries], fmt, LIST_COLUMNS), nl=False)


@audit.command("verify")
@vault_option
@click.option("--checkpoint", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Also check the log against a checkpoint exported earlier.")  # fmt: skip
@handle_errors
def verify(vault: Path, checkpoint: Path | None) -> None:
    """Check the hash chain; exit 1 and name the first bad entry if it was tampered with."""
    with open_registry(vault) as registry:
        if checkpoint is not None:
            try:
                doc = json.loads(checkpoint.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                doc = None
            if not isinstance(doc, dict):
                click.echo(f"error: {checkpoint} is not a checkpoint file", err=True)
                raise SystemExit(1)
            result = registry.audit.verify_checkpoint(doc)
        else:
            result = registry.audit.verify()
        if not result.ok:
            if result.first_bad_seq is None:
                click.echo(f"error: {result.reason}", err=True)
            else:
                click.echo(
                    f"first bad entry: seq {result.first_bad_seq}: {result.reason}", err=True
                )
            raise SystemExit(1)
        # Only an intact log gets a new entry: appending to a broken one must not mask it.
        with registry.store.write() as conn:
            registry.audit.record(
                conn, "audit.verify",
                detail={"checked": result.checked, "checkpoint": checkpoint is not None},
            )  # fmt: skip
    click.echo(f"ok: {result.reason}")


@audit.command("export-checkpoint")
@vault_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed checkpoint (keep a copy elsewhere).")  # fmt: skip
@handle_errors
def export_checkpoint(vault: Path, out: Path) -> None:
    """Write a signed checkpoint of the log's head, to detect a rewritten history later."""
    with open_registry(vault) as registry:
        with registry.store.write() as conn:
            registry.audit.record(conn, "audit.export_checkpoint")
        doc = registry.audit.checkpoint()
    data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
    click.echo(f"checkpoint at seq {doc['seq']} written to {out}")
