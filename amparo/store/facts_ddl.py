"""Triggers that keep ``act_facts`` (one narrow row of coded facets per act) in step.

Counting a million acts by country or by the victim's gender identity through the record
tables means a million primary-key lookups into ``incidents`` and ``defenders`` (string ids):
10-20 s on SQLite. ``act_facts`` copies the plaintext facets an aggregate groups by into one
row per act, so every aggregate is a single scan with GROUP BY (amparo.analytics).

Database triggers maintain it, as for the access epoch (migration 0006): every path that
writes acts, incidents, defenders, perpetrators or involvements (imports, amendments,
restores, merges, shredding) keeps it right without remembering to. Nothing encrypted is
copied; the table holds only what the record tables already hold in plaintext.
"""

# ruff: noqa: S608 - constant DDL assembled from fixed pieces; no value from outside reaches it

from __future__ import annotations

__all__ = ["BACKFILL", "create_statements", "drop_statements"]

COLUMNS = (
    "act_id, incident_id, case_id, victim_defender_id, act_type, act_day, day, country, region, "
    "modality, target_relation, gender_specific, gender_features, gender_identity, "
    "defender_kind, sectors, perpetrator_types, confidential"
)


def _perpetrators(dialect: str, act: str) -> str:
    """``,type,type,`` of the perpetrators involved in act ``act`` ('' when none)."""
    agg = "group_concat(p.perpetrator_type, ',')" if dialect == "sqlite" else (
        "string_agg(p.perpetrator_type, ',' ORDER BY p.perpetrator_type)"
    )  # fmt: skip
    return (
        f"COALESCE(',' || (SELECT {agg} FROM involvements v JOIN perpetrators p "
        f"ON p.id = v.perpetrator_id WHERE v.act_id = {act}) || ',', '')"
    )


def _select(dialect: str, where: str) -> str:
    return (
        f"SELECT a.id, a.incident_id, i.case_id, a.victim_defender_id, a.act_type, "
        f"COALESCE(a.act_date, i.date_start), i.date_start, i.country, i.region, a.modality, "
        f"a.target_relation, a.gender_specific, a.gender_features, d.gender_identity, d.kind, "
        f"d.sectors, {_perpetrators(dialect, 'a.id')}, i.confidential "
        f"FROM acts a JOIN incidents i ON i.id = a.incident_id "
        f"LEFT JOIN defenders d ON d.id = a.victim_defender_id {where}"
    )


def BACKFILL(dialect: str) -> str:
    """One set-based statement that fills ``act_facts`` from the record tables."""
    return f"INSERT INTO act_facts ({COLUMNS}) {_select(dialect, '')}"


def _incident_set(new: str) -> str:
    return (
        f"case_id = {new}.case_id, day = {new}.date_start, country = {new}.country, "
        f"region = {new}.region, confidential = {new}.confidential, "
        f"act_day = COALESCE((SELECT x.act_date FROM acts x WHERE x.id = act_facts.act_id), "
        f"{new}.date_start)"
    )


def _defender_set(new: str) -> str:
    return (
        f"gender_identity = {new}.gender_identity, defender_kind = {new}.kind, "
        f"sectors = {new}.sectors"
    )


SQLITE_TRIGGERS = ("acts_facts_ai", "acts_facts_au", "acts_facts_ad", "incidents_facts_au",
                   "defenders_facts_au", "involvements_facts_ai", "involvements_facts_ad",
                   "perpetrators_facts_au")  # fmt: skip


def _sqlite_create() -> tuple[str, ...]:
    d = "sqlite"
    insert = f"INSERT INTO act_facts ({COLUMNS}) {_select(d, 'WHERE a.id = NEW.id')};"
    perps = _perpetrators(d, "act_facts.act_id")
    return (
        f"CREATE TRIGGER acts_facts_ai AFTER INSERT ON acts BEGIN {insert} END",
        "CREATE TRIGGER acts_facts_au AFTER UPDATE ON acts BEGIN "
        f"DELETE FROM act_facts WHERE act_id = OLD.id; {insert} END",
        "CREATE TRIGGER acts_facts_ad AFTER DELETE ON acts BEGIN "
        "DELETE FROM act_facts WHERE act_id = OLD.id; END",
        "CREATE TRIGGER incidents_facts_au AFTER UPDATE OF case_id, date_start, country, region, "
        f"confidential ON incidents BEGIN UPDATE act_facts SET {_incident_set('NEW')} "
        "WHERE incident_id = NEW.id; END",
        "CREATE TRIGGER defenders_facts_au AFTER UPDATE OF gender_identity, kind, sectors "
        f"ON defenders BEGIN UPDATE act_facts SET {_defender_set('NEW')} "
        "WHERE victim_defender_id = NEW.id; END",
        "CREATE TRIGGER involvements_facts_ai AFTER INSERT ON involvements BEGIN "
        f"UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id = NEW.act_id; END",
        "CREATE TRIGGER involvements_facts_ad AFTER DELETE ON involvements BEGIN "
        f"UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id = OLD.act_id; END",
        "CREATE TRIGGER perpetrators_facts_au AFTER UPDATE OF perpetrator_type ON perpetrators "
        f"BEGIN UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id IN "
        "(SELECT act_id FROM involvements WHERE perpetrator_id = NEW.id); END",
    )


