"""A vault shared by the read-only tests of one module (building fixtures once is faster)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from amparo.clock import Clock
from amparo.registry import Registry
from amparo.vault import init_vault
from tests.conftest import CHEAP_KDF, NOW, PASSPHRASE, PostgresDatabases


@pytest.fixture(scope="module")
def module_registry(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases | None
) -> Iterator[Registry]:
    """Like ``registry``, but one per test module: only for tests that do not write."""
    url = postgres.new() if postgres else None
    vault = tmp_path_factory.mktemp("shared") / "vault"
    init_vault(vault, PASSPHRASE, database_url=url, kdf=CHEAP_KDF)
    registry = Registry.open(vault, PASSPHRASE, clock=Clock(NOW), actor="tester")
    try:
        yield registry
    finally:
        registry.close()
        if postgres is not None and url:
            postgres.drop(url)
