"""A flat CSV of incidents for partners, with identities pseudonymised and detail coarsened.

Pseudonyms are ``HMAC-SHA256(key, kind | value)``, shortened: within one export the same
defender (place, incident, case) always gets the same pseudonym, so a partner can count
repeat victims; across exports they differ, because each export draws a fresh random key,
unless the same pseudonym passphrase is given again (``salt_passphrase``: the key is then
Argon2id of that passphrase, so two exports made with it can be joined, by design, and by
nobody who lacks it). Free text (titles, narratives, victim descriptions) is dropped by
default; dates are cut to the month and places to the region unless asked otherwise. Every
cell passes through ``safe_cell`` (no formulas). The columns are those of the flat import
form after an ``incident`` column.

Consent per purpose (DOMAIN.md section 8): an incident against a defender whose latest
``sharing_with_partners`` consent is not granted and current is left out (and counted), unless
``ignore_consent`` is set, which the audit entry records.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amparo.errors import ValidationError
from amparo.security.kdf import VAULT_FLOOR, KdfParams, derive_key
from amparo.services.csv_safety import safe_cell
from amparo.services.exports import csv_row
from amparo.services.records_io import CSV_COLUMNS

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.services.incidents import IncidentFilter

__all__ = ["COLUMNS", "PSEUDONYMISABLE", "PartnerOptions", "PartnerStats", "consenting_defenders",
           "partner_csv"]  # fmt: skip

PSEUDONYMISABLE = {"defenders": "P", "places": "L", "incidents": "I", "cases": "C"}
DATES = ("exact", "month", "year")
PLACES = ("exact", "region", "country")
FREE_TEXT = ("drop", "keep")
FREE_TEXT_COLUMNS = ("title", "narrative", "victim_description")
COLUMNS = ("incident", *CSV_COLUMNS)
PSEUDONYM_SALT = b"amparo/pseudonym"  # fixed: the passphrase alone decides the key
SHARING = "sharing_with_partners"  # the consent purpose (amparo/vocab/consent_purposes.csv)
PSEUDONYM_CHARS = 13  # base32 characters: 65 bits, no collisions at registry scale


@dataclass(frozen=True)
class PartnerOptions:
    pseudonymise: frozenset[str] = frozenset({"defenders", "incidents", "cases"})
    dates: str = "month"
    places: str = "region"
    free_text: str = "drop"
    salt_passphrase: str | None = None
    ignore_consent: bool = False
    kdf: KdfParams = field(default=VAULT_FLOOR)

    def check(self) -> None:
        unknown = self.pseudonymise - set(PSEUDONYMISABLE)
        if unknown:
            raise ValidationError("pseudonymise", f"unknown kind(s) {', '.join(sorted(unknown))}; "
                                  f"choose from {', '.join(PSEUDONYMISABLE)}")  # fmt: skip
        for name, value, allowed in (("dates", self.dates, DATES),
                                     ("places", self.places, PLACES),
                                     ("free_text", self.free_text, FREE_TEXT)):  # fmt: skip
            if value not in allowed:
                raise ValidationError(name, f"must be one of {', '.join(allowed)}")
        if self.salt_passphrase is not None and len(self.salt_passphrase) < 8:
            raise ValidationError("salt_passphrase", "needs at least 8 characters")

    def audit_detail(self) -> dict[str, object]:
        return {
            "pseudonymised": ",".join(sorted(self.pseudonymise)) or "none",
            "dates": self.dates, "places": self.places, "free_text": self.free_text,
            "linkable": "yes" if self.salt_passphrase else "no",
            "consent": "ignored" if self.ignore_consent else "required",
        }  # fmt: skip


@dataclass
class PartnerStats:
    written: int = 0
    withheld: int = 0  # incidents left out for want of a defender's consent to sharing


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, value: str | None) -> str | None:
        if not value:
            return value
        text = unicodedata.normalize("NFC", value).strip().casefold() if kind == "places" else value
        mac = hmac.new(self._key, f"{kind}|{text}".encode(), hashlib.sha256).digest()
        code = base64.b32encode(mac).decode("ascii")[:PSEUDONYM_CHARS]
        return f"{PSEUDONYMISABLE[kind]}-{code}"


def pseudonym_key(options: PartnerOptions) -> bytes:
    if options.salt_passphrase is None:
        return os.urandom(32)  # this export only: nothing can join it to another
    secret = unicodedata.normalize("NFC", options.salt_passphrase).encode("utf-8")
    return derive_key(secret, PSEUDONYM_SALT, options.kdf)


def _coarse_date(text: str | None, precision: str | None, dates: str) -> tuple[Any, Any]:
    if not text or dates == "exact":
        return text, precision
    approx = text.startswith("~")
    bare = text.lstrip("~")
    if dates == "month":
        cut, coarser = bare[:7], "unknown_day"
        keep: tuple[str, ...] = ("unknown_day", "unknown_month")
    else:
        cut, coarser = bare[:4], "unknown_month"
        keep = ("unknown_month",)
    new_precision = "estimate" if approx else (precision if precision in keep else coarser)
    return ("~" if approx else "") + cut, new_precision


def partner_row(incident: Any, options: PartnerOptions, names: Pseudonyms) -> dict[str, Any]:
    row = csv_row(incident)
    row["incident"] = incident.id
    if options.free_text == "drop":
        for column in FREE_TEXT_COLUMNS:
            row[column] = None
    row["date_start"], precision = _coarse_date(
        row.get("date_start"), row.get("date_precision"), options.dates
    )
    row["date_end"], _ = _coarse_date(row.get("date_end"), None, options.dates)  # fmt: skip
    row["date_precision"] = precision
    if options.places in ("region", "country"):
        row["place"] = None
        row["location_precision"] = options.places
    if options.places == "country":
        row["region"] = None
    for kind, column in (("defenders", "victim_defender_id"), ("places", "place"),
                         ("incidents", "incident"), ("cases", "case_id")):  # fmt: skip
        if kind in options.pseudonymise:
            row[column] = names(kind, row.get(column))
    return row


def consenting_defenders(registry: Registry) -> set[str]:
    """Defenders whose latest consent to sharing with partners is granted and current."""
    import sqlalchemy as sa

    from amparo.store import schema

    c = schema.consents
    today = registry.clock.today()
    latest: dict[str, tuple[Any, int, bool, Any]] = {}
    with registry.store.read() as conn:
        for row in conn.execute(
            sa.select(c.c.defender_id, c.c.recorded_on, c.c.position, c.c.granted,
                      c.c.expires_on).where(c.c.purpose == SHARING)
        ):  # fmt: skip
            key = (row.recorded_on, row.position)
            seen = latest.get(row.defender_id)
            if seen is None or key >= seen[:2]:
                latest[row.defender_id] = (row.recorded_on, row.position, row.granted,
                                           row.expires_on)  # fmt: skip
    return {
        d for d, (_, _, granted, expires) in latest.items()
        if granted and (expires is None or expires >= today)
    }  # fmt: skip


def partner_csv(
    registry: Registry, options: PartnerOptions, query: IncidentFilter | None = None,
    stats: PartnerStats | None = None,
) -> Iterator[str]:  # fmt: skip
    """The CSV, a chunk at a time. Needs ``export`` on every case involved; one audit entry
    (``records.export_partner``) with the options, never a value."""
    options.check()
    counts = stats if stats is not None else PartnerStats()
    names = Pseudonyms(pseudonym_key(options))
    consenting = None if options.ignore_consent else consenting_defenders(registry)
    incidents = registry.incidents.export(
        query, fmt="partner_csv", action="records.export_partner", detail=options.audit_detail()
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for incident in incidents:
        victims = {a.victim_defender_id for a in incident.acts if a.victim_defender_id}
        if consenting is not None and not victims <= consenting:
            counts.withheld += 1
            continue
        counts.written += 1
        row = partner_row(incident, options, names)
        writer.writerow([safe_cell(row.get(column)) for column in COLUMNS])
        yield flush()
