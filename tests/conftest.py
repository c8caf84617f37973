"""Isolated vaults per test, on SQLite by default or PostgreSQL when
AMPARO_TEST_DATABASE_URL is set (a fresh database per test, cloned from a migrated template
made once per run, so parallel or repeated runs never collide)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.clock import Clock
from amparo.registry import Registry
from amparo.security.kdf import KdfParams
from amparo.vault import init_vault

PASSPHRASE = "correct horse battery staple"
# Argon2id's minimum cost: the floor is for real vaults, tests only exercise the code path.
CHEAP_KDF = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PG_URL = os.environ.get("AMPARO_TEST_DATABASE_URL")


def pytest_report_header() -> str:
    return f"amparo backend: {'postgresql' if PG_URL else 'sqlite'}"


class PostgresDatabases:
    """Creates throw-away databases on the server named by AMPARO_TEST_DATABASE_URL."""

    def __init__(self, url: str) -> None:
        self.admin_url = sa.make_url(url).set(drivername="postgresql+psycopg")
        self.prefix = f"amparo_t_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []
        self.template = f"{self.prefix}_tmpl"
        self._execute(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        from amparo.store.engine import Store

        store = Store(self.url_for(self.template))
        store.migrate()
        store.close()

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def new(self, empty: bool = False) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        template = "template0" if empty else self.template
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in reversed(self.created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases | None]:
    if not PG_URL:
        yield None
        return
    databases = PostgresDatabases(PG_URL)
    yield databases
    databases.close()


@pytest.fixture
def database_url(postgres: PostgresDatabases | None) -> Iterator[str | None]:
    """None means the vault's own SQLite file."""
    if postgres is None:
        yield None
        return
    url = postgres.new()
    yield url
    postgres.drop(url)


@pytest.fixture
def empty_database_url(postgres: PostgresDatabases | None, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    if postgres is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = postgres.new(empty=True)
    yield url
    postgres.drop(url)


@pytest.fixture
def vault_dir(tmp_path: Path, database_url: str | None) -> Path:
    vault = tmp_path / "vault"
    init_vault(vault, PASSPHRASE, database_url=database_url, kdf=CHEAP_KDF)
    return vault


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def registry(vault_dir: Path, clock: Clock) -> Iterator[Registry]:
    reg = Registry.open(vault_dir, PASSPHRASE, clock=clock, actor="tester")
    yield reg
    reg.close()
