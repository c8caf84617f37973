"""Reading incident records from JSON, JSON Lines and CSV files, naming file and row on error.

CSV is the spreadsheet-friendly flat form: one incident per row, one act per code in the
``act_type`` column (separate several with ';'), optional perpetrator and source columns.

:func:`read_records` refuses a file whole at its first fault (for ``incidents add``);
:func:`read_rows` reads what it can and names every row it cannot (for imports): a row with
bytes that are not UTF-8, broken quoting or too many cells is reported and the rows around it
are read as usual, so one bad line in 100,000 costs that line only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amparo.errors import ValidationError
from amparo.services.csv_safety import unescape_cell

if TYPE_CHECKING:
    from amparo.services.import_mapping import ColumnMapping

__all__ = ["CSV_COLUMNS", "RowProblem", "RowsRead", "read_records", "read_rows"]

CSV_INCIDENT_COLUMNS = (
    "title", "narrative", "date_start", "date_precision", "date_end", "country", "region",
    "place", "location_precision", "violation_status", "counting_unit", "confidential",
    "case_id",
)  # fmt: skip
CSV_ACT_COLUMNS = (
    "act_type", "victim_defender_id", "victim_description", "gender_specific",
    "gender_features", "target_relation", "modality", "collective", "people_affected",
    "previously_threatened",
)  # fmt: skip
CSV_OTHER_COLUMNS = ("perpetrator_type", "perpetrator_degree", "source_type", "reliability")
CSV_COLUMNS = CSV_INCIDENT_COLUMNS + CSV_ACT_COLUMNS + CSV_OTHER_COLUMNS
MAX_INPUT_BYTES = 512 * 1024 * 1024


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            str(path), f"is not valid UTF-8 (line {line}, byte {exc.start}); save it as UTF-8"
        ) from None


def read_records(path: Path) -> list[Mapping[str, Any]]:
    """All records of a file, or a ValidationError naming the file (and row) if unreadable."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise ValidationError(str(path), f"is larger than {MAX_INPUT_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read: {exc.strerror}") from None
    text = _decode(path, data)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(_csv_records(path, text))
    if suffix in (".jsonl", ".ndjson"):
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                out.append(_json_object(path, line, n))
        return out
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            str(path), f"is not valid JSON (line {exc.lineno}): {exc.msg}"
        ) from None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        for n, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                raise ValidationError(str(path), "every item must be an object", row=n)
        return value
    raise ValidationError(str(path), "must hold a JSON object or an array of objects")


