"""``amparo users`` and ``amparo tokens``: output, exit codes, secrets shown once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from click.testing import CliRunner, Result

from amparo.cli.main import cli
from amparo.registry import Registry
from amparo.security import passwords, totp
from tests.conftest import PASSPHRASE

NEW_PASSWORD = "a perfectly good passphrase"


@pytest.fixture(autouse=True)
def cheap_hashers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "HASHER", cheap)
    monkeypatch.setattr(totp, "RECOVERY_HASHER", cheap)
    yield


def run(vault: Path, *args: str, password: str | None = NEW_PASSWORD) -> Result:
    env: dict[str, str | None] = {
        "AMPARO_PASSPHRASE": PASSPHRASE,
        "AMPARO_VAULT": str(vault),
        "AMPARO_NEW_PASSWORD": password,
        "AMPARO_DATABASE_URL": None,
    }
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def ok(vault: Path, *args: str, **kw: str | None) -> Result:
    result = run(vault, *args, **kw)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    return result.stderr


def users_json(vault: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        ok(vault, "users", "list", "--format", "json").stdout
    )
    return rows


def test_users_add_list_disable_enable(vault_dir: Path) -> None:
    out = ok(vault_dir, "users", "add", "Carolina", "--role", "coordinator",
             "--display-name", "Carolina R.").stdout  # fmt: skip
    assert "carolina (coordinator)" in out and "second factor" in out
    ok(vault_dir, "users", "add", "ana", "--role", "admin")
    rows = users_json(vault_dir)
    assert [(r["username"], r["role"], r["mfa_enrolled"], r["disabled"]) for r in rows] == [
        ("ana", "admin", False, False),
        ("carolina", "coordinator", False, False),
    ]
    assert rows[1]["display_name"] == "Carolina R."
    assert "$argon2" not in json.dumps(rows) and not any("totp" in key for key in rows[0])
    table = ok(vault_dir, "users", "list").stdout
    assert "carolina" in table and "coordinator" in table
    assert "disabled" in ok(vault_dir, "users", "disable", "CAROLINA").stdout
    assert users_json(vault_dir)[1]["disabled"] is True
    ok(vault_dir, "users", "enable", "carolina")
    assert users_json(vault_dir)[1]["disabled"] is False


def test_users_add_errors(vault_dir: Path) -> None:
    assert "password" in error(run(vault_dir, "users", "add", "bea", "--role", "viewer",
                                   password="short"), 3)  # fmt: skip
    assert "password" in error(run(vault_dir, "users", "add", "bea", "--role", "viewer",
                                   password="bea is my name, ok?"), 3)  # fmt: skip
    assert "password" in error(run(vault_dir, "users", "add", "bea", "--role", "viewer",
                                   password=None), 3)  # fmt: skip
    ok(vault_dir, "users", "add", "bea", "--role", "viewer")
    error(run(vault_dir, "users", "add", "BEA", "--role", "viewer"), 8)
    assert run(vault_dir, "users", "add", "cai", "--role", "god").exit_code == 2
    error(run(vault_dir, "users", "disable", "nobody"), 4)
    error(run(vault_dir, "users", "reset-mfa", "nobody"), 4)


def test_reset_mfa(vault_dir: Path, registry: Registry) -> None:
    import pyotp

    ok(vault_dir, "users", "add", "bea", "--role", "documenter")
    user = registry.accounts.get_by_username("bea")
    secret, _, _ = registry.accounts.begin_totp_enrolment(user.id)
    registry.accounts.confirm_totp_enrolment(user.id, pyotp.TOTP(secret).at(registry.clock.now()))
    assert users_json(vault_dir)[0]["mfa_enrolled"] is True
    out = ok(vault_dir, "users", "reset-mfa", "bea").stdout
    assert "enrolment required" in out
    assert users_json(vault_dir)[0]["mfa_enrolled"] is False
    step = registry.accounts.authenticate("bea", NEW_PASSWORD, "192.0.2.1")
    assert step.status == "needs_enrolment"


def test_tokens_create_list_revoke(vault_dir: Path, registry: Registry) -> None:
    ok(vault_dir, "users", "add", "bea", "--role", "documenter")
    created = ok(vault_dir, "tokens", "create", "--user", "bea", "--name", "nightly",
                 "--scope", "write", "--days", "30")  # fmt: skip
    secret = created.stdout.strip()
    assert secret.startswith("amp_") and created.stdout.count("\n") == 1
    assert "shown only once" in created.stderr
    principal = registry.accounts.authenticate_token(secret)
    assert principal is not None and principal.scope == "write"
    listed = ok(vault_dir, "tokens", "list", "--format", "json").stdout
    assert secret not in listed and secret[4:] not in listed
    [row] = json.loads(listed)
    assert (row["user"], row["name"], row["scope"], row["status"]) == (
        "bea", "nightly", "write", "active",
    )  # fmt: skip
    assert "nightly" in ok(vault_dir, "tokens", "list", "--user", "bea").stdout
    ok(vault_dir, "tokens", "revoke", str(row["id"])[-8:])
    assert registry.accounts.authenticate_token(secret) is None
    assert (
        json.loads(ok(vault_dir, "tokens", "list", "--format", "json").stdout)[0]["status"]
        == "revoked"
    )
    error(run(vault_dir, "tokens", "revoke", "abcdef"), 4)
    error(run(vault_dir, "tokens", "revoke", "xyz"), 3)
    error(run(vault_dir, "tokens", "create", "--user", "bea", "--name", "x", "--scope",
              "admin"), 3)  # fmt: skip
    error(run(vault_dir, "tokens", "create", "--user", "nobody", "--name", "x"), 4)
    assert run(vault_dir, "tokens", "create", "--user", "bea", "--name", "x", "--days",
               "400").exit_code == 2  # fmt: skip
