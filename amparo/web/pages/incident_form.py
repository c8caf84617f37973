"""The incident form: posted fields <-> the record dict the library validates.

Rows repeat with an index: ``acts-0-act_type``, ``acts-1-act_type``, ``perpetrators-0-...``.
"Add an act" and "Add a perpetrator" are submit buttons that re-render the form with one more
empty row, so several victims, acts and perpetrators fit in one incident without JavaScript.
Each act lists the perpetrators involved by position (``acts-0-perpetrators``). Errors come
back keyed by the library's field path (``acts[0].act_type``) and are shown beside the field
of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

__all__ = [
    "ACT_FIELDS",
    "PERPETRATOR_FIELDS",
    "SOURCE_FIELDS",
    "blank_row",
    "form_field_name",
    "record_from_form",
    "rows_from_record",
]

INCIDENT_FIELDS = (
    "title", "narrative", "date_start", "date_end", "country", "region", "place",
    "violation_status", "location_precision", "counting_unit",
)  # fmt: skip
ACT_FIELDS = (
    "act_type", "victim_defender_id", "victim_description", "act_date", "modality",
    "gender_specific", "target_relation", "people_affected",
)  # fmt: skip
PERPETRATOR_FIELDS = ("perpetrator_type", "name", "description")
SOURCE_FIELDS = ("source_type", "reliability", "identity", "description", "obtained_on")
MAX_ROWS = 50
_ROW = re.compile(r"^(acts|perpetrators|sources)-(\d{1,2})-([a-z_]+)$")


def blank_row(kind: str) -> dict[str, Any]:
    fields = {"acts": ACT_FIELDS, "perpetrators": PERPETRATOR_FIELDS, "sources": SOURCE_FIELDS}
    row: dict[str, Any] = dict.fromkeys(fields[kind], "")
    if kind == "acts":
        row.update(gender_features=[], perpetrators=[])
    return row


def form_field_name(path: str) -> str:
    """``acts[0].act_type`` -> ``acts-0-act_type`` (the input's name and id)."""
    return re.sub(r"\[(\d+)\]\.", r"-\1-", path).replace("[", "-").replace("]", "")


def _rows(form: FormData, kind: str) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for key in form:
        match = _ROW.match(key)
        if not match or match.group(1) != kind:
            continue
        index, name = int(match.group(2)), match.group(3)
        if index >= MAX_ROWS:
            continue
        row = found.setdefault(index, blank_row(kind))
        values = [str(v).strip() for v in form.getlist(key) if isinstance(v, str)]
        row[name] = values if name in ("gender_features", "perpetrators") else values[0]
    return [found[i] for i in sorted(found)]


def _filled(row: Mapping[str, Any]) -> bool:
    return any(value not in ("", [], None) for value in row.values())


def record_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(the record for the library, the rows as typed, to show the form again)."""
    text = {key: str(form.get(key) or "").strip() for key in INCIDENT_FIELDS}
    rows = {kind: _rows(form, kind) for kind in ("acts", "perpetrators", "sources")}
    record: dict[str, Any] = {k: v for k, v in text.items() if v}
    record["confidential"] = form.get("confidential") == "on"
    perpetrators = [p for p in rows["perpetrators"] if _filled(p)]
    record["perpetrators"] = [{k: v for k, v in p.items() if v} for p in perpetrators]
    acts = []
    for act in rows["acts"]:
        if not _filled({k: v for k, v in act.items() if k != "people_affected"}):
            continue
        out: dict[str, Any] = {
            k: v for k, v in act.items() if v not in ("", []) and k != "perpetrators"
        }
        involved = [p for p in act.get("perpetrators", []) if p.isdigit()]
        out["involvements"] = [
            {"perpetrator": int(p), "degree": "carried_out"}
            for p in involved
            if int(p) < len(perpetrators)
        ]
        acts.append(out)
    record["acts"] = acts
    record["sources"] = [{k: v for k, v in s.items() if v} for s in rows["sources"] if _filled(s)]
    return record, rows


def rows_from_record(record: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The form rows of a stored incident (for editing)."""
    acts = []
    for act in record.get("acts", []):
        row = blank_row("acts")
        row.update({k: "" if act.get(k) is None else str(act[k]) for k in ACT_FIELDS})
        row["gender_features"] = list(act.get("gender_features", []))
        row["perpetrators"] = [str(i["perpetrator"]) for i in act.get("involvements", [])]
        acts.append(row)
    perpetrators = [
        {k: p.get(k) or "" for k in PERPETRATOR_FIELDS} for p in record.get("perpetrators", [])
    ]
    sources = [{k: s.get(k) or "" for k in SOURCE_FIELDS} for s in record.get("sources", [])]
    return {"acts": acts, "perpetrators": perpetrators, "sources": sources}
