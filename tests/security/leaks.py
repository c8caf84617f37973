"""Helpers for looking for plaintext at rest: in vault files and in database rows."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from amparo.store import schema


def new_canary(word: str = "") -> str:
    """A token that cannot appear by chance: CANARY + random hex (+ an accented word)."""
    return f"CANARY{secrets.token_hex(6)}{word}"


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def forms(canary: str) -> set[bytes]:
    """Every byte form in which a leaked canary could plausibly sit on disk."""
    texts = {
        canary,
        canary.lower(),
        canary.upper(),
        canary.casefold(),
        strip_accents(canary),
        strip_accents(canary).lower(),
        unicodedata.normalize("NFC", canary),
        unicodedata.normalize("NFD", canary),
        json.dumps(canary)[1:-1],  # \u00e9 escapes
        json.dumps(canary.lower())[1:-1],
    }
    out: set[bytes] = set()
    for text in texts:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            out.add(text.encode(encoding))
    # The random part alone (the unmistakable core) in ASCII and UTF-16.
    core = canary[: len("CANARY") + 12]
    for text in {core, core.lower()}:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            out.add(text.encode(encoding))
    return out


def lean_forms(text: str) -> set[bytes]:
    """Fewer forms, for checking many strings (names) quickly."""
    texts = {text, text.lower(), strip_accents(text).lower()}
    return {t.encode(e) for t in texts for e in ("utf-8", "utf-16-le")}


def hits(blob: bytes, canaries: Iterable[str], *, lean: bool = False) -> list[str]:
    """Canaries (with the form found) present in ``blob``."""
    found = []
    for canary in canaries:
        for form in lean_forms(canary) if lean else forms(canary):
            if form in blob:
                found.append(f"{canary!r} as {form!r}")
                break
    return found


_CORE = re.compile(rb"canary([0-9a-f]{12})")
_CORE_UTF16 = re.compile(rb"c\x00a\x00n\x00a\x00r\x00y\x00((?:[0-9a-f]\x00){12})")


def canary_cores(blob: bytes) -> set[str]:
    """The random part of every canary-looking token in ``blob`` (UTF-8 or UTF-16, any case).

    Every canary starts with an ASCII core, ``CANARY`` + 12 hex digits, that case folding,
    accent stripping, NFD and JSON escaping leave intact; so finding the cores (in a lowered
    copy of the blob, as UTF-8 or UTF-16 LE/BE) finds the canary in all of those forms, in one
    pass whatever the number of canaries. ``test_detector_sees_every_form`` checks this.
    """
    lowered = blob.lower()
    cores = {m.group(1).decode() for m in _CORE.finditer(lowered)}
    cores |= {m.group(1)[::2].decode() for m in _CORE_UTF16.finditer(lowered)}
    return cores


def core_of(canary: str) -> str:
    return canary[len("CANARY") : len("CANARY") + 12].lower()


def open_files_of_this_process() -> dict[str, bytes]:
    """Regular files this process holds open, deleted ones (SQLite temp files) included."""
    out = {}
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():  # pragma: no cover - not Linux
        return out
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
            if not stat.S_ISREG(fd.stat().st_mode) or not target.startswith("/"):
                continue
            with open(fd, "rb") as handle:
                out[target] = handle.read()
        except OSError:
            continue
    return out


def vault_files(vault_dir: Path) -> dict[Path, bytes]:
    """Every regular file under the vault directory, recursively, with its bytes."""
    out = {}
    for root, _dirs, names in os.walk(vault_dir):
        for name in names:
            path = Path(root) / name
            if path.is_file():
                out[path] = path.read_bytes()
    return out


def files_with_canaries(files: dict[Path, bytes], canaries: Iterable[str]) -> dict[str, list[str]]:
    canaries = list(canaries)
    return {str(path): found for path, data in files.items() if (found := hits(data, canaries))}


def _engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        # Read-only, so looking never changes the file under test.
        parsed = sa.make_url(f"sqlite+pysqlite:///file:{parsed.database}?mode=ro&uri=true")
    return sa.create_engine(parsed, poolclass=NullPool)


def database_dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema (plus alembic's), sorted, for comparisons."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            out = {}
            for name in sorted(names):
                table = schema.metadata.tables.get(name)
                if table is None:
                    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                rows = [tuple(r) for r in conn.execute(sa.select(table))]
                out[name] = sorted(rows, key=repr)
            return out
    finally:
        engine.dispose()


def database_bytes(url: str) -> bytes:
    """All values of all tables concatenated: what a dump of the database would hold."""
    parts: list[bytes] = []
    for name, rows in database_dump(url).items():
        parts.append(name.encode())
        for row in rows:
            for value in row:
                if value is None:
                    continue
                if isinstance(value, bytes | bytearray | memoryview):
                    parts.append(bytes(value))
                else:
                    parts.append(str(value).encode("utf-8"))
    return b"\x00".join(parts)


def is_sqlite(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def search_index(conn: sa.Connection) -> dict[str, set[bytes]]:
    """The blind-index tokens stored for each indexed record (``search_docs``)."""
    t = schema.search_docs
    return {
        # Space-separated hex on SQLite, a text array on PostgreSQL.
        str(entity_id): {
            bytes.fromhex(h) for h in (tokens.split() if isinstance(tokens, str) else tokens)
        }
        for entity_id, tokens in conn.execute(sa.select(t.c.entity_id, t.c.tokens))
    }
