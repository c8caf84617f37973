"""Incidents written out for people outside the vault: JSON Lines (lossless) or CSV (flat).

The CSV is the same flat form ``incidents import`` reads (amparo.services.records_io): one
row per incident, act types and perpetrator types joined with ';', the first act's details
and the first source. It is for spreadsheets and partners; JSON Lines keeps everything.
Every CSV cell passes through ``safe_cell`` so no exported text runs as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from amparo.domain.models import Incident
from amparo.services.csv_safety import safe_cell
from amparo.services.records_io import CSV_ACT_COLUMNS, CSV_COLUMNS, CSV_INCIDENT_COLUMNS

__all__ = ["EXPORT_FORMATS", "csv_lines", "csv_row", "json_array", "json_lines"]

EXPORT_FORMATS = ("jsonl", "json", "csv")


def csv_row(incident: Incident) -> dict[str, Any]:
    record = incident.to_dict()
    row: dict[str, Any] = {key: record.get(key) for key in CSV_INCIDENT_COLUMNS}
    acts = record["acts"]
    first = acts[0] if acts else {}
    row.update({key: first.get(key) for key in CSV_ACT_COLUMNS})
    row["act_type"] = [a["act_type"] for a in acts]
    row["perpetrator_type"] = [p["perpetrator_type"] for p in record["perpetrators"]]
    degrees = [i["degree"] for i in first.get("involvements", [])]
    row["perpetrator_degree"] = degrees[0] if degrees else None
    sources = record["sources"]
    row["source_type"] = sources[0]["source_type"] if sources else None
    row["reliability"] = sources[0]["reliability"] if sources else None
    if isinstance(row.get("confidential"), bool):
        row["confidential"] = "yes" if row["confidential"] else "no"
    return row


def csv_lines(incidents: Iterable[Incident]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for incident in incidents:
        row = csv_row(incident)
        writer.writerow([safe_cell(row.get(column)) for column in CSV_COLUMNS])
        yield flush()


def json_lines(incidents: Iterable[Incident]) -> Iterator[str]:
    for incident in incidents:
        yield json.dumps(incident.to_dict(), ensure_ascii=False) + "\n"


def json_array(incidents: Iterable[Incident]) -> Iterator[str]:
    yield "["
    for n, incident in enumerate(incidents):
        yield ("," if n else "") + json.dumps(incident.to_dict(), ensure_ascii=False)
    yield "]"
