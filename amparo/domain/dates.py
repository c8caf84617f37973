"""Approximate dates, as documentation really has them.

``"2023-05-14"`` is exact, ``"2023-05"`` has an unknown day, ``"2023"`` an unknown month and
day; any of them may be marked an estimate. The stored date is the first possible day, so
range filters and sorting stay simple, and the precision says how to show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from amparo.errors import ValidationError

__all__ = ["EARLIEST", "ApproxDate", "parse_approx_date", "parse_date"]

EARLIEST = date(1900, 1, 1)  # earlier dates are typing mistakes in this domain
_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, slots=True)
class ApproxDate:
    value: date
    precision: str  # exact | unknown_day | unknown_month | estimate

    def __str__(self) -> str:
        if self.precision == "unknown_month":
            text = f"{self.value.year:04d}"
        elif self.precision == "unknown_day":
            text = f"{self.value.year:04d}-{self.value.month:02d}"
        else:
            text = self.value.isoformat()
        return f"~{text}" if self.precision == "estimate" else text


def _check_range(field: str, value: date, today: date) -> date:
    if value > today:
        raise ValidationError(field, f"{value.isoformat()} is in the future")
    if value < EARLIEST:
        raise ValidationError(field, f"{value.isoformat()} is before {EARLIEST.year}")
    return value


def parse_date(field: str, raw: object, today: date) -> date:
    if isinstance(raw, date):
        return _check_range(field, raw, today)
    if not isinstance(raw, str):
        raise ValidationError(field, "must be a date written YYYY-MM-DD")
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(field, f"'{raw}' is not a real date (YYYY-MM-DD)") from None
    return _check_range(field, value, today)


def parse_approx_date(
    field: str, raw: object, today: date, precision: str | None = None
) -> ApproxDate:
    """Parse YYYY, YYYY-MM or YYYY-MM-DD (a leading '~' marks an estimate)."""
    if isinstance(raw, ApproxDate):
        _check_range(field, raw.value, today)
        return raw
    if isinstance(raw, date):
        return ApproxDate(_check_range(field, raw, today), precision or "exact")
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(field, "is required (YYYY, YYYY-MM or YYYY-MM-DD)")
    text = raw.strip()
    estimate = text.startswith("~")
    match = _PATTERN.match(text.lstrip("~"))
    if not match:
        raise ValidationError(field, f"'{raw}' is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        value = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValidationError(field, f"'{raw}' is not a real date") from None
    implied = "exact" if day else "unknown_day" if month else "unknown_month"
    chosen = "estimate" if estimate else (precision or implied)
    if chosen == "exact" and implied != "exact":
        raise ValidationError(field, f"'{raw}' has no day, so it cannot be exact")
    if chosen not in ("exact", "unknown_day", "unknown_month", "estimate"):
        raise ValidationError(f"{field}_precision", f"unknown precision '{chosen}'")
    # Stored as the first day of the period it names, so the text form round-trips.
    if chosen == "unknown_month":
        value = value.replace(month=1, day=1)
    elif chosen == "unknown_day":
        value = value.replace(day=1)
    _check_range(field, value, today)
    return ApproxDate(value, chosen)
