"""Fill a migrated vault database with synthetic coded facets, fast, for the analytics bench.

The registry's own import encrypts every record (about 2,000 incidents/s): a million acts
would take ten minutes before anything is measured. Aggregates read only plaintext coded
columns, so this writes those directly with bulk inserts (``executemany`` on SQLite, ``COPY``
on PostgreSQL) and puts a fixed placeholder in the NOT NULL ciphertext columns: the rows are
good for counting and nothing else (opening one as a record fails its authentication).

The act_facts triggers are dropped for the load and the facts filled afterwards with the
migration's one set-based statement (amparo.store.facts_ddl.BACKFILL), then the triggers are
put back: row by row they would triple the load time and measure nothing the bench reports.

The shape follows DOMAIN.md §9 loosely: a few countries carry most incidents, non-lethal acts
outnumber killings, a share of acts is online, women defenders face gendered features.
"""

from __future__ import annotations

import io
import random
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from amparo.domain.vocabularies import load_vocabularies
from amparo.store import facts_ddl

__all__ = ["fill"]

PLACEHOLDER = b"\x00bench"  # not ciphertext: these rows are for counting only
ACTS_PER_INCIDENT = 1.6
ACTS_PER_DEFENDER = 40
COUNTRY_WEIGHTS = {
    "CO": 30, "MX": 14, "BR": 9, "HN": 6, "GT": 6, "PH": 6, "IN": 4, "PE": 3, "NI": 3,
    "VE": 2, "RU": 2, "TR": 2, "EG": 2, "KE": 2, "CD": 2, "UG": 1, "ZW": 1, "BD": 1,
}  # fmt: skip
ACT_WEIGHTS = {
    "A01": 2, "A02": 2, "A03": 1, "A04": 1, "A05": 1, "A06": 6, "A07": 1, "A08": 3,
    "A09": 9, "A10": 12, "A11": 10, "A12": 7, "A13": 5, "A14": 3, "A15": 10, "A16": 3,
    "A17": 3, "A18": 2, "A19": 8, "A20": 7, "A21": 1, "A22": 1, "A23": 2, "A24": 1,
    "A25": 1, "A26": 1, "A27": 1, "A99": 1,
}  # fmt: skip
ONLINE_ACTS = ("A08", "A10", "A11", "A12", "A19", "A20")
GENDERS = {"woman": 45, "man": 40, "trans_woman": 2, "non_binary": 2, "unknown": 11}
RELATIONS = {"defender": 85, "child": 3, "partner": 3, "other_family": 2, "colleague": 3,
             "organisation": 2, "community": 2}  # fmt: skip
FIRST, LAST = date(2016, 1, 1), date(2025, 12, 31)

Row = tuple[Any, ...]


