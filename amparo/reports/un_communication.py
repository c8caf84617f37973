"""A draft communication to the UN Special Rapporteur on human rights defenders, from a case.

The blocks A–H of ``DOMAIN.md`` §7 are filled from the records: A the victim, B her work
and the link between the attack and it, C the violations in order, D the alleged
perpetrators and their link to the State, E what was done nationally, F the submitting
source, G consent, H the request (an *urgent appeal* for ongoing or imminent harm, an
*allegation letter* for past harm).

It is a document for a person to review, never sent by Amparo. Three rules:

- **No consent, no draft.** Without a current, granted ``un_submission`` consent of the
  victim (not expired, and a choice of full name or initials for the public report),
  :func:`draft` raises :class:`Refused`, naming what is missing; nothing is written.
- **Missing facts are listed, not invented.** What the registry does not hold (the link to
  her work is a judgement; the submitting organisation is the writer's) is passed in or
  reported in :attr:`Draft.missing` and at the top of the document.
- **Need-to-know.** The draft holds identities meant to leave the vault: the reader needs
  ``export`` on the case (as for any export). Contact details never go into it (block A
  says they stay confidential with the submitting source).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from amparo.domain.models import Consent, Defender, Incident
from amparo.errors import Conflict
from amparo.reports.document import (
    Document,
    Fields,
    Notice,
    Paragraph,
    Section,
    Table,
    labeller,
    phrase,
)

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["KINDS", "Draft", "Refused", "draft", "export_communication"]

KINDS = ("urgent-appeal", "allegation")
DETENTION = frozenset({"A03", "A13", "A14"})  # disappearance, arrest, detention
MEDIA_ONLY = frozenset({"media_report", "social_media_post", "web_archive"})
RECENT = timedelta(days=90)  # harm this recent (or still going on) calls for an urgent appeal

# Each missing fact: code -> (English, Spanish). Codes go into the audit entry, never values.
FACTS: dict[str, tuple[str, str]] = {
    "A.victim": ("the victim: set the case's subject defender",
                 "la víctima: indique la persona defensora del caso"),
    "A.gender": ("A: her sex or gender identity", "A: su sexo o identidad de género"),
    "A.age": ("A: her age or year of birth", "A: su edad o año de nacimiento"),
    "A.nationality": ("A: her nationality", "A: su nacionalidad"),
    "A.residence": ("A: where she lives or works (country)", "A: dónde vive o trabaja (país)"),
    "B.work": ("B: her human rights work (sectors or organisation)",
               "B: su labor de derechos humanos (sectores u organización)"),
    "B.link": ("B: the link between the attack and her work (essential for this mandate)",
               "B: el vínculo entre el ataque y su labor (esencial para este mandato)"),
    "C.violation": ("C: at least one incident with an act against her",
                    "C: al menos un incidente con un acto contra ella"),
    "C.description": ("C: a description of what happened", "C: una descripción de lo ocurrido"),
    "C.place": ("C: where it happened (region or place)", "C: dónde ocurrió (región o lugar)"),
    "C.detention": ("C: for detention, the place of detention, access to a lawyer and the "
                    "charges", "C: para la detención, el lugar, el acceso a un abogado y los "
                    "cargos"),
    "D.perpetrator": ("D: the alleged perpetrators", "D: los presuntos perpetradores"),
    "E.national": ("E: action taken nationally (complaint, protection request) and its outcome",
                   "E: acciones tomadas en el país (denuncia, solicitud de protección) y su "
                   "resultado"),
    "F.source": ("F: the submitting organisation", "F: la organización que presenta"),
    "F.media_only": ("F: first-hand information: the incidents rest only on media reports",
                     "F: información de primera mano: los incidentes solo se basan en medios"),
    "G.consent": ("G: her consent to a UN submission (granted, current)",
                  "G: su consentimiento para comunicar a la ONU (otorgado, vigente)"),
    "G.name_choice": ("G: her choice of full name or initials in the public report",
                      "G: su elección de nombre completo o iniciales en el informe público"),
}  # fmt: skip

W: dict[str, tuple[str, str]] = {
    "urgent-appeal": ("Urgent appeal", "Llamamiento urgente"),
    "allegation": ("Allegation letter", "Carta de alegación"),
    "title": ("Draft communication to the UN Special Rapporteur on the situation of human "
              "rights defenders", "Borrador de comunicación al Relator Especial de la ONU sobre "
              "la situación de las personas defensoras de derechos humanos"),
    "review": ("DRAFT FOR REVIEW — check every fact with her and the case officer before "
               "sending. Contact details are deliberately left out.",
               "BORRADOR PARA REVISIÓN — verifique cada dato con ella y con la persona "
               "responsable del caso antes de enviar. Los datos de contacto se omiten a "
               "propósito."),
    "missing": ("Missing facts to complete before sending:",
                "Datos que faltan antes de enviar:"),
    "A": ("A. Victim", "A. Víctima"), "B": ("B. Human rights work and link to the attack",
          "B. Labor de derechos humanos y vínculo con el ataque"),
    "C": ("C. The violations", "C. Las violaciones"),
    "D": ("D. Alleged perpetrators and link to the State",
          "D. Presuntos perpetradores y vínculo con el Estado"),
    "E": ("E. Action taken nationally", "E. Acciones tomadas en el país"),
    "F": ("F. Submitting source (confidential)", "F. Fuente que presenta (confidencial)"),
    "G": ("G. Consent", "G. Consentimiento"), "H": ("H. Request", "H. Solicitud"),
    "name": ("Name", "Nombre"), "kind": ("Kind", "Tipo"),
    "sex": ("Sex", "Sexo"), "gender": ("Gender identity", "Identidad de género"),
    "age": ("Age", "Edad"), "nationality": ("Nationality", "Nacionalidad"),
    "occupation": ("Organisations", "Organizaciones"),
    "residence": ("Residence", "Residencia"), "contact": ("Contact", "Contacto"),
    "contact_kept": ("kept confidential by the submitting source",
                     "en reserva por la fuente que presenta"),
    "sectors": ("Sectors of work", "Sectores de trabajo"), "link": ("Link to the attack",
                "Vínculo con el ataque"),
    "date": ("Date", "Fecha"), "place": ("Place", "Lugar"), "acts": ("Acts", "Actos"),
    "description": ("Description", "Descripción"), "status": ("Status", "Estado"),
    "situation": ("Current situation", "Situación actual"),
    "chronology": ("Chronology", "Cronología"),
    "detention": ("Detention: place, lawyer access, charges",
                  "Detención: lugar, acceso a abogado, cargos"),
    "to_complete": ("to complete", "por completar"),
    "type": ("Type", "Tipo"), "state": ("State actor", "Agente estatal"),
    "degree": ("Involvement", "Participación"), "yes": ("yes", "sí"), "no": ("no", "no"),
    "action": ("Action", "Acción"), "outcome": ("Outcome", "Resultado"),
    "source": ("Submitted by", "Presentada por"),
    "consent_recorded": ("Consent to UN submission recorded on",
                         "Consentimiento para comunicar a la ONU registrado el"),
    "public_name": ("Name in the public report", "Nombre en el informe público"),
    "full_name": ("full name", "nombre completo"), "initials": ("initials", "iniciales"),
    "confirm": ("Before sending, confirm with her that she knows the State will be contacted "
                "and that a summary will become public.",
                "Antes de enviar, confirme con ella que sabe que se contactará al Estado y que "
                "un resumen se hará público."),
    "request_urgent": ("We ask the Special Rapporteur to send an urgent appeal to the State "
                       "concerned: the harm is ongoing or imminent. We ask that the State "
                       "take immediate measures to protect her life and integrity, and "
                       "investigate.",
                       "Solicitamos al Relator Especial que envíe un llamamiento urgente al "
                       "Estado: el daño es actual o inminente. Pedimos que el Estado adopte "
                       "medidas inmediatas para proteger su vida e integridad, e investigue."),
    "request_allegation": ("We ask the Special Rapporteur to send an allegation letter to the "
                           "State concerned about these past violations, asking for "
                           "information, investigation and redress.",
                           "Solicitamos al Relator Especial que envíe una carta de alegación "
                           "al Estado sobre estas violaciones pasadas, pidiendo información, "
                           "investigación y reparación."),
    "why_urgent": ("Why urgent", "Por qué urgente"),
    "risk": ("latest risk assessment", "última evaluación de riesgo"),
    "open_urgent": ("an urgent action is open", "hay una acción urgente abierta"),
    "recent": ("an attack in the last 90 days", "un ataque en los últimos 90 días"),
    "held": ("detention or disappearance recorded", "detención o desaparición registrada"),
    "none": ("None recorded.", "Nada registrado."),
}  # fmt: skip


class Refused(Conflict):
    """No draft: consent (block G) is missing. ``missing`` lists fact codes and texts."""

    def __init__(self, missing: Sequence[tuple[str, str]]) -> None:
        self.missing = list(missing)
        super().__init__("no UN communication without her consent: "
                         + "; ".join(text for _, text in self.missing))  # fmt: skip


@dataclass(frozen=True)
class Draft:
    kind: str
    document: Document
    missing: list[tuple[str, str]] = field(default_factory=list)  # (code, text)
    urgent_reasons: list[str] = field(default_factory=list)


def _consent(defender: Defender, today: date) -> Consent | None:
    """Her latest ``un_submission`` consent, if granted and still current."""
    records = sorted((c for c in defender.consents if c.purpose == "un_submission"),
                     key=lambda c: c.recorded_on)  # fmt: skip
    if not records:
        return None
    latest = records[-1]
    if not latest.granted or (latest.expires_on is not None and latest.expires_on < today):
        return None
    return latest


def _initials(name: str) -> str:
    return " ".join(f"{part[0]}." for part in name.split() if part[:1].isalpha())


def draft(
    registry: Registry, case_id: str, *, kind: str | None = None, lang: str = "en",
    link_to_work: str | None = None, submitted_by: str | None = None,
) -> Draft:  # fmt: skip
    """The draft for the case's subject defender; ``kind`` None chooses from the records."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    registry.require_in_case("export", "case", case_id, case_id)

    def w(key: str) -> str:
        return phrase(W, key, lang)

    def fact(code: str) -> tuple[str, str]:
        return (code, phrase(FACTS, code, lang))

    label = labeller(registry.vocab, lang)
    overview = registry.protection.overview(case_id)
    case = overview["case"]
    subject = case.subject_defender_id
    if subject is None and len(overview["people"]) == 1:
        subject = overview["people"][0]["id"]
    if subject is None:
        raise Refused([fact("A.victim")])
    defender = registry.defenders.get(subject)
    today = registry.clock.now().date()
    consent = _consent(defender, today)
    if consent is None:
        raise Refused([fact("G.consent")])
    if consent.name_choice not in ("full_name", "initials"):
        raise Refused([fact("G.name_choice")])

    missing: list[tuple[str, str]] = []
    incidents: list[Incident] = []
    for item in overview["incidents"]:
        inc = registry.incidents.get(item["id"])
        if any(a.victim_defender_id == subject for a in inc.acts):
            incidents.append(inc)
    incidents.sort(key=lambda i: i.date_start.value)
    acts = [(inc, a) for inc in incidents for a in inc.acts if a.victim_defender_id == subject]

    # -- A ---------------------------------------------------------------------------------
    age = (str(today.year - defender.birth_year) if defender.birth_year
           else label("age_bands", defender.age_band) if defender.age_band else None)  # fmt: skip
    for code, value in (("A.gender", defender.sex or defender.gender_identity),
                        ("A.age", age), ("A.nationality", defender.nationality),
                        ("A.residence", defender.country)):  # fmt: skip
        if not value:
            missing.append(fact(code))
    a_block = Fields((
        (w("name"), defender.legal_name or defender.display_name),
        (w("kind"), label("defender_kinds", defender.kind)),
        (w("sex"), label("sexes", defender.sex)),
        (w("gender"), label("gender_identities", defender.gender_identity)),
        (w("age"), age or "—"),
        (w("nationality"), label("countries", defender.nationality)),
        (w("occupation"), ", ".join(defender.organisations) or "—"),
        (w("residence"), ", ".join(p for p in (defender.region,
                                               label("countries", defender.country)) if p)),
        (w("contact"), w("contact_kept")),
    ))  # fmt: skip

    # -- B ---------------------------------------------------------------------------------
    if not defender.sectors and not defender.organisations:
        missing.append(fact("B.work"))
    link = (link_to_work or "").strip()
    if not link:
        missing.append(fact("B.link"))
    b_block = Fields((
        (w("sectors"), ", ".join(label("sectors", s) for s in defender.sectors) or "—"),
        (w("occupation"), ", ".join(defender.organisations) or "—"),
        (w("link"), link or f"[{w('to_complete')}]"),
    ))  # fmt: skip

    # -- C ---------------------------------------------------------------------------------
    c_blocks: list[Any] = []
    if not acts:
        missing.append(fact("C.violation"))
    if incidents and not any(inc.narrative for inc in incidents):
        missing.append(fact("C.description"))
    if incidents and not any(inc.place or inc.region for inc in incidents):
        missing.append(fact("C.place"))
    held = any(a.act_type in DETENTION for _, a in acts)
    if held:
        missing.append(fact("C.detention"))
    for inc in incidents:
        c_blocks.append(Fields((
            (w("date"), str(inc.date_start)),
            (w("place"), ", ".join(p for p in (inc.place, inc.region,
                                               label("countries", inc.country)) if p)),
            (w("acts"), ", ".join(label("act_types", a.act_type) for a in inc.acts
                                  if a.victim_defender_id == subject)),
            (w("status"), label("violation_status", inc.violation_status)),
            (w("description"), inc.narrative or f"[{w('to_complete')}]"),
        )))  # fmt: skip
    if held:
        c_blocks.append(Fields(((w("detention"), f"[{w('to_complete')}]"),)))
    latest_band = next((p["band"] for p in overview["people"] if p["id"] == subject), None)
    situation = ", ".join(x for x in (
        case.protection_status and f"{case.protection_status}",
        latest_band and f"{w('risk')}: {latest_band}",
        any(u.status == "open" for u in overview["urgent"]) and w("open_urgent"),
    ) if x)  # fmt: skip
    c_blocks.append(Fields(((w("situation"), situation or f"[{w('to_complete')}]"),)))
    c_blocks.append(Table((w("date"), w("acts")), tuple(
        ((a.act_date or inc.date_start.value).isoformat(), label("act_types", a.act_type))
        for inc, a in sorted(acts, key=lambda p: p[1].act_date or p[0].date_start.value)
    ), caption=w("chronology")))  # fmt: skip

    # -- D ---------------------------------------------------------------------------------
    perpetrators = []
    for inc, a in acts:
        for inv in a.involvements:
            if inv.perpetrator < len(inc.perpetrators):
                p = inc.perpetrators[inv.perpetrator]
                term = registry.vocab["perpetrator_types"].term(p.perpetrator_type)
                perpetrators.append((
                    label("perpetrator_types", p.perpetrator_type), p.name or "—",
                    w("yes") if term.attributes.get("state") == "yes" else w("no"),
                    label("involvement_degrees", inv.degree),
                ))  # fmt: skip
    if not perpetrators:
        missing.append(fact("D.perpetrator"))
    d_block = (Table((w("type"), w("name"), w("state"), w("degree")),
                     tuple(dict.fromkeys(perpetrators)))
               if perpetrators else Paragraph(w("none")))  # fmt: skip

    # -- E ---------------------------------------------------------------------------------
    actions = [(i.intervention_date.isoformat() if i.intervention_date else "—",
                i.intervener or "—", label("intervention_status", i.status), i.response or "—")
               for inc in incidents for i in inc.interventions]  # fmt: skip
    if not actions:
        missing.append(fact("E.national"))
    e_block = (Table((w("date"), w("action"), w("status"), w("outcome")), tuple(actions))
               if actions else Paragraph(w("none")))  # fmt: skip

    # -- F ---------------------------------------------------------------------------------
    source = (submitted_by or "").strip()
    if not source:
        missing.append(fact("F.source"))
    kinds = {s.source_type for inc in incidents for s in inc.sources}
    if incidents and kinds and kinds <= MEDIA_ONLY:
        missing.append(fact("F.media_only"))
    f_block = Fields(((w("source"), source or f"[{w('to_complete')}]"),))

    # -- G ---------------------------------------------------------------------------------
    public = (defender.legal_name or defender.display_name if consent.name_choice == "full_name"
              else _initials(defender.legal_name or defender.display_name))  # fmt: skip
    g_blocks = (
        Fields((
            (w("consent_recorded"), consent.recorded_on.isoformat()),
            (w("public_name"), f"{w(consent.name_choice)}: {public}"),
        )),
        Paragraph(w("confirm")),
    )  # fmt: skip

    # -- H ---------------------------------------------------------------------------------
    reasons = []
    if any(u.status == "open" for u in overview["urgent"]):
        reasons.append(w("open_urgent"))
    if latest_band in ("high", "extreme"):
        reasons.append(f"{w('risk')}: {latest_band}")
    if any(today - (a.act_date or inc.date_start.value) <= RECENT for inc, a in acts):
        reasons.append(w("recent"))
    if held:
        reasons.append(w("held"))
    chosen = kind or ("urgent-appeal" if reasons else "allegation")
    h_blocks: list[Any] = [Paragraph(w("request_urgent" if chosen == "urgent-appeal"
                                       else "request_allegation"))]  # fmt: skip
    if reasons:
        h_blocks.append(Fields(((w("why_urgent"), "; ".join(reasons)),)))

    head: list[Any] = [Notice(w("review"))]
    if missing:
        head.append(Notice(w("missing"), tuple(text for _, text in missing)))
    now = registry.clock.now()
    document = Document(
        title=f"{w(chosen)}: {w('title')}",
        lang=lang,
        generated_at=now,
        meta=(("Case", case_id), ("Date", today.isoformat())),
        sections=(
            Section(w(chosen), tuple(head)),
            Section(w("A"), (a_block,)),
            Section(w("B"), (b_block,)),
            Section(w("C"), tuple(c_blocks)),
            Section(w("D"), (d_block,)),
            Section(w("E"), (e_block,)),
            Section(w("F"), (f_block,)),
            Section(w("G"), g_blocks),
            Section(w("H"), tuple(h_blocks)),
        ),
        footer=phrase(W, "review", lang).split(" — ")[0],
    )
    return Draft(chosen, document, missing, reasons)


