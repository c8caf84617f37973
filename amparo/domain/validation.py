"""Field-by-field checking that collects every problem of a record before refusing it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from amparo.domain.dates import ApproxDate, parse_approx_date, parse_date
from amparo.domain.vocabularies import Vocabularies
from amparo.errors import ValidationError, ValidationErrors

__all__ = ["MAX_LONG_TEXT", "MAX_NAME", "MAX_NOTE", "MAX_SHORT_TEXT", "Checker"]

T = TypeVar("T")

MAX_NAME = 300  # characters; names, titles, aliases
MAX_SHORT_TEXT = 2_000  # contacts, descriptions
MAX_NOTE = 10_000
MAX_LONG_TEXT = 100_000  # narratives: a long testimony, not a book
MAX_LIST = 200  # items in any list of a record


class Checker:
    """Reads a mapping of raw input; remembers errors instead of stopping at the first."""

    def __init__(
        self, data: Mapping[str, Any], vocab: Vocabularies, today: date, prefix: str = ""
    ) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(prefix.rstrip(".") or "record", "must be an object")
        self.data = data
        self.vocab = vocab
        self.today = today
        self.prefix = prefix
        self.errors: list[ValidationError] = []

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _guard(self, fn: Callable[[], T], fallback: T) -> T:
        try:
            return fn()
        except ValidationErrors as many:
            self.errors.extend(many.errors)
        except ValidationError as exc:
            self.errors.append(exc)
        return fallback

    def fail(self, key: str, message: str) -> None:
        self.errors.append(ValidationError(self.name(key), message))

    def unknown_keys(self, allowed: Sequence[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(str(key), "is not a field of this record")

    def text(self, key: str, *, required: bool = False, max_chars: int = MAX_NAME) -> str | None:
        raw = self.data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.fail(key, "is required")
            return None
        if not isinstance(raw, str):
            self.fail(key, "must be text")
            return None
        if "\x00" in raw:
            self.fail(key, "contains a NUL character")
            return None
        if len(raw) > max_chars:
            self.fail(key, f"is too long ({len(raw)} characters; at most {max_chars})")
            return None
        return raw.strip()

    def required_text(self, key: str, max_chars: int = MAX_NAME) -> str:
        return self.text(key, required=True, max_chars=max_chars) or ""

    def texts(self, key: str, *, max_chars: int = MAX_NAME) -> list[str]:
        raw = self.data.get(key)
        if raw is None:
            return []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or len(raw) > MAX_LIST:
            self.fail(key, f"must be a list of at most {MAX_LIST} texts")
            return []
        out = []
        for i, item in enumerate(raw):
            sub = Checker({"v": item}, self.vocab, self.today, f"{self.name(key)}[{i}].")
            value = sub.text("v", max_chars=max_chars)
            for err in sub.errors:
                self.errors.append(ValidationError(f"{self.name(key)}[{i}]", err.message))
            if value:
                out.append(value)
        return out

    def code(
        self, key: str, vocabulary: str, *, required: bool = False, default: str | None = None
    ) -> str | None:
        raw = self.data.get(key)
        if raw is None or raw == "":
            if required and default is None:
                self.fail(key, "is required")
            return default
        if not isinstance(raw, str):
            self.fail(key, "must be a code (text)")
            return default
        value = raw.strip().upper() if vocabulary == "countries" else raw.strip()
        return self._guard(lambda: self.vocab[vocabulary].check(self.name(key), value), default)

    def required_code(self, key: str, vocabulary: str, default: str | None = None) -> str:
        return self.code(key, vocabulary, required=True, default=default) or (default or "")

    def codes(self, key: str, vocabulary: str) -> list[str]:
        raw = self.data.get(key)
        if raw is None:
            return []
        if isinstance(raw, str):
            raw = [part for part in raw.replace(";", ",").split(",") if part.strip()]
        if not isinstance(raw, list):
            self.fail(key, "must be a list of codes")
            return []
        out: list[str] = []
        for i, item in enumerate(raw):
            if not isinstance(item, str):
                self.fail(f"{key}[{i}]", "must be a code (text)")
                continue
            code = self._guard(
                lambda item=item, i=i: self.vocab[vocabulary].check(  # type: ignore[misc]
                    f"{self.name(key)}[{i}]", item.strip()
                ),
                None,
            )
            if code and code not in out:
                out.append(code)
        return out

    def boolean(self, key: str, default: bool = False) -> bool:
        raw = self.data.get(key)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "1", "si", "sí"):
            return True
        if isinstance(raw, str) and raw.strip().lower() in ("false", "no", "0"):
            return False
        self.fail(key, "must be true or false")
        return default

    def integer(
        self, key: str, *, minimum: int, maximum: int, default: int | None = None
    ) -> int | None:
        raw = self.data.get(key)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            self.fail(key, "must be a whole number")
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            self.fail(key, "must be a whole number")
            return default
        if isinstance(raw, float) and raw != value:
            self.fail(key, "must be a whole number")
            return default
        if not minimum <= value <= maximum:
            self.fail(key, f"must be between {minimum} and {maximum}")
            return default
        return value

    def date(self, key: str, *, required: bool = False) -> date | None:
        raw = self.data.get(key)
        if raw is None or raw == "":
            if required:
                self.fail(key, "is required")
            return None
        return self._guard(lambda: parse_date(self.name(key), raw, self.today), None)

    def approx_date(self, key: str, precision: str | None) -> ApproxDate | None:
        raw = self.data.get(key)
        return self._guard(
            lambda: parse_approx_date(self.name(key), raw, self.today, precision), None
        )

    def items(self, key: str) -> list[tuple[int, Mapping[str, Any]]]:
        raw = self.data.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list) or len(raw) > MAX_LIST:
            self.fail(key, f"must be a list of at most {MAX_LIST} objects")
            return []
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                self.fail(f"{key}[{i}]", "must be an object")
            else:
                out.append((i, item))
        return out

    def child(self, key: str, index: int, data: Mapping[str, Any]) -> Checker:
        return Checker(data, self.vocab, self.today, f"{self.name(key)}[{index}].")

    def absorb(self, other: Checker) -> None:
        self.errors.extend(other.errors)

    def raise_if_errors(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ValidationErrors(self.errors)
