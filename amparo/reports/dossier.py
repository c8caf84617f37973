"""A case dossier: its people, incidents and acts, evidence (with hashes), risk assessments
and protection plan in one document, redacted according to who reads it.

What a reader gets is decided by ``allowed()`` on the case, never by the role's name:

- ``full``: the reader may ``export`` the case (a coordinator with a write grant, an
  administrator member, both re-authenticated; the vault holder at the CLI). Everything,
  contact details, legal names, sources' identities and confidential records included: a
  dossier is a document that leaves the vault, and these travel only with someone
  entrusted to export.
- ``identities``: the reader may ``read_identity`` (a member of the case). Names, narratives,
  places and evidence are shown; contact details, legal names, the people close to a
  defender, sources' identities and the text of records marked confidential read
  :data:`~amparo.reports.document.REDACTED`.
- ``facets``: the reader may only ``read_pseudonymised`` (an analyst). Coded facets under
  stable pseudonyms; every identity reads ``[redacted]``.
- anyone else: :class:`~amparo.errors.NotFound`, as for a case that does not exist.

Every record is read through its service, so each read is audited as usual; the dossier
itself adds one ``report.dossier`` entry (level, format, counts; never a name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amparo.errors import NotFound
from amparo.reports.document import (
    REDACTED,
    Document,
    Fields,
    Notice,
    Paragraph,
    Section,
    Table,
    labeller,
    phrase,
)
from amparo.security.permissions import Resource
from amparo.services.incidents import IncidentFilter
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["LEVELS", "access_level", "build_dossier", "export_dossier"]

LEVELS = ("full", "identities", "facets")

W: dict[str, tuple[str, str]] = {
    "title": ("Case dossier", "Expediente del caso"),
    "case": ("Case", "Caso"),
    "generated": ("Generated", "Generado"),
    "reader": ("Prepared for", "Preparado para"),
    "level": ("Detail shown", "Detalle mostrado"),
    "full": ("full (may export this case)", "completo (puede exportar este caso)"),
    "identities": ("identities without contact details or confidential records",
                   "identidades sin datos de contacto ni registros confidenciales"),
    "facets": ("coded facets only (pseudonymised)", "solo facetas codificadas (seudonimizado)"),
    "footer": ("CONFIDENTIAL: contains information about people at risk. Do not forward.",
               "CONFIDENCIAL: contiene información sobre personas en riesgo. No reenviar."),
    "redaction_note": ("Values shown as [redacted] are withheld because this reader may not "
                       "see them.",
                       "Los valores que aparecen como [redacted] se ocultan porque esta "
                       "persona lectora no tiene permiso para verlos."),
    "protection": ("Protection", "Protección"),
    "status": ("Status", "Estado"),
    "protection_status": ("Protection status", "Estado de protección"),
    "priority": ("Priority", "Prioridad"),
    "review_due": ("Next review", "Próxima revisión"),
    "officer": ("Protection officer", "Responsable de protección"),
    "people": ("People", "Personas"),
    "name": ("Name", "Nombre"),
    "legal_name": ("Legal name", "Nombre legal"),
    "kind": ("Kind", "Tipo"),
    "gender": ("Gender identity", "Identidad de género"),
    "country": ("Country", "País"),
    "region": ("Region", "Región"),
    "sectors": ("Sectors", "Sectores"),
    "organisations": ("Organisations", "Organizaciones"),
    "contacts": ("Contact details", "Datos de contacto"),
    "close": ("People close to her", "Personas cercanas"),
    "consents": ("Consents", "Consentimientos"),
    "granted": ("granted", "otorgado"),
    "refused": ("refused", "denegado"),
    "incidents": ("Incidents", "Incidentes"),
    "date": ("Date", "Fecha"),
    "place": ("Place", "Lugar"),
    "violation": ("Violation status", "Estado de la violación"),
    "narrative": ("Narrative", "Narración"),
    "acts": ("Acts", "Actos"),
    "act_type": ("Act type", "Tipo de acto"),
    "victim": ("Victim", "Víctima"),
    "modality": ("Modality", "Modalidad"),
    "gender_specific": ("Gender-specific", "Específico de género"),
    "perpetrators": ("Perpetrators", "Perpetradores"),
    "perpetrator_type": ("Type", "Tipo"),
    "sources": ("Sources", "Fuentes"),
    "source_type": ("Source type", "Tipo de fuente"),
    "reliability": ("Reliability", "Fiabilidad"),
    "identity": ("Identity", "Identidad"),
    "interventions": ("Interventions", "Intervenciones"),
    "evidence": ("Evidence", "Evidencia"),
    "file": ("Item", "Elemento"),
    "sha256": ("SHA-256 (original)", "SHA-256 (original)"),
    "shared_sha256": ("SHA-256 (shared copy)", "SHA-256 (copia compartida)"),
    "size": ("Bytes", "Bytes"),
    "captured": ("Captured", "Capturado"),
    "risk": ("Risk assessments", "Evaluaciones de riesgo"),
    "version": ("Version", "Versión"),
    "band": ("Band", "Nivel"),
    "index": ("Index", "Índice"),
    "tvc": ("T / V / C", "A / V / C"),
    "drivers": ("Drivers", "Factores"),
    "plan": ("Protection plan", "Plan de protección"),
    "measure": ("Measure", "Medida"),
    "owner": ("Owner", "Responsable"),
    "due": ("Due", "Vence"),
    "urgent": ("Urgent actions", "Acciones urgentes"),
    "steps": ("Steps done", "Pasos hechos"),
    "none": ("None recorded.", "Nada registrado."),
    "confidential": ("confidential record", "registro confidencial"),
}  # fmt: skip


@dataclass(frozen=True)
class _View:
    level: str
    lang: str
    label: Callable[[str, str | None], str]

    def w(self, key: str) -> str:
        return phrase(W, key, self.lang)

    def ident(self, value: str | None, *, sensitive: bool = False) -> str:
        """An identity: shown at ``identities`` (``sensitive`` ones only at ``full``)."""
        if self.level == "facets" or (sensitive and self.level != "full"):
            return REDACTED
        return value or "—"


def access_level(registry: Registry, case_id: str) -> str:
    """The most this registry's principal may see of the case (see the module docstring)."""
    case = Resource("case", case_id)
    if registry.allowed("export", case):
        return "full"
    if registry.allowed("read_identity", case):
        return "identities"
    if registry.allowed("read_pseudonymised", Resource("registry")):
        return "facets"
    raise NotFound(f"no case {case_id}")


