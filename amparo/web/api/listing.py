"""Cursors, page sizes and field selection, the same for every listing of the API."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from amparo.errors import ValidationError

__all__ = [
    "Cursor",
    "Fields",
    "Limit",
    "Sort",
    "decode_cursor",
    "encode_cursor",
    "page_body",
    "parse_fields",
    "select_fields",
]

MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")]
Cursor = Annotated[
    str | None,
    Query(max_length=400, description="`next_cursor` of the previous page; omit for the first"),
]
Fields = Annotated[
    str | None,
    Query(max_length=1000, description="Comma-separated fields to return, e.g. `id,title`"),
]


def Sort(names: Iterable[str]) -> Any:
    choices = ", ".join(sorted(names))
    return Query(
        max_length=40, pattern=r"^[-+]?[a-z_]+$",
        description=f"One of {choices}; prefix '-' for descending",
    )  # fmt: skip


def encode_cursor(sort: str, value: str | None, record_id: str) -> str:
    """Opaque to clients: the sort it belongs to and the last row's (value, id)."""
    raw = json.dumps([sort, value, record_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_RECORD_ID = re.compile(r"[0-9a-f]{1,32}")


def _storable(text: str) -> bool:
    """Text a database can compare: JSON may escape a NUL or a lone surrogate (\\ud800), which
    PostgreSQL refuses and no UTF-8 encoder takes; a cursor given out never holds one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def decode_cursor(cursor: str | None, sort: str) -> tuple[str | None, str] | None:
    if cursor is None:
        return None
    bad = ValidationError("cursor", "is not a cursor this listing gave out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if (
        not isinstance(data, list)
        or len(data) != 3
        or not isinstance(data[2], str)
        or not _RECORD_ID.fullmatch(data[2])
        or not (data[1] is None or (isinstance(data[1], str) and _storable(data[1])))
    ):
        raise bad
    if data[0] != sort:
        raise ValidationError("cursor", "belongs to another sort order: start again without it")
    return data[1], data[2]


def parse_fields(fields: str | None, model: type[BaseModel]) -> frozenset[str] | None:
    if fields is None or not fields.strip():
        return None
    names = frozenset(name.strip() for name in fields.split(",") if name.strip())
    unknown = sorted(names - set(model.model_fields))
    if unknown:
        shown = ", ".join(unknown[:5])
        raise ValidationError("fields", f"unknown field(s) {shown}; known: "
                              f"{', '.join(model.model_fields)}")  # fmt: skip
    return names


def select_fields(record: Mapping[str, Any], names: frozenset[str] | None) -> dict[str, Any]:
    if names is None:
        return dict(record)
    return {key: value for key, value in record.items() if key in names}


def page_body(
    rows: list[Any], limit: int, sort: str, fields: frozenset[str] | None
) -> dict[str, Any]:
    """``{"items", "next_cursor"}`` from ``limit + 1`` fetched rows (the extra one says
    whether another page exists; rows carry ``id``, ``sort_value`` and ``to_dict()``)."""
    page = rows[:limit]
    more = len(rows) > limit and page
    return {
        "items": [select_fields(row.to_dict(), fields) for row in page],
        "next_cursor": encode_cursor(sort, page[-1].sort_value, page[-1].id) if more else None,
    }