def _pick(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


def _ids(prefix: str, n: int) -> list[str]:
    # 32 characters like the registry's random ids; ordered, which costs the bench nothing.
    return [f"{prefix}{k:0{32 - len(prefix)}x}" for k in range(n)]


def generate(n_acts: int, seed: int = 11) -> dict[str, list[Row]]:
    rng = random.Random(seed)
    vocab = load_vocabularies()
    features = list(vocab["gender_features"].codes)
    sectors = list(vocab["sectors"].codes)
    perp_types = list(vocab["perpetrator_types"].codes)
    kinds = ("person",) * 8 + ("collective", "organisation")
    n_defenders = max(10, n_acts // ACTS_PER_DEFENDER)
    n_incidents = max(1, int(n_acts / ACTS_PER_INCIDENT))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    case_ids = _ids("c", n_defenders)
    defender_ids = _ids("d", n_defenders)
    d_gender = _pick(rng, GENDERS, n_defenders)
    d_country = _pick(rng, COUNTRY_WEIGHTS, n_defenders)
    cases = [(c, PLACEHOLDER, "open", now) for c in case_ids]
    defenders = []
    for k, d in enumerate(defender_ids):
        secs = rng.sample(sectors, rng.choice((1, 1, 2, 3)))
        kind = rng.choice(kinds)
        defenders.append((
            d, case_ids[k], kind, PLACEHOLDER, d_gender[k] if kind == "person" else None,
            d_country[k], f"R{rng.randrange(8)}", "," + ",".join(secs) + ",", False,
            1, now, "bench", now, "bench",
        ))  # fmt: skip
    incidents, perpetrators = [], []
    inc_victim, inc_date, inc_perps = [], [], []
    span = (LAST - FIRST).days
    for k, i in enumerate(_ids("i", n_incidents)):
        v = rng.randrange(n_defenders)
        day = FIRST + timedelta(days=int(span * rng.random() ** 0.7))  # more in recent years
        country = d_country[v] if rng.random() < 0.9 else _pick(rng, COUNTRY_WEIGHTS, 1)[0]
        incidents.append((
            i, case_ids[v], PLACEHOLDER, day, "exact" if rng.random() < 0.8 else "unknown_day",
            country, f"R{rng.randrange(8)}", "region", "confirmed", "individual",
            rng.random() < 0.05, 1, now, "bench", now, "bench",
        ))  # fmt: skip
        perps = []
        for pos in range(1 if rng.random() < 0.8 else 2):
            pid = f"p{k:024x}{pos:07x}"
            perpetrators.append((pid, i, pos, rng.choice(perp_types)))
            perps.append(pid)
        inc_victim.append(v)
        inc_date.append(day)
        inc_perps.append(perps)
    acts, involvements = [], []
    act_types = _pick(rng, ACT_WEIGHTS, n_acts)
    relations = _pick(rng, RELATIONS, n_acts)
    for k, a in enumerate(_ids("a", n_acts)):
        n = k if k < n_incidents else rng.randrange(n_incidents)
        v = inc_victim[n]
        act_type = act_types[k]
        online = act_type in ONLINE_ACTS and rng.random() < 0.6
        modality = "online" if online else ("both" if rng.random() < 0.05 else "in_person")
        gendered = d_gender[v] != "man" and rng.random() < 0.3
        feats = rng.sample(features, rng.choice((1, 1, 2))) if gendered else []
        act_date = inc_date[n] + timedelta(days=rng.randrange(30)) if rng.random() < 0.3 else None
        acts.append((
            a, incidents[n][0], k, defender_ids[v], act_type, act_date,
            "yes" if gendered else rng.choice(("no", "unknown")),
            "," + ",".join(feats) + "," if feats else "", relations[k], modality,
            False, 1, "unknown",
        ))  # fmt: skip
        for pid in inc_perps[n]:
            involvements.append((a, pid, "carried_out"))
    return {
        "cases": cases, "defenders": defenders, "incidents": incidents, "acts": acts,
        "perpetrators": perpetrators, "involvements": involvements,
    }  # fmt: skip


COLUMNS: dict[str, Sequence[str]] = {
    "cases": ("id", "title_ct", "status", "created_at"),
    "defenders": (
        "id", "case_id", "kind", "display_name_ct", "gender_identity", "country", "region",
        "sectors", "confidential", "version", "created_at", "created_by", "updated_at",
        "updated_by",
    ),
    "incidents": (
        "id", "case_id", "title_ct", "date_start", "date_precision", "country", "region",
        "location_precision", "violation_status", "counting_unit", "confidential", "version",
        "created_at", "created_by", "updated_at", "updated_by",
    ),
    "perpetrators": ("id", "incident_id", "position", "perpetrator_type"),
    "acts": (
        "id", "incident_id", "position", "victim_defender_id", "act_type", "act_date",
        "gender_specific", "gender_features", "target_relation", "modality", "collective",
        "people_affected", "previously_threatened",
    ),
    "involvements": ("act_id", "perpetrator_id", "degree"),
}  # fmt: skip
ORDER = ("cases", "defenders", "incidents", "perpetrators", "acts", "involvements")


def fill(url: str, n_acts: int, seed: int = 11) -> dict[str, int]:
    """Insert ``n_acts`` acts with their incidents, victims and perpetrators into ``url``."""
    rows = generate(n_acts, seed)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _fill_sqlite(parsed.database or "", rows)
    else:
        _fill_postgresql(parsed.set(drivername="postgresql").render_as_string(False), rows)
    return {table: len(rows[table]) for table in ORDER}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fill_sqlite(path: str, rows: dict[str, list[Row]]) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-524288")
        db.execute("BEGIN")
        for statement in facts_ddl.drop_statements("sqlite"):
            db.execute(statement)
        for table in ORDER:
            cols = COLUMNS[table]
            sql = f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
            db.executemany(sql, ([_sqlite_value(v) for v in r] for r in rows[table]))
        db.execute(facts_ddl.BACKFILL("sqlite"))
        for statement in facts_ddl.create_statements("sqlite"):
            db.execute(statement)
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


def _copy_text(rows: list[Row]) -> Iterator[str]:
    for r in rows:
        cells = []
        for v in r:
            if v is None:
                cells.append("\\N")
            elif isinstance(v, bytes):
                cells.append("\\\\x" + v.hex())
            elif isinstance(v, bool):
                cells.append("t" if v else "f")
            else:
                cells.append(str(v))
        yield "\t".join(cells) + "\n"


def _fill_postgresql(dsn: str, rows: dict[str, list[Row]]) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for statement in facts_ddl.drop_statements("postgresql"):
                cur.execute(statement)
            for table in ORDER:
                buf = io.StringIO("".join(_copy_text(rows[table])))
                with cur.copy(f"COPY {table} ({','.join(COLUMNS[table])}) FROM STDIN") as copy:
                    while chunk := buf.read(1 << 20):
                        copy.write(chunk)
            # Without statistics on the tables just loaded, the planner may run the backfill's
            # per-act subquery over involvements as a scan each time: quadratic (it had not
            # finished after 15 minutes at a million acts).
            cur.execute("ANALYZE")
            cur.execute(facts_ddl.BACKFILL("postgresql"))
            for statement in facts_ddl.create_statements("postgresql"):
                cur.execute(statement)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