def build_dossier(registry: Registry, case_id: str, *, lang: str = "en") -> Document:
    level = access_level(registry, case_id)
    with registry.store.read() as conn:
        row = conn.execute(sa.select(schema.cases.c.id, schema.cases.c.shredded_at)
                           .where(schema.cases.c.id == case_id)).first()  # fmt: skip
    if row is None or row.shredded_at is not None:
        raise NotFound(f"no case {case_id}")
    view = _View(level, lang, labeller(registry.vocab, lang))
    sections = (_facets_sections(registry, case_id, view) if level == "facets"
                else _identity_sections(registry, case_id, view))  # fmt: skip
    now = registry.clock.now()
    return Document(
        title=f"{view.w('title')} {case_id[:12]}",
        lang=lang,
        generated_at=now,
        meta=(
            (view.w("case"), case_id),
            (view.w("generated"), now.strftime("%Y-%m-%d %H:%M UTC")),
            (view.w("reader"), f"{registry.actor} ({registry.principal.role})"),
            (view.w("level"), view.w(level)),
        ),
        sections=(
            Section(view.w("level"), (Notice(view.w("redaction_note")),))
            if level != "full"
            else Section(view.w("level"), (Paragraph(view.w(level)),)),
            *sections,
        ),
        footer=view.w("footer"),
        extra={"level": level},
    )


def export_dossier(registry: Registry, case_id: str, *, fmt: str = "html",
                   lang: str = "en") -> bytes:  # fmt: skip
    """The dossier rendered as ``html`` or ``pdf`` bytes; one ``report.dossier`` entry."""
    if fmt not in ("html", "pdf"):
        raise ValueError("fmt must be html or pdf")
    doc = build_dossier(registry, case_id, lang=lang)
    if fmt == "pdf":
        from amparo.reports.pdf import render_pdf

        data = render_pdf(doc)
    else:
        from amparo.reports.html import render_html

        data = render_html(doc).encode("utf-8")
    registry.audit.record_alone(
        "report.dossier", object_type="case", object_id=case_id,
        detail={"level": doc.extra["level"], "format": fmt, "lang": lang},
    )  # fmt: skip
    return data


