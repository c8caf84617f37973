"""Large imports on both cores: a worker process validates, encrypts and indexes batch n+1
while this process stores batch n.

Python runs one thread at a time per process, and preparing a record (validation, AES-GCM,
blind-index tokens, the sealed snapshot) costs about as much as storing it, so a second
process nearly doubles the rate on a two-core laptop. The worker gets the vault's master key
through the process pipe (it never touches the disk) and reads the database only; every row
is written here, one transaction per batch, with its audit entries.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any

from amparo.errors import AmparoError, Forbidden, ValidationError, ValidationErrors

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.services.incidents import ImportReport, IncidentService

__all__ = ["PARALLEL_THRESHOLD", "import_in_parallel"]

PARALLEL_THRESHOLD = 5_000  # records; below this, starting a process costs more than it saves
IN_FLIGHT = 2  # batches prepared ahead of the one being stored

Chunk = list[tuple[int, Mapping[str, Any]]]
Portable = tuple[str, str, str]  # (kind, field, message): exceptions that survive pickling
Prepared = tuple[dict[str, list[dict[str, Any]]], list[str], list[tuple[int, Portable]]]

_WORKER: Registry | None = None


def _start_worker(
    settings: Any, master_key: bytes, vault_id: str, clock: Any, ids: Any, actor: str,
    principal: Any,
) -> None:  # fmt: skip
    global _WORKER
    from amparo.registry import Registry
    from amparo.security.keyring import Keyring
    from amparo.store.engine import Store

    _WORKER = Registry(
        settings, Store(settings.database_url), Keyring(master_key, vault_id), clock=clock,
        ids=ids, actor=actor, principal=principal,
    )  # fmt: skip


def _portable(error: AmparoError) -> list[Portable]:
    if isinstance(error, ValidationErrors):
        return [("validation", e.field, e.message) for e in error.errors]
    if isinstance(error, ValidationError):
        return [("validation", error.field, error.message)]
    kind = "forbidden" if isinstance(error, Forbidden) else "error"
    return [(kind, "", str(error))]


def _rebuild(items: Sequence[Portable]) -> AmparoError:
    errors: list[AmparoError] = []
    for kind, field, message in items:
        if kind == "validation":
            errors.append(ValidationError(field, message))
        elif kind == "forbidden":
            errors.append(Forbidden(message))
        else:
            errors.append(AmparoError(message))
    if len(errors) > 1 and all(isinstance(e, ValidationError) for e in errors):
        return ValidationErrors([e for e in errors if isinstance(e, ValidationError)])
    return errors[0]


def _prepare(chunk: Chunk, case_id: str | None) -> Prepared:
    from amparo.domain.models import parse_incident
    from amparo.services.incidents import ImportReport, _case_hint

    registry = _WORKER
    assert registry is not None, "worker not started"
    report = ImportReport()
    today = registry.clock.today()
    batch = []
    for row, data in chunk:
        try:
            incident = parse_incident(data, registry.vocab, today)
            incident.case_id = _case_hint(data) or case_id
        except ValidationError as exc:
            report.errors.append((row, exc))
            continue
        batch.append((row, incident))
    rows, added = registry.incidents._prepare_batch(batch, report, strict=False)
    errors = [(row, item) for row, err in report.errors for item in _portable(err)]
    return dict(rows), added, errors


def import_in_parallel(
    service: IncidentService,
    records: Sequence[Mapping[str, Any]],
    *,
    case_id: str | None,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    total: int,
) -> ImportReport:
    from amparo.services.incidents import ImportReport

    registry = service.r
    report = ImportReport()
    numbered = list(enumerate(records, start=1))
    chunks = iter([numbered[i : i + batch_size] for i in range(0, len(numbered), batch_size)])
    init = (
        registry.settings, registry.keyring.master_key_for_worker(), registry.keyring.vault_id,
        registry.clock, registry.new_id, registry.actor, registry.principal,
    )  # fmt: skip
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    with ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                             initargs=init) as pool:  # fmt: skip
        in_flight: deque[tuple[int, Future[Prepared]]] = deque(
            (chunk[-1][0], pool.submit(_prepare, chunk, case_id))
            for chunk in islice(chunks, IN_FLIGHT)
        )
        while in_flight:
            last_row, future = in_flight.popleft()
            rows, added, errors = future.result()
            following = next(chunks, None)
            if following:
                in_flight.append((following[-1][0], pool.submit(_prepare, following, case_id)))
            try:
                with registry.store.write() as conn:
                    service._store_batch(conn, rows, added)
            except AmparoError as exc:
                raise type(exc)(
                    f"{exc} ({len(report.added)} incidents were stored before the failure)"
                ) from exc
            report.added.extend(added)
            by_row: dict[int, list[Portable]] = {}
            for row, item in errors:
                by_row.setdefault(row, []).append(item)
            report.errors.extend((row, _rebuild(items)) for row, items in by_row.items())
            if progress:
                progress(last_row, total)
    report.errors.sort(key=lambda item: item[0])
    return report