def export_communication(
    registry: Registry, case_id: str, *, kind: str | None = None, fmt: str = "pdf",
    lang: str = "en", link_to_work: str | None = None, submitted_by: str | None = None,
) -> tuple[Draft, bytes]:  # fmt: skip
    """The draft rendered as ``pdf`` or ``text``; one audit entry, refused ones included."""
    if fmt not in ("pdf", "text"):
        raise ValueError("fmt must be pdf or text")
    try:
        result = draft(registry, case_id, kind=kind, lang=lang, link_to_work=link_to_work,
                       submitted_by=submitted_by)  # fmt: skip
    except Refused as refusal:
        registry.audit.record_alone(
            "report.un_communication", object_type="case", object_id=case_id,
            detail={"refused": "yes", "missing": [code for code, _ in refusal.missing]},
        )  # fmt: skip
        raise
    if fmt == "pdf":
        from amparo.reports.pdf import render_pdf

        data = render_pdf(result.document)
    else:
        from amparo.reports.document import render_text

        data = render_text(result.document).encode("utf-8")
    registry.audit.record_alone(
        "report.un_communication", object_type="case", object_id=case_id,
        detail={"kind": result.kind, "format": fmt, "lang": lang,
                "missing": [code for code, _ in result.missing]},
    )  # fmt: skip
    return result, data