def _or_none(blocks: list[Any], view: _View) -> tuple[Any, ...]:
    return tuple(blocks) if blocks else (Paragraph(view.w("none")),)


def _identity_sections(registry: Registry, case_id: str, v: _View) -> tuple[Section, ...]:
    overview = registry.protection.overview(case_id)
    case = overview["case"]
    label = v.label
    protection = Section(v.w("protection"), (Fields((
        (v.w("case"), v.ident(case.title)),
        (v.w("status"), case.status),
        (v.w("protection_status"), case.protection_status or "—"),
        (v.w("priority"), label("priorities", case.priority)),
        (v.w("review_due"), case.review_due.isoformat() if case.review_due else "—"),
        (v.w("officer"), overview["officer"] or "—"),
    )),))  # fmt: skip

    people_blocks: list[Any] = []
    risk_blocks: list[Any] = []
    names: dict[str, str] = {}
    for person in overview["people"]:
        d = registry.defenders.get(person["id"])
        hidden = d.confidential and v.level != "full"
        name = REDACTED if hidden else d.display_name
        names[person["id"]] = name
        people_blocks.append(Fields((
            (v.w("name"), name),
            (v.w("legal_name"), v.ident(d.legal_name, sensitive=True)),
            (v.w("kind"), label("defender_kinds", d.kind)),
            (v.w("gender"), label("gender_identities", d.gender_identity)),
            (v.w("country"), label("countries", d.country)),
            (v.w("region"), REDACTED if hidden else d.region or "—"),
            (v.w("sectors"), ", ".join(label("sectors", s) for s in d.sectors) or "—"),
            (v.w("organisations"), REDACTED if hidden else ", ".join(d.organisations) or "—"),
            (v.w("contacts"), v.ident(d.contacts, sensitive=True)),
            (v.w("close"), "; ".join(
                f"{label('target_relations', p.relation)}: {v.ident(p.name, sensitive=True)}"
                for p in d.close_people) or "—"),
            (v.w("consents"), "; ".join(
                f"{label('consent_purposes', c.purpose)} "
                f"{v.w('granted') if c.granted else v.w('refused')} {c.recorded_on.isoformat()}"
                for c in d.consents) or "—"),
        )))  # fmt: skip
        history = registry.risk.history(person["id"])
        if history:
            risk_blocks.append(Table(
                (v.w("version"), v.w("date"), v.w("band"), v.w("index"), v.w("tvc"),
                 v.w("drivers"), v.w("review_due")),
                tuple((str(a.version), a.created_at.date().isoformat(), a.band,
                       f"{a.index:.2f}", f"{a.threat:.2f} / {a.vulnerability:.2f} / "
                       f"{a.capacity:.2f}", ", ".join(d.code for d in a.drivers[:5]) or "—",
                       a.next_review.isoformat()) for a in history),
                caption=name,
            ))  # fmt: skip

    incident_blocks: list[Any] = []
    incident_ids = [item["id"] for item in overview["incidents"]]
    for incident_id in incident_ids:
        inc = registry.incidents.get(incident_id)
        hidden = inc.confidential and v.level != "full"

        def text(value: str | None, *, hidden: bool = hidden) -> str:
            return REDACTED if hidden else value or "—"

        title = text(inc.title) + (f" ({v.w('confidential')})" if inc.confidential else "")
        incident_blocks.append(Fields((
            (v.w("incidents"), title),
            (v.w("date"), str(inc.date_start)),
            (v.w("country"), label("countries", inc.country)),
            (v.w("place"), text(", ".join(p for p in (inc.place, inc.region) if p))),
            (v.w("violation"), label("violation_status", inc.violation_status)),
            (v.w("narrative"), text(inc.narrative)),
        )))  # fmt: skip
        incident_blocks.append(Table(
            (v.w("act_type"), v.w("victim"), v.w("date"), v.w("modality"),
             v.w("gender_specific"), v.w("perpetrators")),
            tuple((label("act_types", a.act_type),
                   names.get(a.victim_defender_id or "", text(a.victim_description))
                   if a.victim_defender_id or a.victim_description else "—",
                   a.act_date.isoformat() if a.act_date else "—",
                   label("modalities", a.modality),
                   label("yes_no_unknown", a.gender_specific),
                   ", ".join(label("perpetrator_types",
                                   inc.perpetrators[i.perpetrator].perpetrator_type)
                             + f" ({label('involvement_degrees', i.degree)})"
                             for i in a.involvements if i.perpetrator < len(inc.perpetrators))
                   or "—") for a in inc.acts),
            caption=v.w("acts"),
        ))  # fmt: skip
        if inc.sources:
            incident_blocks.append(Table(
                (v.w("source_type"), v.w("reliability"), v.w("identity")),
                tuple((label("source_types", s.source_type), label("reliability", s.reliability),
                       v.ident(s.identity, sensitive=True)) for s in inc.sources),
                caption=v.w("sources"),
            ))  # fmt: skip
        if inc.interventions:
            incident_blocks.append(Table(
                (v.w("date"), v.w("status"), v.w("priority"), v.w("owner")),
                tuple((i.intervention_date.isoformat() if i.intervention_date else "—",
                       label("intervention_status", i.status), label("priorities", i.priority),
                       text(i.intervener)) for i in inc.interventions),
                caption=v.w("interventions"),
            ))  # fmt: skip

    items = registry.evidence.list(case_id=case_id)
    evidence = [Table(
        (v.w("file"), v.w("kind"), v.w("size"), v.w("sha256"), v.w("shared_sha256"),
         v.w("captured")),
        tuple((e.name, e.kind, str(e.size), e.sha256, e.shared_sha256 or "—",
               (e.captured_at or e.created_at).date().isoformat()) for e in items),
    )] if items else []  # fmt: skip

    measures = overview["measures"]
    plan = [Table(
        (v.w("measure"), v.w("kind"), v.w("owner"), v.w("due"), v.w("status"), v.w("priority")),
        tuple((m.description, m.kind, m.owner or "—",
               m.due_on.isoformat() if m.due_on else "—",
               label("intervention_status", m.status), label("priorities", m.priority))
              for m in measures),
    )] if measures else []  # fmt: skip
    urgent = [Table(
        (v.w("kind"), v.w("status"), v.w("date"), v.w("steps")),
        tuple((u.kind, u.status, u.opened_at.date().isoformat(),
               f"{sum(done for _, _, done in u.checklist)}/{len(u.checklist)}")
              for u in overview["urgent"]),
        caption=v.w("urgent"),
    )] if overview["urgent"] else []  # fmt: skip
    return (
        protection,
        Section(v.w("people"), _or_none(people_blocks, v)),
        Section(v.w("incidents"), _or_none(incident_blocks, v)),
        Section(v.w("evidence"), _or_none(evidence, v)),
        Section(v.w("risk"), _or_none(risk_blocks, v)),
        Section(v.w("plan"), _or_none(plan + urgent, v)),
    )


