"""Resolve the short ids people type (the last 8 characters, or a unique beginning)."""

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
    # Ids begin with their creation time, so their last characters tell them apart best;
    # a unique beginning works too.
    for condition in (table.c.id.endswith(text, autoescape=True),
                      table.c.id.startswith(text, autoescape=True)):  # fmt: skip
        rows = conn.execute(sa.select(table.c.id).where(condition).limit(2)).all()
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            raise ValidationError("id", f"'{text}' matches several {what}s: give more characters")
    raise NotFound(f"no {what} with an id ending or starting '{text}'")
