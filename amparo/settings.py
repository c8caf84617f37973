"""Settings of one vault, read from ``<vault>/amparo.toml`` and the environment, never at import.

A vault directory holds the key file, the settings file, the SQLite database (unless the
settings point at PostgreSQL) and encrypted files. Environment: ``AMPARO_VAULT`` names the
vault directory, ``AMPARO_PASSPHRASE`` unlocks it without a prompt, ``AMPARO_DATABASE_URL``
chooses the database at ``init``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from amparo.errors import VaultError

__all__ = ["KEY_FILE", "SETTINGS_FILE", "Settings"]

KEY_FILE = "vault.key"
SETTINGS_FILE = "amparo.toml"
DB_FILE = "amparo.db"
FILES_DIR = "files"


@dataclass(frozen=True, slots=True)
class Settings:
    vault_dir: Path
    database_url: str
    language: str = "en"

    @property
    def key_file(self) -> Path:
        return self.vault_dir / KEY_FILE

    @property
    def files_dir(self) -> Path:
        return self.vault_dir / FILES_DIR

    @staticmethod
    def default_database_url(vault_dir: Path) -> str:
        return f"sqlite:///{(vault_dir / DB_FILE).resolve()}"

    @classmethod
    def load(cls, vault_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        path = vault_dir / SETTINGS_FILE
        data: dict[str, object] = {}
        if path.exists():
            try:
                data = tomllib.loads(path.read_text("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise VaultError(f"{path}: not valid TOML: {exc}") from None
        unknown = set(data) - {"database_url", "language"}
        if unknown:
            raise VaultError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        url = str(data.get("database_url") or cls.default_database_url(vault_dir))
        return cls(
            vault_dir=vault_dir,
            database_url=url,
            language=str(data.get("language") or env.get("AMPARO_LANGUAGE") or "en"),
        )

    def save(self) -> None:
        from amparo.security.keyfile import write_atomically

        lines = ["# Amparo vault settings"]
        if self.database_url != self.default_database_url(self.vault_dir):
            lines.append(f'database_url = "{_toml_escape(self.database_url)}"')
        lines.append(f'language = "{_toml_escape(self.language)}"')
        write_atomically(self.vault_dir / SETTINGS_FILE, ("\n".join(lines) + "\n").encode())


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
