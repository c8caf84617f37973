"""Reading incident records from JSON, JSON Lines and CSV files, naming file and row on error.

CSV is the spreadsheet-friendly flat form: one incident per row, one act per code in the
``act_type`` column (separate several with ';'), optional perpetrator and source columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from amparo.errors import ValidationError
from amparo.services.csv_safety import unescape_cell

__all__ = ["CSV_COLUMNS", "read_records"]

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