def _facets_sections(registry: Registry, case_id: str, v: _View) -> tuple[Section, ...]:
    """An analyst's dossier: what ``pseudonymised`` gives, and nothing read by identity."""
    label = v.label
    rows = registry.incidents.pseudonymised(IncidentFilter(case_id=case_id))
    blocks: list[Any] = []
    for r in sorted(rows, key=lambda r: (r["date_start"], r["incident"])):
        blocks.append(Fields((
            (v.w("incidents"), r["incident"]),
            (v.w("date"), r["date_start"]),
            (v.w("country"), label("countries", r["country"])),
            (v.w("place"), REDACTED),
            (v.w("violation"), label("violation_status", r["violation_status"])),
            (v.w("narrative"), REDACTED),
        )))  # fmt: skip
        blocks.append(Table(
            (v.w("act_type"), v.w("victim"), v.w("modality"), v.w("gender_specific"),
             v.w("gender")),
            tuple((label("act_types", a["act_type"]), a["victim"] or REDACTED,
                   label("modalities", a["modality"]),
                   label("yes_no_unknown", a["gender_specific"]),
                   label("gender_identities", a["victim_gender_identity"]))
                  for a in r["acts"]),
            caption=v.w("acts"),
        ))  # fmt: skip
    redacted = (Paragraph(REDACTED),)
    return (
        Section(v.w("protection"), (Fields(((v.w("case"), REDACTED),)),)),
        Section(v.w("people"), redacted),
        Section(v.w("incidents"), _or_none(blocks, v)),
        Section(v.w("evidence"), redacted),
        Section(v.w("risk"), redacted),
        Section(v.w("plan"), redacted),
    )
