"""The one declared schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Columns ending in ``_ct`` hold AEAD ciphertext only (see amparo.security.aead); everything else
is a coded facet or bookkeeping that analytics may read in the database. Aggregates: a
defender owns its close people and consents; an incident owns its acts, perpetrators,
involvements, sources, interventions and outgoing links. Each aggregate is written whole, in
one transaction, and snapshotted (encrypted) into ``record_versions``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["codes_column", "codes_from_column", "metadata"]


def codes_column(codes: list[str]) -> str:
    """Store a list of codes as ``,a,b,`` so ``LIKE '%,a,%'`` matches exactly one code."""
    return "," + ",".join(codes) + "," if codes else ""


def codes_from_column(value: str | None) -> list[str]:
    return [code for code in (value or "").split(",") if code]


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

ID = sa.String(32)  # random 128-bit ids as hex: no counters to leak volume or ordering
CODE = sa.String(40)
CT = sa.LargeBinary
UTC = sa.DateTime(timezone=True)


def _bookkeeping() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
    ]


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("title_ct", CT, nullable=True),
    sa.Column("status", CODE, nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=True),  # NULL once shredded
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("shredded_at", UTC, nullable=True),
    # Protection work (issue 7): whom the case protects, who leads it, how urgent it is.
    sa.Column("subject_defender_id", ID, nullable=True),  # a defender or a collective
    sa.Column("officer_id", ID, nullable=True),  # the assigned protection officer (users.id)
    sa.Column("priority", CODE, nullable=True),  # priorities vocabulary
    sa.Column("protection_status", CODE, nullable=True),  # intake|active|monitoring|closed
    sa.Column("review_due", sa.Date, nullable=True),  # next risk review (earliest of its people)
)

defenders = sa.Table(
    "defenders",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("kind", CODE, nullable=False),
    sa.Column("display_name_ct", CT, nullable=False),
    sa.Column("legal_name_ct", CT, nullable=True),
    sa.Column("aliases_ct", CT, nullable=True),
    sa.Column("sex", CODE, nullable=True),
    sa.Column("gender_identity", CODE, nullable=True, index=True),
    sa.Column("sexual_orientation", CODE, nullable=True),
    sa.Column("birth_year", sa.Integer, nullable=True),
    sa.Column("age_band", CODE, nullable=True),
    sa.Column("nationality", sa.String(2), nullable=True),
    sa.Column("country", sa.String(2), nullable=True, index=True),
    sa.Column("region", sa.String(120), nullable=True),
    # ",land,environment," so one LIKE '%,code,%' matches exactly one code
    sa.Column("sectors", sa.String(400), nullable=False),
    sa.Column("organisations_ct", CT, nullable=True),
    sa.Column("contacts_ct", CT, nullable=True),
    sa.Column("notes_ct", CT, nullable=True),
    sa.Column("confidential", sa.Boolean, nullable=False),
    sa.Column("merged_into", ID, sa.ForeignKey("defenders.id"), nullable=True),
    *_bookkeeping(),
)

close_people = sa.Table(
    "close_people",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "defender_id",
        ID,
        sa.ForeignKey("defenders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("relation", CODE, nullable=False),
    sa.Column("name_ct", CT, nullable=False),
    sa.Column("notes_ct", CT, nullable=True),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "defender_id",
        ID,
        sa.ForeignKey("defenders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("purpose", CODE, nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("name_choice", CODE, nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=True),
    sa.Column("note_ct", CT, nullable=True),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("title_ct", CT, nullable=False),
    sa.Column("narrative_ct", CT, nullable=True),
    sa.Column("date_start", sa.Date, nullable=False),
    sa.Column("date_end", sa.Date, nullable=True),
    sa.Column("date_precision", CODE, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(120), nullable=True),
    sa.Column("place_ct", CT, nullable=True),
    sa.Column("location_precision", CODE, nullable=False),
    sa.Column("violation_status", CODE, nullable=False),
    sa.Column("counting_unit", CODE, nullable=False),
    sa.Column("confidential", sa.Boolean, nullable=False),
    sa.Column("notes_ct", CT, nullable=True),
    *_bookkeeping(),
    sa.Index(None, "country", "date_start"),
    # Newest-first listing walks this index and stops at the page size (no sort step).
    sa.Index(None, "date_start", "id"),
)

acts = sa.Table(
    "acts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "incident_id",
        ID,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("victim_defender_id", ID, sa.ForeignKey("defenders.id"), nullable=True, index=True),
    sa.Column("victim_person_id", ID, sa.ForeignKey("close_people.id"), nullable=True),
    sa.Column("victim_description_ct", CT, nullable=True),
    sa.Column("act_type", CODE, nullable=False),
    sa.Column("act_date", sa.Date, nullable=True),
    sa.Column("gender_specific", CODE, nullable=False),
    sa.Column("gender_features", sa.String(400), nullable=False),  # ",code,code,"
    sa.Column("target_relation", CODE, nullable=False),
    sa.Column("modality", CODE, nullable=False),
    sa.Column("collective", sa.Boolean, nullable=False),
    sa.Column("people_affected", sa.Integer, nullable=False),
    sa.Column("previously_threatened", CODE, nullable=False),
    sa.Column("business_company_ct", CT, nullable=True),
    sa.Column("business_sector", sa.String(120), nullable=True),
    sa.Index(None, "act_type", "incident_id"),
)

perpetrators = sa.Table(
    "perpetrators",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "incident_id",
        ID,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("perpetrator_type", CODE, nullable=False, index=True),
    sa.Column("name_ct", CT, nullable=True),
    sa.Column("description_ct", CT, nullable=True),
)

involvements = sa.Table(
    "involvements",
    metadata,
    sa.Column("act_id", ID, sa.ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "perpetrator_id",
        ID,
        sa.ForeignKey("perpetrators.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("degree", CODE, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "incident_id",
        ID,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("source_type", CODE, nullable=False),
    sa.Column("reliability", CODE, nullable=False),
    sa.Column("identity_ct", CT, nullable=True),
    sa.Column("description_ct", CT, nullable=True),
    sa.Column("obtained_on", sa.Date, nullable=True),
)

interventions = sa.Table(
    "interventions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "incident_id",
        ID,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("intervention_date", sa.Date, nullable=True),
    sa.Column("intervener_ct", CT, nullable=True),
    sa.Column("response_ct", CT, nullable=True),
    sa.Column("status", CODE, nullable=False),
    sa.Column("priority", CODE, nullable=False),
)

incident_links = sa.Table(
    "incident_links",
    metadata,
    sa.Column(
        "incident_id", ID, sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "related_id",
        ID,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("relation", CODE, nullable=False),
)

record_versions = sa.Table(
    "record_versions",
    metadata,
    sa.Column("entity", sa.String(20), primary_key=True),
    sa.Column("entity_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("at", UTC, nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("action", sa.String(80), nullable=False),  # e.g. merged_into:<id>
    sa.Column("changed_fields", sa.Text, nullable=False),  # field names only, never values
    sa.Column("snapshot_ct", CT, nullable=False),
)

# One narrow row of plaintext coded facets per act, kept in step with the record tables by
# database triggers (migration 0010, amparo/store/facts_ddl.py) so that aggregates are one scan
# with GROUP BY, not a join per act (amparo/analytics). Nothing here is not already plaintext
# in acts, incidents, defenders or perpetrators; no foreign keys: the triggers own its rows.
act_facts = sa.Table(
    "act_facts",
    metadata,
    sa.Column("act_id", ID, primary_key=True),
    sa.Column("incident_id", ID, nullable=False, index=True),
    sa.Column("case_id", ID, nullable=False, index=True),
    sa.Column("victim_defender_id", ID, nullable=True),
    sa.Column("act_type", CODE, nullable=False),
    sa.Column("act_day", sa.Date, nullable=False),  # the act's date, else its incident's
    sa.Column("day", sa.Date, nullable=False),  # the incident's date_start (what lists filter)
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(120), nullable=True),
    sa.Column("modality", CODE, nullable=False),
    sa.Column("target_relation", CODE, nullable=False),
    sa.Column("gender_specific", CODE, nullable=False),
    sa.Column("gender_features", sa.String(400), nullable=False),  # ",code,code,"
    sa.Column("gender_identity", CODE, nullable=True),  # the victim defender's
    sa.Column("defender_kind", CODE, nullable=True),
    sa.Column("sectors", sa.String(400), nullable=True),  # ",code,code,"
    sa.Column("perpetrator_types", sa.String(400), nullable=False),  # ",code,code,"
    sa.Column("confidential", sa.Boolean, nullable=False),
    # Covers escalation patterns (amparo.analytics.aggregates.escalations): a defender's acts
    # in date order with what the patterns and the need-to-know scope test, read without
    # touching the table (migration 0011).
    sa.Index(
        "ix_act_facts_escalation",
        "victim_defender_id",
        "act_day",
        "modality",
        "act_type",
        "case_id",
        "confidential",
    ),
)

# One row per indexed record: its blind-index tokens as space-separated hex. The lookup
# structure over them is dialect-specific and created by the migration (see
# amparo/store/search_ddl.py): an FTS5 index on SQLite, a GIN index on PostgreSQL.
search_docs = sa.Table(
    "search_docs",
    metadata,
    sa.Column("doc", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", ID, nullable=False, unique=True),
    # Space-separated hex on SQLite (FTS5 reads it); a text array on PostgreSQL (GIN indexes it).
    sa.Column("tokens", sa.Text().with_variant(ARRAY(sa.Text), "postgresql"), nullable=False),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("incident_id", ID, nullable=True, index=True),  # survives incident deletion
    sa.Column("name_ct", CT, nullable=False),
    sa.Column("media_type", sa.String(120), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256_ct", CT, nullable=False),  # a plain hash would confirm a known file
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
)

# -- people and permissions (issue 3) -------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("username", sa.String(80), nullable=False, unique=True),  # case-folded
    sa.Column("display_name_ct", CT, nullable=True),
    sa.Column("role", CODE, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("password_changed_at", UTC, nullable=False),
    sa.Column("totp_secret_ct", CT, nullable=True),  # NULL until enrolled
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),  # replay protection
    sa.Column("mfa_enrolled_at", UTC, nullable=True),
    sa.Column("disabled_at", UTC, nullable=True),
    sa.Column("session_epoch", sa.Integer, nullable=False),  # bumped to kill all sessions
    sa.Column("language", sa.String(8), nullable=True),  # interface language; NULL: default
    sa.Column("created_at", UTC, nullable=False),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("code_hash", sa.String(255), nullable=False),
    sa.Column("used_at", UTC, nullable=True),
)

user_groups = sa.Table(
    "user_groups",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("created_at", UTC, nullable=False),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column(
        "group_id", ID, sa.ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

case_grants = sa.Table(
    "case_grants",
    metadata,
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("principal_type", sa.String(10), primary_key=True),  # user | group
    sa.Column("principal_id", ID, primary_key=True, index=True),
    sa.Column("level", sa.String(10), nullable=False),  # read | write
    sa.Column("granted_at", UTC, nullable=False),
    sa.Column("granted_by", sa.String(80), nullable=False),
)

# One row, bumped by database triggers (migration 0006) on every change to case_grants or
# group_members: a server may keep a user's grants while this number stands still.
access_epoch = sa.Table(
    "access_epoch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("epoch", sa.BigInteger, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("token_hash", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("scope", sa.String(10), nullable=False),  # read | write | admin
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("expires_at", UTC, nullable=False),
    sa.Column("revoked_at", UTC, nullable=True),
    sa.Column("last_used_at", UTC, nullable=True),
)

login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),  # keyed hash of account or address
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", UTC, nullable=False),
    sa.Column("blocked_until", UTC, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("at", UTC, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(60), nullable=False, index=True),
    sa.Column("object_type", sa.String(40), nullable=True),
    sa.Column("object_id", sa.String(64), nullable=True, index=True),
    sa.Column("detail", sa.Text, nullable=False),  # never field values
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("entry_hash", sa.LargeBinary(32), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # SHA-256 of the random cookie value: a stolen database yields no usable session.
    sa.Column("id_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("user_epoch", sa.Integer, nullable=False),  # must equal users.session_epoch
    sa.Column("mfa_complete", sa.Boolean, nullable=False),
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("last_seen_at", UTC, nullable=False),
    sa.Column("reauthenticated_at", UTC, nullable=True),
)

# -- evidence files and their chain of custody (issue 4) ------------------------------------

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("incident_id", ID, nullable=True, index=True),  # survives incident deletion
    sa.Column("kind", CODE, nullable=False),  # file | capture
    sa.Column("name_ct", CT, nullable=False),
    sa.Column("description_ct", CT, nullable=True),
    sa.Column("url_ct", CT, nullable=True),  # captures: the address as the user gave it
    sa.Column("captured_at", UTC, nullable=True),  # captures: when, as the user gave it
    # Sniffed from the bytes, never the client's word.
    sa.Column("media_type", sa.String(120), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256_ct", CT, nullable=False),  # sealed like attachments.sha256_ct
    sa.Column("original_blob", ID, nullable=False),  # generated file name, never the upload's
    sa.Column("shared_status", CODE, nullable=False),  # stripped | kept | none
    sa.Column("shared_media_type", sa.String(120), nullable=True),
    sa.Column("shared_size", sa.BigInteger, nullable=True),
    sa.Column("shared_sha256_ct", CT, nullable=True),
    sa.Column("shared_blob", ID, nullable=True),  # NULL when the copy equals the original
    sa.Column("removed_ct", CT, nullable=True),  # what the shared copy lost (JSON list)
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
)

# Append-only: the service has no update or delete (only shredding a case removes rows).
custody_log = sa.Table(
    "custody_log",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("evidence_id", ID, sa.ForeignKey("evidence.id"), nullable=False),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, 3 ... per evidence item
    sa.Column("at", UTC, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("event", CODE, nullable=False),
    sa.Column("sha256_ct", CT, nullable=True),
    sa.Column("shared_sha256_ct", CT, nullable=True),
    sa.Column("detail", sa.String(200), nullable=False),  # never values: result=ok, copy=...
    # HMAC over this entry and the previous one's mac: edits and deletions show.
    sa.Column("entry_mac", sa.LargeBinary(32), nullable=False),
    sa.UniqueConstraint("evidence_id", "seq"),
)

# -- online-abuse triage batches and risk-review flags (issue 6) -----------------------------

# One uploaded batch of messages, analysed for one defender and filed in her case.
triage_batches = sa.Table(
    "triage_batches",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("defender_id", ID, nullable=False, index=True),
    sa.Column("source_name_ct", CT, nullable=False),  # the uploaded file's name
    sa.Column("skipped_ct", CT, nullable=True),  # rows skipped, with row/column/reason (JSON)
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Integer, nullable=False),
    sa.Column("abusive", sa.Integer, nullable=False),  # messages with a category
    sa.Column("campaigns", sa.Integer, nullable=False),
    sa.Column("model_id", sa.String(400), nullable=False),
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
)

# Coordinated campaigns found in a batch; members point here through triage_messages.
triage_campaigns = sa.Table(
    "triage_campaigns",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("batch_id", ID, sa.ForeignKey("triage_batches.id"), nullable=False, index=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("rank", sa.Integer, nullable=False),  # 1 = strongest in its batch
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("accounts", sa.Integer, nullable=False),
    sa.Column("start_at", UTC, nullable=True),
    sa.Column("end_at", UTC, nullable=True),
    sa.Column("representative_id", ID, nullable=True),  # the member most like the others
    sa.Column("reasons_ct", CT, nullable=True),  # they can quote a link or hashtag (JSON)
    sa.Column("authors_ct", CT, nullable=True),  # account handles (JSON)
    sa.Column("status", CODE, nullable=False),  # new | accepted
    sa.Column("incident_id", ID, nullable=True),
    sa.Column("accepting_since", UTC, nullable=True),  # an accept in progress (its claim)
    sa.Column("reviewed_at", UTC, nullable=True),
    sa.Column("reviewed_by", sa.String(80), nullable=True),
)

# One message of a batch with its analysis and its review. Text, author, address and what
# quotes them (reasons, doxxing findings) are ciphertext; scores and categories are facets.
triage_messages = sa.Table(
    "triage_messages",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("batch_id", ID, sa.ForeignKey("triage_batches.id"), nullable=False, index=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("campaign_id", ID, nullable=True, index=True),
    sa.Column("row", sa.Integer, nullable=False),  # where it was in the file
    sa.Column("source_id_ct", CT, nullable=False),  # the platform's id of the post
    sa.Column("text_ct", CT, nullable=False),
    sa.Column("text_sha256_ct", CT, nullable=False),  # of the original text, UTF-8
    sa.Column("author_ct", CT, nullable=True),
    sa.Column("url_ct", CT, nullable=True),
    sa.Column("reply_to_ct", CT, nullable=True),
    sa.Column("platform", sa.String(40), nullable=True),
    sa.Column("posted_at", UTC, nullable=True),  # created_at in the export
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("urgency", sa.Integer, nullable=False),
    sa.Column("categories", sa.String(200), nullable=False),  # codes_column, model's
    sa.Column("scores", sa.Text, nullable=False),  # JSON: category -> 0..1
    sa.Column("model_scores", sa.Text, nullable=False),  # JSON: sexist, threats ...
    sa.Column("reasons_ct", CT, nullable=True),  # JSON; they quote the matched words
    sa.Column("doxxing_ct", CT, nullable=True),  # JSON [{kind, masked}]
    sa.Column("model_id", sa.String(400), nullable=False),
    sa.Column("status", CODE, nullable=False),  # new | relabelled | dismissed | accepted
    sa.Column("relabel", sa.String(200), nullable=True),  # codes_column, a person's
    sa.Column("relabelled_at", UTC, nullable=True),
    sa.Column("relabelled_by", sa.String(80), nullable=True),
    sa.Column("dismiss_reason_ct", CT, nullable=True),
    sa.Column("reviewed_at", UTC, nullable=True),
    sa.Column("reviewed_by", sa.String(80), nullable=True),
    sa.Column("incident_id", ID, nullable=True),
    sa.Column("evidence_id", ID, nullable=True),
    sa.Column("accepting_since", UTC, nullable=True),  # an accept in progress (its claim)
    sa.Index("ix_triage_messages_case_id_status_urgency", "case_id", "status", "urgency"),
)

# "Review this defender's risk": raised by triage (and later other sources), cleared by
# whoever reviews it (the risk assessments of a later issue).
risk_flags = sa.Table(
    "risk_flags",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("defender_id", ID, nullable=False, index=True),
    sa.Column("source_kind", CODE, nullable=False),  # triage_message | triage_campaign
    sa.Column("source_id", ID, nullable=False),
    sa.Column("incident_id", ID, nullable=True),
    sa.Column("reason_ct", CT, nullable=False),
    sa.Column("raised_at", UTC, nullable=False),
    sa.Column("raised_by", sa.String(80), nullable=False),
    sa.Column("cleared_at", UTC, nullable=True),
    sa.Column("cleared_by", sa.String(80), nullable=True),
    sa.Column("clear_note_ct", CT, nullable=True),
)


# Protection work: assessments are immutable (inserted, never updated), one version per
# defender per assessment. Item scores and bands are coded facets; notes are ciphertext.
risk_assessments = sa.Table(
    "risk_assessments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("defender_id", ID, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("scores", sa.Text, nullable=False),  # JSON {"T1": 3, ...}
    sa.Column("facts", sa.Text, nullable=False),  # ,code,code, (see amparo.domain.risk.FACTS)
    sa.Column("threat", sa.Float, nullable=False),
    sa.Column("vulnerability", sa.Float, nullable=False),
    sa.Column("capacity", sa.Float, nullable=False),
    sa.Column("risk_index", sa.Float, nullable=False),
    sa.Column("computed_band", CODE, nullable=False),
    sa.Column("band", CODE, nullable=False),  # after overrides and the officer's decision
    sa.Column("overrides", sa.Text, nullable=False),  # ,rule,rule,
    sa.Column("cutpoints", sa.String(80), nullable=False),  # the configuration it was scored by
    sa.Column("urgent_action", sa.Boolean, nullable=False),
    sa.Column("officer_band_reason_ct", CT, nullable=True),  # set when a person chose the band
    sa.Column("note_ct", CT, nullable=True),
    sa.Column("next_review", sa.Date, nullable=False),
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.UniqueConstraint("defender_id", "version"),
)

protection_measures = sa.Table(
    "protection_measures",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("kind", CODE, nullable=False),  # preventive | emergency
    sa.Column("driver", CODE, nullable=True),  # the risk item it answers (T1..C10), if any
    sa.Column("description_ct", CT, nullable=False),
    sa.Column("owner_ct", CT, nullable=True),  # who carries it out (a person: identity)
    sa.Column("due_on", sa.Date, nullable=True),
    sa.Column("status", CODE, nullable=False),  # intervention_status vocabulary
    sa.Column("priority", CODE, nullable=False),  # priorities vocabulary
    sa.Column("outcome_ct", CT, nullable=True),
    *_bookkeeping(),
)

urgent_actions = sa.Table(
    "urgent_actions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("kind", CODE, nullable=False),  # un_appeal | emergency_grant | relocation | legal_aid
    sa.Column("status", CODE, nullable=False),  # open | done | cancelled
    sa.Column("steps", sa.Text, nullable=False),  # JSON {step code: {"at": iso, "by": actor}}
    sa.Column("note_ct", CT, nullable=True),
    sa.Column("opened_at", UTC, nullable=False),
    sa.Column("opened_by", sa.String(80), nullable=False),
    sa.Column("closed_at", UTC, nullable=True),
)

checkin_schedules = sa.Table(
    "checkin_schedules",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("defender_id", ID, nullable=False, index=True),
    sa.Column("interval_minutes", sa.Integer, nullable=False),
    sa.Column("grace_minutes", sa.String(200), nullable=False),  # one per chain step: 30,60
    sa.Column("chain_ct", CT, nullable=False),  # JSON list of whom to alert, in order
    sa.Column("status", CODE, nullable=False),  # active | stopped | ended
    sa.Column("starts_at", UTC, nullable=False),
    sa.Column("ends_at", UTC, nullable=True),
    sa.Column("next_due_at", UTC, nullable=False, index=True),
    sa.Column("last_checkin_at", UTC, nullable=True),
    sa.Column("escalation_step", sa.Integer, nullable=False),  # chain steps alerted so far
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),  # SHA-256 of the link
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
)

checkins = sa.Table(
    "checkins",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("schedule_id", ID, sa.ForeignKey("checkin_schedules.id"), nullable=False, index=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("at", UTC, nullable=False),
    sa.Column("method", CODE, nullable=False),  # link | code | officer
    sa.Column("recorded_by", sa.String(80), nullable=False),
    sa.Column("note_ct", CT, nullable=True),
)

# The outbox: one row per message to send. ``dedupe_key`` is unique, so two schedulers that
# decide the same escalation at once insert it once; a sender claims rows with
# SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL) so two workers never send the same row.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=True, index=True),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Column("event", CODE, nullable=False),
    sa.Column("channel", CODE, nullable=False),  # email | webhook
    sa.Column("recipient_ct", CT, nullable=False),  # address or URL (and webhook secret)
    sa.Column("reference", sa.String(40), nullable=False),  # a case reference, not a name
    sa.Column("link", sa.String(400), nullable=False),
    sa.Column("status", CODE, nullable=False),  # pending | sent | failed | cancelled
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTC, nullable=False, index=True),
    sa.Column("claimed_by", sa.String(80), nullable=True),
    sa.Column("claimed_until", UTC, nullable=True),
    sa.Column("sent_at", UTC, nullable=True),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("created_at", UTC, nullable=False),
)

notification_prefs = sa.Table(
    "notification_prefs",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("email_ct", CT, nullable=True),
    sa.Column("webhook_ct", CT, nullable=True),  # JSON {"url": ..., "secret": ...}
    sa.Column("events", sa.Text, nullable=False),  # ,event,event, that she wants
    sa.Column("updated_at", UTC, nullable=False),
)

# Secure intake (issue 10). Submissions arrive sealed to an intake public key (libsodium sealed
# box) and stay sealed here: the server stores no readable part of them until a coordinator
# opens one, and then only decrypts it in memory. What stays plaintext is routing bookkeeping.
intake_keys = sa.Table(
    "intake_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False, unique=True),  # X25519, 32 bytes
    sa.Column("private_ct", CT, nullable=True),  # wrapped by the vault; NULL once retired
    sa.Column("status", CODE, nullable=False),  # active | previous | retired
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("retired_at", UTC, nullable=True),
)

intake_devices = sa.Table(
    "intake_devices",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False, unique=True),  # Ed25519, 32 bytes
    sa.Column("label_ct", CT, nullable=False),  # whose device it is: an identity
    sa.Column("status", CODE, nullable=False),  # active | revoked
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("revoked_at", UTC, nullable=True),
)

intake_submissions = sa.Table(
    "intake_submissions",
    metadata,
    sa.Column("id", ID, primary_key=True),  # bundles bring their own: replays collide here
    sa.Column("channel", CODE, nullable=False),  # form | api | bundle
    sa.Column("key_id", ID, sa.ForeignKey("intake_keys.id"), nullable=False, index=True),
    sa.Column("sealed_ct", CT, nullable=False),  # the sealed box, exactly as received
    sa.Column("device_key", sa.LargeBinary, nullable=True),  # the bundle's signer, as presented
    sa.Column("quarantine", CODE, nullable=True),  # unknown_device | revoked_device
    sa.Column("state", CODE, nullable=False),  # received | opened | accepted | linked | discarded
    sa.Column("receipt_hash", sa.String(64), nullable=True, unique=True),  # SHA-256 of the code
    sa.Column("received_at", UTC, nullable=False, index=True),  # to the hour: less metadata
    sa.Column("opened_at", UTC, nullable=True),
    sa.Column("opened_by", sa.String(80), nullable=True),
    sa.Column("decided_at", UTC, nullable=True),
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("reason_ct", CT, nullable=True),  # why it was discarded
    sa.Column("incident_id", ID, nullable=True),
    sa.Column("defender_id", ID, nullable=True),
)

# Submission counts per keyed client address and window (HMAC, never the address itself).
intake_rate = sa.Table(
    "intake_rate",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("window_start", UTC, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)
