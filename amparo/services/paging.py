"""Sorting and keyset ("cursor") paging shared by the record listings.

A page ends at its last row's (sort value, id); the next page starts strictly after it, so
paging stays fast at any depth and never skips or repeats a row when records are added
meanwhile (an OFFSET would do both).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from amparo.errors import ValidationError

__all__ = ["SortKey", "after_value", "apply_sort", "parse_sort"]

SortKey = tuple[str, bool]  # (name, descending)


def parse_sort(text: str, columns: Mapping[str, sa.ColumnElement[Any]]) -> SortKey:
    """``"-date"`` -> ("date", True). Unknown names are a ValidationError on ``sort``."""
    descending = text.startswith("-")
    name = text.lstrip("-+")
    if name not in columns:
        raise ValidationError("sort", f"must be one of {', '.join(sorted(columns))}, "
                              "optionally prefixed by '-' for descending")  # fmt: skip
    return name, descending


def after_value(column: sa.ColumnElement[Any], raw: str | None) -> Any:
    """The typed form of a cursor's sort value, so comparisons use the column's type."""
    if raw is None:
        return None
    python_type: Any = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return raw
    try:
        if python_type is datetime:
            return datetime.fromisoformat(raw)
        if python_type is date:
            return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("cursor", "is not a cursor this listing gave out") from None
    return raw


def apply_sort(
    stmt: sa.Select[Any],
    column: sa.ColumnElement[Any],
    id_column: sa.ColumnElement[Any],
    descending: bool,
    after: tuple[str | None, str] | None,
) -> sa.Select[Any]:
    """ORDER BY column, id (both one direction) and, given a cursor, rows strictly after it.

    NULL sort values (a defender without a country) sort as the empty string.
    """
    key = sa.func.coalesce(column, "") if column.nullable else column
    if after is not None:
        raw, last_id = after
        if raw is None and not column.nullable:  # only a NULL column gives out None
            raise ValidationError("cursor", "is not a cursor this listing gave out")
        value = after_value(column, raw) if raw is not None else ""
        if descending:
            stmt = stmt.where(sa.or_(key < value, sa.and_(key == value, id_column < last_id)))
        else:
            stmt = stmt.where(sa.or_(key > value, sa.and_(key == value, id_column > last_id)))
    if descending:
        return stmt.order_by(key.desc(), id_column.desc())
    return stmt.order_by(key.asc(), id_column.asc())
