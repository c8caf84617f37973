"""Reading message batches (CSV, JSON, JSON Lines) for triage, whatever their layout.

A batch comes from a platform export, a scraper run by a partner, or a spreadsheet someone
filled in by hand. Each message has ``id, author, created_at, text, url, reply_to,
platform``; only ``text`` is required. Columns are found by their usual names in exports
("full_text", "screen_name", "timestamp"...) or by an explicit mapping (``{"text": "Body"}``).

Nothing in a bad batch stops the good rows: a row that cannot be read is skipped and listed
with its row number, column and reason; a file that cannot be read at all (empty, binary,
no text column) raises :class:`IngestError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "ALIASES",
    "FIELDS",
    "MAX_TEXT_CHARS",
    "IngestError",
    "IngestResult",
    "Message",
    "Skipped",
    "read_messages",
]

FIELDS = ("id", "author", "created_at", "text", "url", "reply_to", "platform")
# Column names of common exports, lower case, for each field (the field's own name first).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "message_id", "post_id", "tweet_id", "id_str", "comment_id", "rewire_id", "uid"),
    "author": ("author", "user", "username", "user_name", "screen_name", "handle", "account",
               "from", "sender", "author_name", "user_screen_name"),
    "created_at": ("created_at", "timestamp", "date", "time", "datetime", "created", "posted_at",
                   "published_at", "created_utc", "date_time"),
    "text": ("text", "full_text", "message", "content", "body", "tweet", "comment", "post",
             "caption", "texto", "mensaje", "contenido"),
    "url": ("url", "link", "permalink", "post_url", "tweet_url", "enlace"),
    "reply_to": ("reply_to", "in_reply_to", "in_reply_to_status_id", "parent_id", "parent",
                 "reply_to_id"),
    "platform": ("platform", "network", "source", "site", "plataforma"),
}  # fmt: skip
MAX_TEXT_CHARS = 20_000  # far above any platform's limit; a longer "message" is not one
MAX_FIELD_CHARS = 2_000
SNIFF_BYTES = 8192
Progress = Callable[[int], None]


class IngestError(ValueError):
    """The whole file cannot be read (nothing was taken from it)."""


@dataclass(frozen=True)
class Message:
    row: int  # 1-based position in the file (CSV: the header is row 1)
    id: str
    text: str
    author: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    reply_to: str | None = None
    platform: str | None = None


@dataclass(frozen=True)
class Skipped:
    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class IngestResult:
    messages: list[Message] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> the file's column


def read_messages(
    source: Path | bytes,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Messages of a CSV, JSON or JSON Lines batch; ``fmt`` from the file's suffix by default.

    ``mapping`` names the file's column for any field (``{"text": "Body"}``); the others are
    found by ALIASES. ``progress`` is called with the number of rows read so far.
    """
    label = name or (str(source) if isinstance(source, Path) else "the batch")
    data = source.read_bytes() if isinstance(source, Path) else source
    fmt = (fmt or _format_from_name(label)).lower()
    if fmt not in ("csv", "json", "jsonl"):
        raise IngestError(f"{label}: unknown format '{fmt}' (csv, json or jsonl)")
    if mapping:
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise IngestError(f"column mapping: unknown field(s) {', '.join(unknown)}; "
                              f"fields are {', '.join(FIELDS)}")  # fmt: skip
    if not data.strip():
        raise IngestError(f"{label}: the file is empty")
    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{label}: this is a binary file, not CSV or JSON text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{label}: the file is UTF-16; save it as UTF-8")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark from spreadsheet programs
    rows = {"csv": _csv_rows, "json": _json_rows, "jsonl": _jsonl_rows}[fmt](data, label)
    result = IngestResult()
    columns: dict[str, str] | None = None
    seen_ids: set[str] = set()
    for count, (row, record) in enumerate(rows, start=1):
        if isinstance(record, Skipped):
            result.skipped.append(record)
            continue
        if columns is None:
            columns = _columns(list(record), mapping or {}, label)
            result.columns = columns
        message = _message(row, record, columns, result.skipped)
        if message is not None:
            if message.id in seen_ids:
                result.skipped.append(Skipped(row, columns.get("id"), f"id '{message.id}' "
                                              "appears earlier in the batch"))  # fmt: skip
            else:
                seen_ids.add(message.id)
                result.messages.append(message)
        if progress is not None and count % 1000 == 0:
            progress(count)
    if columns is None and not result.skipped:
        raise IngestError(f"{label}: no messages in the file")
    return result


def _format_from_name(label: str) -> str:
    suffix = Path(label).suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "txt": "csv", "tsv": "csv"}.get(suffix, suffix or "csv")


RowIterator = Iterator[tuple[int, "dict[str, Any] | Skipped"]]


def _csv_rows(data: bytes, label: str) -> RowIterator:
    text = data.decode("utf-8", errors="surrogateescape")
    sample = text[:SNIFF_BYTES]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    # csv's limit is global: raised only while this file is read, so that an oversized
    # message is read whole and refused by name (row and column) like any other bad cell.
    # Read whole here, not lazily: a generator left unfinished would leave the limit raised
    # (or, for a small file, lowered) for every other reader in the process.
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, len(text) + 1))
    try:
        records = list(_csv_records(reader, label))
    finally:
        csv.field_size_limit(previous)
    yield from records