def _postgres_create() -> tuple[str, ...]:
    d = "postgresql"
    perps = _perpetrators(d, "act_facts.act_id")

    def function(name: str, body: str) -> str:
        return (
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NULL; END $$"
        )

    return (
        function(
            "act_facts_acts",
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN DELETE FROM act_facts WHERE act_id = OLD.id; "
            "END IF; IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            f"INSERT INTO act_facts ({COLUMNS}) {_select(d, 'WHERE a.id = NEW.id')}; END IF;",
        ),
        "CREATE TRIGGER acts_facts AFTER INSERT OR UPDATE OR DELETE ON acts FOR EACH ROW "
        "EXECUTE FUNCTION act_facts_acts()",
        function(
            "act_facts_incidents",
            f"UPDATE act_facts SET {_incident_set('NEW')} WHERE incident_id = NEW.id;",
        ),
        "CREATE TRIGGER incidents_facts AFTER UPDATE ON incidents FOR EACH ROW WHEN ("
        "OLD.case_id IS DISTINCT FROM NEW.case_id OR OLD.date_start IS DISTINCT FROM "
        "NEW.date_start OR OLD.country IS DISTINCT FROM NEW.country OR OLD.region IS DISTINCT "
        "FROM NEW.region OR OLD.confidential IS DISTINCT FROM NEW.confidential) "
        "EXECUTE FUNCTION act_facts_incidents()",
        function(
            "act_facts_defenders",
            f"UPDATE act_facts SET {_defender_set('NEW')} WHERE victim_defender_id = NEW.id;",
        ),
        "CREATE TRIGGER defenders_facts AFTER UPDATE ON defenders FOR EACH ROW WHEN ("
        "OLD.gender_identity IS DISTINCT FROM NEW.gender_identity OR OLD.kind IS DISTINCT FROM "
        "NEW.kind OR OLD.sectors IS DISTINCT FROM NEW.sectors) "
        "EXECUTE FUNCTION act_facts_defenders()",
        function(
            "act_facts_involvements",
            "IF TG_OP = 'DELETE' THEN "
            f"UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id = OLD.act_id; ELSE "
            f"UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id = NEW.act_id; "
            "END IF;",
        ),
        "CREATE TRIGGER involvements_facts AFTER INSERT OR DELETE ON involvements FOR EACH ROW "
        "EXECUTE FUNCTION act_facts_involvements()",
        function(
            "act_facts_perpetrators",
            f"UPDATE act_facts SET perpetrator_types = {perps} WHERE act_id IN "
            "(SELECT act_id FROM involvements WHERE perpetrator_id = NEW.id);",
        ),
        "CREATE TRIGGER perpetrators_facts AFTER UPDATE OF perpetrator_type ON perpetrators "
        "FOR EACH ROW EXECUTE FUNCTION act_facts_perpetrators()",
    )


POSTGRES_TRIGGERS = (
    ("acts_facts", "acts", "act_facts_acts"),
    ("incidents_facts", "incidents", "act_facts_incidents"),
    ("defenders_facts", "defenders", "act_facts_defenders"),
    ("involvements_facts", "involvements", "act_facts_involvements"),
    ("perpetrators_facts", "perpetrators", "act_facts_perpetrators"),
)


def create_statements(dialect: str) -> tuple[str, ...]:
    return _sqlite_create() if dialect == "sqlite" else _postgres_create()


def drop_statements(dialect: str) -> tuple[str, ...]:
    if dialect == "sqlite":
        return tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS)
    return tuple(
        stmt
        for trigger, table, function in POSTGRES_TRIGGERS
        for stmt in (
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        )
    )
