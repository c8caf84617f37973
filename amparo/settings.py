"""Settings of one vault, read from ``<vault>/amparo.toml`` and the environment, never at import.

A vault directory holds the key file, the settings file, the SQLite database (unless the
settings point at PostgreSQL) and encrypted files. Environment: ``AMPARO_VAULT`` names the
vault directory, ``AMPARO_PASSPHRASE`` unlocks it without a prompt, ``AMPARO_DATABASE_URL``
chooses the database at ``init``.

Protection work reads, from the same file: ``public_url`` (links in notifications),
``risk_cutpoints = [medium, high, extreme]`` (index cut-points of the risk bands) and an
``[smtp]`` table (``host``, ``port``, ``from``, ``starttls``, ``username``; the password only
from ``AMPARO_SMTP_PASSWORD``). Without an SMTP host, e-mails wait in the outbox.

Secure intake reads ``intake_form``: the path of the public report form (default
``"/report"``), or ``false`` to switch the form off (the intake API stays, for partners).

Scheduled backups read a ``[backup]`` table: ``directory`` (where; no scheduled backups
without it), ``keep`` (the newest kept, default 7), ``daily`` and ``weekly`` (also keep the
newest of that many latest days and ISO weeks, default 0) and ``schedule`` (cron, default
``"0 3 * * *"``). See docs/backups.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    public_url: str = "http://127.0.0.1:8000"
    risk_cutpoints: tuple[float, float, float] = (0.25, 0.6, 1.2)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "amparo@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    intake_form: str | None = "/report"  # the public report form's path; None: switched off
    backup_dir: Path | None = None  # scheduled backups go here; None: no scheduled backups
    backup_keep: int = 7
    backup_daily: int = 0
    backup_weekly: int = 0
    backup_schedule: str = "0 3 * * *"  # cron, in the worker's time zone

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
        unknown = set(data) - {"database_url", "language", "public_url", "risk_cutpoints", "smtp",
                               "intake_form", "backup"}  # fmt: skip
        if unknown:
            raise VaultError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        url = str(data.get("database_url") or cls.default_database_url(vault_dir))
        smtp = data.get("smtp") or {}
        cuts = data.get("risk_cutpoints") or (0.25, 0.6, 1.2)
        try:
            if not isinstance(smtp, dict) or set(smtp) - {"host", "port", "from", "starttls",
                                                          "username"}:  # fmt: skip
                raise ValueError("[smtp] takes host, port, from, starttls, username")
            if not isinstance(cuts, list | tuple) or len(cuts) != 3:
                raise ValueError("risk_cutpoints is a list of three numbers")
            medium, high, extreme = (float(x) for x in cuts)
            if not 0 < medium < high < extreme:
                raise ValueError("risk_cutpoints must rise: 0 < medium < high < extreme")
            port = int(smtp.get("port", 25))
            intake_form = _intake_form(data.get("intake_form", "/report"))
            backup = _backup(data.get("backup") or {}, vault_dir)
        except (TypeError, ValueError) as exc:
            raise VaultError(f"{path}: {exc}") from None
        return cls(
            vault_dir=vault_dir,
            database_url=url,
            language=str(data.get("language") or env.get("AMPARO_LANGUAGE") or "en"),
            public_url=str(data.get("public_url") or env.get("AMPARO_PUBLIC_URL")
                           or "http://127.0.0.1:8000").rstrip("/"),
            risk_cutpoints=(medium, high, extreme),
            smtp_host=str(smtp["host"]) if smtp.get("host") else None,
            smtp_port=port,
            smtp_from=str(smtp.get("from") or "amparo@localhost"),
            smtp_starttls=bool(smtp.get("starttls", False)),
            smtp_username=str(smtp["username"]) if smtp.get("username") else None,
            smtp_password=env.get("AMPARO_SMTP_PASSWORD") or None,
            intake_form=intake_form,
            **backup,
        )  # fmt: skip

    def save(self) -> None:
        from amparo.security.keyfile import write_atomically

        lines = ["# Amparo vault settings"]
        if self.database_url != self.default_database_url(self.vault_dir):
            lines.append(f'database_url = "{_toml_escape(self.database_url)}"')
        lines.append(f'language = "{_toml_escape(self.language)}"')
        if self.public_url != "http://127.0.0.1:8000":
            lines.append(f'public_url = "{_toml_escape(self.public_url)}"')
        if self.risk_cutpoints != (0.25, 0.6, 1.2):
            lines.append(f"risk_cutpoints = [{', '.join(str(x) for x in self.risk_cutpoints)}]")
        if self.intake_form != "/report":
            form = f'"{_toml_escape(self.intake_form)}"' if self.intake_form else "false"
            lines.append(f"intake_form = {form}")
        if self.backup_dir is not None:
            lines += ["", "[backup]", f'directory = "{_toml_escape(str(self.backup_dir))}"',
                      f"keep = {self.backup_keep}", f"daily = {self.backup_daily}",
                      f"weekly = {self.backup_weekly}",
                      f'schedule = "{_toml_escape(self.backup_schedule)}"']  # fmt: skip
        if self.smtp_host:
            lines += ["", "[smtp]", f'host = "{_toml_escape(self.smtp_host)}"',
                      f"port = {self.smtp_port}", f'from = "{_toml_escape(self.smtp_from)}"',
                      f"starttls = {'true' if self.smtp_starttls else 'false'}"]  # fmt: skip
            if self.smtp_username:
                lines.append(f'username = "{_toml_escape(self.smtp_username)}"')
        write_atomically(self.vault_dir / SETTINGS_FILE, ("\n".join(lines) + "\n").encode())


def _intake_form(value: object) -> str | None:
    """A path of letters, digits, '-', '_' and '/', not under a path Amparo uses itself."""
    if value is False:
        return None
    text = str(value)
    reserved = ("/api", "/static", "/login", "/c/", "/checkin", "/intake")
    if (not text.startswith("/") or len(text) > 100 or text == "/"
            or not all(ch.isalnum() or ch in "-_/" for ch in text)
            or any(text == r.rstrip("/") or text.startswith(r.rstrip("/") + "/")
                   for r in reserved)):  # fmt: skip
        raise ValueError('intake_form is a path such as "/report", or false')
    return text.rstrip("/")


def _backup(table: object, vault_dir: Path) -> dict[str, Any]:
    """The ``[backup]`` table as Settings fields; a relative directory is the vault's."""
    if not isinstance(table, dict) or set(table) - {"directory", "keep", "daily", "weekly",
                                                    "schedule"}:  # fmt: skip
        raise ValueError("[backup] takes directory, keep, daily, weekly, schedule")
    out: dict[str, Any] = {}
    if table.get("directory"):
        directory = Path(str(table["directory"])).expanduser()
        out["backup_dir"] = directory if directory.is_absolute() else vault_dir / directory
    for name, low in (("keep", 1), ("daily", 0), ("weekly", 0)):
        if name in table:
            value = table[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"[backup] {name} is a whole number, at least {low}")
            out[f"backup_{name}"] = value
    if "schedule" in table:
        schedule = str(table["schedule"])
        if len(schedule.split()) not in (5, 6):
            raise ValueError('[backup] schedule is a cron expression such as "0 3 * * *"')
        out["backup_schedule"] = schedule
    return out


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
