"""What every command shares: finding the vault, unlocking it, reporting errors."""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from amparo.errors import (
    AmparoError,
    Conflict,
    Forbidden,
    KeyShredded,
    NotFound,
    ValidationError,
    VaultError,
    WrongPassphrase,
)

__all__ = ["EXIT_CODES", "handle_errors", "open_registry", "passphrase_from_env_or_prompt",
           "vault_option"]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])

# 1 = other failure; 2 is click's usage error; the rest tell scripts what went wrong.
EXIT_CODES: dict[type[AmparoError], int] = {
    ValidationError: 3,
    NotFound: 4,
    WrongPassphrase: 5,
    KeyShredded: 6,
    VaultError: 7,
    Conflict: 8,
    Forbidden: 9,
}


def vault_option(fn: F) -> F:
    return click.option(
        "--vault",
        "vault",
        envvar="AMPARO_VAULT",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help="Vault directory (or set AMPARO_VAULT).",
    )(fn)


def passphrase_from_env_or_prompt(confirm: bool = False, prompt: str = "Vault passphrase") -> str:
    env = os.environ.get("AMPARO_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise VaultError("no passphrase: set AMPARO_PASSPHRASE or run from a terminal")
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def open_registry(vault: Path, passphrase: str | None = None) -> Any:
    """Unlock the vault (with ``passphrase``, or from the environment or the prompt)."""
    from amparo.registry import Registry

    if not (vault / "vault.key").exists():
        raise VaultError(
            f"{vault} is not a vault (no vault.key): run 'amparo init --vault {vault}'"
        )
    secret = passphrase if passphrase is not None else passphrase_from_env_or_prompt()
    return Registry.open(vault, secret, actor=f"cli:{getpass.getuser()}")


def handle_errors(fn: F) -> F:
    """Turn Amparo's errors into one clear line on stderr and a documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AmparoError as exc:
            code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(code) from None
        except json.JSONDecodeError as exc:
            click.echo(f"error: input is not valid JSON: {exc}", err=True)
            raise SystemExit(3) from None

    return wrapper  # type: ignore[return-value]
