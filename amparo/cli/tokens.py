"""``amparo tokens``: create, list, revoke API tokens for scripts."""

from __future__ import annotations

from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.services.accounts import MAX_TOKEN_DAYS, TOKEN_SCOPES

__all__ = ["tokens"]

LIST_COLUMNS = ("id", "user", "name", "scope", "status", "expires_at", "last_used_at")


@click.group()
def tokens() -> None:
    """API tokens for scripts: scoped, expiring, revocable."""


@tokens.command("create")
@vault_option
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'nightly export'.")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), default="read", show_default=True)
@click.option("--days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=30, show_default=True,
              help="Days until the token expires.")  # fmt: skip
@handle_errors
def create(vault: Path, username: str, name: str, scope: str, days: int) -> None:
    """Create a token. The secret is printed once, on standard output; store it now."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        token_id, secret = registry.accounts.create_token(user.id, name, scope, days)
    click.echo(f"token {token_id} ({scope}) for {user.username}, expires in {days} days; "
               "the secret below is shown only once", err=True)  # fmt: skip
    click.echo(secret)


@tokens.command("list")
@vault_option
@click.option("--user", "username", help="Only this user's tokens.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def list_(vault: Path, username: str | None, fmt: str) -> None:
    """List tokens (never their secrets)."""
    with open_registry(vault) as registry:
        user_id = None if username is None else registry.accounts.get_by_username(username).id
        rows = [t.to_dict() for t in registry.accounts.list_tokens(user_id)]
    click.echo(render(rows, fmt, LIST_COLUMNS), nl=False)


@tokens.command("revoke")
@vault_option
@click.argument("token_id")
@handle_errors
def revoke(vault: Path, token_id: str) -> None:
    """Revoke a token at once (an id, or its last 8 characters)."""
    with open_registry(vault) as registry:
        full_id = registry.accounts.resolve_token(token_id)
        registry.accounts.revoke_token(full_id)
    click.echo(f"token {full_id} revoked")