def _json_object(path: Path, line: str, n: int) -> Mapping[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValidationError(str(path), f"is not valid JSON: {exc.msg}", row=n) from None
    if not isinstance(value, dict):
        raise ValidationError(str(path), "each line must be a JSON object", row=n)
    return value


def _csv_records(path: Path, text: str) -> Iterator[Mapping[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ValidationError(str(path), f"unknown column(s): {', '.join(unknown)}")
    for row in reader:
        if None in row:
            raise ValidationError(str(path), "has more cells than the header", row=reader.line_num)
        yield csv_row_to_record(row)


def csv_row_to_record(row: Mapping[str, str | None]) -> dict[str, Any]:
    def get(key: str) -> str | None:
        value = row.get(key)
        # Amparo's own CSV quotes formula-like cells; a file it wrote reads back unchanged.
        return unescape_cell(value) if value else None

    record: dict[str, Any] = {k: get(k) for k in CSV_INCIDENT_COLUMNS if get(k) is not None}
    act_base: dict[str, Any] = {
        k: get(k) for k in CSV_ACT_COLUMNS if k != "act_type" and get(k) is not None
    }
    perpetrators = [p.strip() for p in (get("perpetrator_type") or "").split(";") if p.strip()]
    if perpetrators:
        record["perpetrators"] = [{"perpetrator_type": p} for p in perpetrators]
        act_base["involvements"] = [
            {"perpetrator": n, "degree": get("perpetrator_degree") or "unknown"}
            for n in range(len(perpetrators))
        ]
    act_types = [a.strip() for a in (get("act_type") or "").split(";") if a.strip()]
    record["acts"] = [{"act_type": a, **act_base} for a in act_types]
    if get("source_type"):
        record["sources"] = [
            {"source_type": get("source_type"), "reliability": get("reliability") or "unknown"}
        ]
    return record


# -- tolerant reading, row by row ---------------------------------------------------------
MAX_CONTINUATION_LINES = 20  # a quoted cell may span lines; an unclosed quote stops here


@dataclass(frozen=True)
class RowProblem:
    row: int  # data row: 1 is the first record after a CSV header, or the first JSON item
    field: str  # our field (dotted for nested ones), or "" for the whole row
    reason: str
    line: int | None = None  # where the row starts in the file (CSV and JSON Lines)

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class RowsRead:
    format: str  # csv | jsonl | json
    records: list[tuple[int, Mapping[str, Any]]] = field(default_factory=list)  # (row, record)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0  # rows seen, good and bad
    lines: dict[int, int] = field(default_factory=dict)  # row -> its first line in the file


def read_rows(path: Path, mapping: ColumnMapping | None = None) -> RowsRead:
    """Every row of a file that can be read, and a problem for every row that cannot.

    Faults of the whole file (unreadable, too large, a bad header, an unknown column, a JSON
    array that does not parse) still raise ValidationError naming the file."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise ValidationError(str(path), f"is larger than {MAX_INPUT_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read: {exc.strerror}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path, data, mapping)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(data, mapping)
    out = RowsRead("json")
    for n, record in enumerate(read_records(path), start=1):
        out.records.append((n, mapping.record(record) if mapping else record))
    out.rows = len(out.records)
    return out


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _jsonl_rows(data: bytes, mapping: ColumnMapping | None) -> RowsRead:
    out = RowsRead("jsonl")
    for n, raw in enumerate(_lines(data), start=1):
        if not raw.strip():
            continue
        out.rows += 1
        row = out.rows
        out.lines[row] = n
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            out.problems.append(RowProblem(row, "", f"is not valid UTF-8 (byte {exc.start})", n))
            continue
        except json.JSONDecodeError as exc:
            out.problems.append(RowProblem(row, "", f"is not valid JSON: {exc.msg}", n))
            continue
        if not isinstance(value, dict):
            out.problems.append(RowProblem(row, "", "must be a JSON object", n))
            continue
        out.records.append((row, mapping.record(value) if mapping else value))
    return out


def _parse_one(text: str) -> list[str]:
    """One CSV record; csv.Error if the quoting is broken or it is not exactly one record."""
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if len(records) != 1:
        raise csv.Error("more than one record")
    return records[0]


def _csv_rows(path: Path, data: bytes, mapping: ColumnMapping | None) -> RowsRead:
    out = RowsRead("csv")
    lines = _lines(data)
    if not lines:
        raise ValidationError(str(path), "is empty (no header row)")
    try:
        header = _parse_one(lines[0].decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError(str(path), f"header is not valid UTF-8 (byte {exc.start})") from None
    except csv.Error as exc:
        raise ValidationError(str(path), f"header cannot be read: {exc}") from None
    fields = [mapping.column(h) if mapping else h.strip() for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True) if f is not None
               and f not in CSV_COLUMNS]  # fmt: skip
    if unknown:
        hint = " (map them with --map THEIRS=OURS, or drop them with --map THEIRS=)"
        raise ValidationError(str(path), f"unknown column(s): {', '.join(unknown)}{hint}")
    i = 1
    while i < len(lines):
        start = i
        raw = lines[i]
        i += 1
        if not raw.strip():
            continue
        out.rows += 1
        row, line = out.rows, start + 1
        out.lines[row] = line

        def bad(reason: str, row: int = row, line: int = line) -> None:
            out.problems.append(RowProblem(row, "", reason, line))

        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad(f"is not valid UTF-8 (byte {exc.start} of the line); save the file as UTF-8")
            continue
        try:
            cells = _parse_one(text)
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                bad(f"broken quoting: {exc}")
                continue
            cells_or_none = _continued(lines, start, len(fields))
            if cells_or_none is None:
                bad("broken quoting: a quoted cell opened on this line is never closed")
                continue
            cells, i = cells_or_none
        if len(cells) > len(fields):
            bad(f"has {len(cells)} cells, the header has {len(fields)} (a stray comma or quote?)")
            continue
        values = {f: c for f, c in zip(fields, cells, strict=False) if f is not None}
        if mapping:
            values = {f: mapping.value(f, c) if c else c for f, c in values.items()}
        out.records.append((row, csv_row_to_record(values)))
    return out


def _continued(lines: list[bytes], start: int, width: int) -> tuple[list[str], int] | None:
    """A record whose quoted cell spans lines: (cells, next line index), or None when no
    following line closes it into a record of exactly ``width`` cells."""
    text = ""
    for end in range(start, min(len(lines), start + MAX_CONTINUATION_LINES)):
        try:
            text += lines[end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        try:
            cells = _parse_one(text)
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                continue
            return None
        return (cells, end + 1) if len(cells) == width else None
    return None
