"""Time and identifiers, injectable so tests and demo data are reproducible."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime

__all__ = ["Clock", "IdFactory", "new_id", "utc"]

IdFactory = Callable[[], str]


def new_id() -> str:
    """128 random bits as hex: unguessable, and reveals neither time nor volume."""
    return secrets.token_hex(16)


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything Amparo stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Clock:
    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed = fixed

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()
