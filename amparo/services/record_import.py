"""Importing a file of incident records with a validation report, or checking it (dry run).

Every row is stored whole or not at all (IncidentService.add_many); a bad row is reported
with its row number, line, field and reason, and the good rows of the same file are stored
in the same run. A dry run goes through the same reading, mapping and validation (vocabulary
codes, dates, required fields, victims and cases that must exist, permission to write the
case) and writes nothing but its audit entry. Large files use the parallel bulk import.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amparo.errors import AmparoError, Forbidden, ValidationError, ValidationErrors
from amparo.security.permissions import Resource
from amparo.services.csv_safety import safe_cell
from amparo.services.records_io import RowProblem, read_rows

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.services.import_mapping import ColumnMapping

__all__ = ["REPORT_COLUMNS", "REPORT_FORMATS", "ImportOutcome", "import_file", "render_report",
           "summary_line"]  # fmt: skip

REPORT_FORMATS = ("table", "json", "csv")
REPORT_COLUMNS = ("row", "line", "field", "reason")
VALIDATE_BATCH = 1000
Progress = Callable[[int, int], None]


@dataclass
class ImportOutcome:
    file: str
    format: str
    rows: int
    dry_run: bool
    added: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def valid(self) -> int:
        return self.rows - len(self.rejected_rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "rows": self.rows,
            "dry_run": self.dry_run, "valid": self.valid, "stored": len(self.added),
            "rejected": len(self.rejected_rows),
            "problems": [p.to_dict() for p in self.problems],
        }  # fmt: skip


def _problems(row: int, line: int | None, error: AmparoError) -> list[RowProblem]:
    if isinstance(error, ValidationErrors):
        return [RowProblem(row, e.field, e.message, line) for e in error.errors]
    if isinstance(error, ValidationError):
        return [RowProblem(row, error.field, error.message, line)]
    return [RowProblem(row, "", str(error), line)]


def import_file(
    registry: Registry, path: Path, *, mapping: ColumnMapping | None = None,
    dry_run: bool = False, case_id: str | None = None, progress: Progress | None = None,
) -> ImportOutcome:  # fmt: skip
    """Read, map, validate and (unless ``dry_run``) store the records of one file."""
    registry.require("create", Resource("registry"))
    read = read_rows(path, mapping)
    outcome = ImportOutcome(file=path.name, format=read.format, rows=read.rows, dry_run=dry_run)
    outcome.problems.extend(read.problems)
    lines = read.lines
    numbered = read.records
    if dry_run:
        errors = _validate(registry, numbered, case_id, progress, read.rows)
    else:
        report = registry.incidents.add_many(
            [record for _, record in numbered], case_id=case_id, progress=progress,
            total=len(numbered),
        )  # fmt: skip
        outcome.added = report.added
        errors = [(numbered[n - 1][0], err) for n, err in report.errors]
    for row, err in errors:
        outcome.problems.extend(_problems(row, lines.get(row), err))
    outcome.problems.sort(key=lambda p: p.row)
    detail = {
        "format": read.format, "rows": read.rows, "rejected": len(outcome.rejected_rows),
        "mapping": "yes" if mapping is not None and not mapping.empty else "no",
    }  # fmt: skip
    if dry_run:
        registry.audit.record_alone("records.validate", object_type="file", detail=detail)
    else:
        registry.audit.record_alone(
            "records.import", object_type="file", detail={**detail, "stored": len(outcome.added)}
        )
    return outcome


def _validate(
    registry: Registry, numbered: Sequence[tuple[int, Any]], case_id: str | None,
    progress: Progress | None, total: int,
) -> list[tuple[int, AmparoError]]:  # fmt: skip
    """What add_many would refuse, found without preparing or storing anything."""
    from amparo.domain.models import parse_incident
    from amparo.services.incidents import _case_hint, _References

    errors: list[tuple[int, AmparoError]] = []
    today = registry.clock.today()
    for start in range(0, len(numbered), VALIDATE_BATCH):
        chunk = numbered[start : start + VALIDATE_BATCH]
        parsed = []
        for row, data in chunk:
            try:
                incident = parse_incident(data, registry.vocab, today)
                incident.case_id = _case_hint(data) or case_id
            except ValidationError as exc:
                errors.append((row, exc))
                continue
            parsed.append((row, incident))
        with registry.store.read() as conn:
            resolver = _References(conn)
            resolver.prefetch(
                a.victim_defender_id for _, inc in parsed for a in inc.acts if a.victim_defender_id
            )
            for row, incident in parsed:
                try:
                    resolver.check(incident)
                except ValidationError as exc:
                    errors.append((row, exc))
                    continue
                target = incident.case_id or resolver.case_of_victim(incident)
                if target is not None and not registry.allowed("write", Resource("case", target)):
                    errors.append((row, Forbidden("may not add incidents to that case")))
        if progress:
            progress(chunk[-1][0], total)
    return errors


def render_report(outcome: ImportOutcome, fmt: str) -> str:
    """The validation report as JSON (the summary and every problem) or CSV (the problems,
    formula-safe cells); the CLI draws the table for people."""
    if fmt == "json":
        return json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for problem in outcome.problems:
        values = problem.to_dict()
        writer.writerow([safe_cell(values[c]) for c in REPORT_COLUMNS])
    return buffer.getvalue()


def summary_line(outcome: ImportOutcome) -> str:
    stored = f"{outcome.valid} would be imported" if outcome.dry_run else (
        f"{len(outcome.added)} imported")  # fmt: skip
    return (
        f"{stored}, {len(outcome.rejected_rows)} rejected ({outcome.rows} rows in {outcome.file})"
    )
