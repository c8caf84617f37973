"""Resolve the short id prefixes people type (like git) to full record ids."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.errors import NotFound, ValidationError

__all__ = ["MIN_PREFIX", "resolve_prefix"]

MIN_PREFIX = 6


def resolve_prefix(conn: Connection, table: sa.FromClause, prefix: str, what: str) -> str:
    text = prefix.strip().lower()
    if not text or any(ch not in "0123456789abcdef" for ch in text):
        raise ValidationError("id", f"'{prefix}' is not a {what} id")
    if len(text) == 32:
        return text
    if len(text) < MIN_PREFIX:
        raise ValidationError("id", f"give at least {MIN_PREFIX} characters of the {what} id")
    rows = conn.execute(
        sa.select(table.c.id).where(table.c.id.startswith(text, autoescape=True)).limit(2)
    ).all()
    if not rows:
        raise NotFound(f"no {what} with id starting '{text}'")
    if len(rows) > 1:
        raise ValidationError("id", f"'{text}' matches several {what}s: give more characters")
    return str(rows[0][0])