def _csv_records(reader: Any, label: str) -> RowIterator:
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise IngestError(f"{label}: the header cannot be read as CSV ({exc})") from exc
    names = [h.strip() for h in header]
    if any(_has_surrogates(n) for n in names):
        raise IngestError(f"{label}: the header is not valid UTF-8 text")
    if len(names) != len({n.lower() for n in names}):
        raise IngestError(f"{label}: the header repeats a column name")
    row = 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field larger than the limit, a stray quote at the end
            yield row, Skipped(row, None, f"cannot be read as CSV ({exc})")
            continue
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        if len(cells) > len(names):
            yield row, Skipped(row, None, f"has {len(cells)} cells for {len(names)} columns")
            continue
        record = dict(zip(names, cells, strict=False))
        bad = next((n for n, v in record.items() if _has_surrogates(v)), None)
        if bad is not None:
            yield row, Skipped(row, bad, "is not valid UTF-8 text")
            continue
        yield row, record


def _json_rows(data: bytes, label: str) -> RowIterator:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{label}: not valid UTF-8 at byte {exc.start}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(
            exc, json.JSONDecodeError) else ""  # fmt: skip
        raise IngestError(f"{label}: not valid JSON{where}") from exc
    if isinstance(document, dict):
        found = next((document[k] for k in ("messages", "data", "items", "posts", "tweets")
                      if isinstance(document.get(k), list)), None)  # fmt: skip
        if found is None:
            raise IngestError(f"{label}: a JSON object must hold a list under 'messages'")
        document = found
    if not isinstance(document, list):
        raise IngestError(f"{label}: JSON must be a list of messages (objects)")
    for index, item in enumerate(document, start=1):
        if isinstance(item, dict):
            yield index, item
        else:
            yield index, Skipped(index, None, "is not an object")


def _jsonl_rows(data: bytes, label: str) -> RowIterator:
    for index, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            yield index, Skipped(index, None, "is not valid UTF-8 text")
            continue
        except (json.JSONDecodeError, RecursionError):
            yield index, Skipped(index, None, "is not valid JSON")
            continue
        if isinstance(item, dict):
            yield index, item
        else:
            yield index, Skipped(index, None, "is not a JSON object")


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _columns(names: list[str], mapping: Mapping[str, str], label: str) -> dict[str, str]:
    by_lower = {n.lower().strip(): n for n in names}
    columns: dict[str, str] = {}
    for name, column in mapping.items():
        if column not in names and column.lower() not in by_lower:
            raise IngestError(f"{label}: column mapping names '{column}' for {name}, but the "
                              f"file's columns are {', '.join(names) or 'none'}")  # fmt: skip
        columns[name] = by_lower.get(column.lower(), column)
    for name in FIELDS:
        if name in columns:
            continue
        found = next((by_lower[a] for a in ALIASES[name] if a in by_lower), None)
        if found is not None and found not in columns.values():
            columns[name] = found
    if "text" not in columns:
        raise IngestError(
            f"{label}: no text column (looked for {', '.join(ALIASES['text'])}); the file's "
            f"columns are {', '.join(names) or 'none'}. Name it with a mapping, e.g. "
            "--map text=COLUMN"
        )
    return columns


def _message(
    row: int, record: Mapping[str, Any], columns: Mapping[str, str], skipped: list[Skipped]
) -> Message | None:
    values: dict[str, Any] = {}
    for name, column in columns.items():
        raw = record.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if isinstance(raw, (dict, list, bool)):
            skipped.append(Skipped(row, column, "must be text, not a list, object or boolean"))
            return None
        value = str(raw).strip() if name != "text" else str(raw)
        limit = MAX_TEXT_CHARS if name == "text" else MAX_FIELD_CHARS
        if len(value) > limit:
            skipped.append(Skipped(row, column, f"is longer than {limit:,} characters"))
            return None
        if "\x00" in value:
            skipped.append(Skipped(row, column, "holds a NUL character"))
            return None
        values[name] = value
    if not values.get("text", "").strip():
        skipped.append(Skipped(row, columns["text"], "is empty"))
        return None
    created = None
    if "created_at" in values:
        created = _parse_time(values["created_at"])
        if created is None:
            shown = values["created_at"][:40]
            skipped.append(Skipped(row, columns["created_at"], f"'{shown}' is not a date and time"))
            return None
    return Message(
        row=row, id=values.get("id", f"row-{row}"), text=values["text"],
        author=values.get("author"), created_at=created, url=values.get("url"),
        reply_to=values.get("reply_to"), platform=values.get("platform"),
    )  # fmt: skip


def _parse_time(value: str) -> datetime | None:
    """ISO 8601 (a date alone, or with a time; UTC when no offset), or Unix seconds."""
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        try:
            seconds = float(text)
            if seconds > 1e11:  # milliseconds, as some exports write
                seconds /= 1000
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    for pattern in ("%a %b %d %H:%M:%S %z %Y", "%d/%m/%Y %H:%M", "%d/%m/%Y"):  # Twitter v1, EU
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None
