"""Column mappings: a partner's column names, vocabulary values and date format, ours after.

A mapping file (TOML or JSON) or ``--map`` options say how to read a file someone else made::

    date_format = "%d/%m/%Y"          # their dates; ISO dates are read as they are anyway
    [columns]                         # their column = our field ("" drops the column)
    "Fecha" = "date_start"
    "Tipo de agresión" = "act_type"
    "Observaciones" = ""
    [values.act_type]                 # our field -> their value = our code
    "amenaza" = "A09"

On the command line: ``--map Fecha=date_start`` (a column), ``--map act_type:amenaza=A09`` (a
value of one of our fields) and ``--map date_format=%d/%m/%Y``. Value mappings apply to each
';'-separated part of a cell (CSV) and to the items of a list (JSON), at any depth of a JSON
record, so ``act_type`` is mapped inside ``acts`` too. Matching ignores case and surrounding
spaces.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from amparo.errors import ValidationError

__all__ = ["ColumnMapping"]

DATE_FIELDS = frozenset({"date_start", "date_end", "recorded_on", "started_on", "ended_on"})


def _key(text: str) -> str:
    return text.strip().casefold()


@dataclass(frozen=True)
class ColumnMapping:
    columns: Mapping[str, str] = field(default_factory=dict)  # theirs -> ours ("" = drop)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # ours -> {theirs: ours}
    date_format: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.columns or self.values or self.date_format)

    # -- building -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        """A mapping file, TOML (``.toml``) or JSON; errors name the file and the entry."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(str(path), f"cannot be read: {exc}") from None
        try:
            raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(str(path), f"is not a valid mapping file: {exc}") from None
        if not isinstance(raw, dict):
            raise ValidationError(str(path), "must hold a table/object")
        unknown = set(raw) - {"columns", "values", "date_format"}
        if unknown:
            raise ValidationError(str(path), f"unknown key(s): {', '.join(sorted(unknown))}")
        columns = raw.get("columns", {})
        values = raw.get("values", {})
        date_format = raw.get("date_format")
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise ValidationError(f"{path}: columns", "must map column names to field names")
        if not isinstance(values, dict) or not all(
            isinstance(v, dict) and all(isinstance(a, str) and isinstance(b, str)
                                        for a, b in v.items())
            for v in values.values()
        ):  # fmt: skip
            raise ValidationError(f"{path}: values", "must map a field to {their value: code}")
        if date_format is not None and not isinstance(date_format, str):
            raise ValidationError(f"{path}: date_format", "must be a strptime format string")
        return cls(columns=dict(columns), values=values, date_format=date_format)

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> ColumnMapping:
        """``their=ours``, ``field:their=ours`` or ``date_format=FORMAT``."""
        columns: dict[str, str] = {}
        values: dict[str, dict[str, str]] = {}
        date_format = None
        for spec in specs:
            source, sep, target = spec.partition("=")
            if not sep or not source.strip():
                raise ValidationError("--map", f"{spec!r}: expected SOURCE=TARGET")
            if source.strip() == "date_format":
                date_format = target
            elif ":" in source:
                name, _, value = source.partition(":")
                values.setdefault(name.strip(), {})[value] = target.strip()
            else:
                columns[source] = target.strip()
        return cls(columns=columns, values=values, date_format=date_format)

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries on top (options override the file)."""
        values = {k: dict(v) for k, v in self.values.items()}
        for name, table in other.values.items():
            values.setdefault(name, {}).update(table)
        return ColumnMapping(
            columns={**self.columns, **other.columns}, values=values,
            date_format=other.date_format or self.date_format,
        )  # fmt: skip

    # -- applying -------------------------------------------------------------------------
    def _tables(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        cached = self.__dict__.get("_cache")
        if cached is None:
            cached = (
                {_key(k): v for k, v in self.columns.items()},
                {f: {_key(a): b for a, b in t.items()} for f, t in self.values.items()},
            )
            object.__setattr__(self, "_cache", cached)
        return cached

    def column(self, name: str) -> str | None:
        """Our field for their column name (None: drop it); unmapped names pass through."""
        columns, _ = self._tables()
        target = columns.get(_key(name), name.strip())
        return target or None

    def value(self, field_name: str, text: str) -> str:
        """A cell of one of our fields with their values (each ';' part) turned into ours."""
        _, values = self._tables()
        table = values.get(field_name)
        if table:
            parts = [p.strip() for p in text.split(";")]
            text = ";".join(table.get(_key(p), p) for p in parts)
        if self.date_format and field_name in DATE_FIELDS and text:
            text = self._date(text)
        return text

    def _date(self, text: str) -> str:
        assert self.date_format
        try:
            return datetime.strptime(text.strip(), self.date_format).date().isoformat()
        except ValueError:
            return text  # ISO dates and approximate forms pass; a bad one fails validation

    def record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON record with keys renamed and values mapped at every depth."""
        out: dict[str, Any] = {}
        for key, value in record.items():
            name = self.column(key)
            if name is None:
                continue
            out[name] = self._deep(name, value)
        return out

    def _deep(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            return self.value(name, value)
        if isinstance(value, list):
            return [self._deep(name, v) for v in value]
        if isinstance(value, dict):
            return self.record(value)
        return value
