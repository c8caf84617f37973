"""``amparo backup`` and ``amparo restore``: encrypted online backups of a whole vault."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, passphrase_from_env_or_prompt

__all__ = ["backup", "restore"]


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:
        state = {"done": 0}

        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done

        yield update


def _summary_line(summary: object) -> str:
    from amparo.services.backups import BackupSummary

    assert isinstance(summary, BackupSummary)
    return (
        f"{len(summary.members)} members ({summary.files} evidence files, "
        f"{summary.database} database), {summary.bytes:,} bytes, made {summary.created_at}"
    )


@click.command()
@click.option(
    "--vault",
    envvar="AMPARO_VAULT",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Vault directory (or set AMPARO_VAULT).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (outside the vault; replaced whole if present).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on stderr (default: when stderr is a terminal).",
)
@handle_errors
def backup(vault: Path, out: Path, progress: bool | None) -> None:
    """Write an encrypted backup of the vault (database, key file, settings, evidence files)
    while it stays in use: one file, authenticated, with a manifest of SHA-256 hashes."""
    from amparo.services.backups import create_backup

    show = sys.stderr.isatty() if progress is None else progress
    with open_registry(vault) as registry, _progress("Backing up", show) as update:
        summary = create_backup(registry, out, progress=update)
    click.echo(f"Backup written to {out}: {_summary_line(summary)}.")


@click.command()
@click.argument("backup_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--vault",
    envvar="AMPARO_VAULT",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to restore: a new or empty directory (not needed with --verify-only).",
)
@click.option(
    "--database-url", help="For a PostgreSQL backup: the URL of an empty database to load it into."
)
@click.option(
    "--verify-only",
    is_flag=True,
    help="Check the whole backup (every chunk, every hash) and write nothing.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on stderr (default: when stderr is a terminal).",
)
@handle_errors
def restore(
    backup_file: Path,
    vault: Path | None,
    database_url: str | None,
    verify_only: bool,
    progress: bool | None,
) -> None:
    """Verify a backup whole, then restore it into an empty place (or only verify it).

    Unlock with the passphrase, or the recovery code, that was valid when the backup was made
    (AMPARO_PASSPHRASE or the prompt). A damaged or truncated backup is refused and nothing
    is written.
    """
    from amparo.services.backups import restore_backup, verify_backup

    show = sys.stderr.isatty() if progress is None else progress
    secret = passphrase_from_env_or_prompt(prompt="Passphrase (or recovery code) of the backup")
    if verify_only:
        with _progress("Verifying", show) as update:
            summary = verify_backup(backup_file, secret, progress=update)
        click.echo(f"Backup {backup_file} is intact: {_summary_line(summary)}.")
        return
    if vault is None:
        raise click.UsageError("give --vault (where to restore) or --verify-only")
    with _progress("Verifying, then restoring", show) as update:
        result = restore_backup(
            backup_file,
            vault,
            secret,
            database_url=database_url,
            actor=f"cli:{getpass.getuser()}",
            progress=update,
        )
    click.echo(f"Restored {backup_file} into {result.vault_dir}: {_summary_line(result.summary)}.")
    click.echo(f"Check it with: amparo check --vault {result.vault_dir}")
