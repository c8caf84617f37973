"""What triage makes of accepted messages: the incident record, its acts, the evidence page.

Pure functions over stored messages (amparo.services.triage holds the transactions).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Row

from amparo.clock import utc

if TYPE_CHECKING:
    from amparo.services.triage import StoredCampaign, TriageMessage

__all__ = [
    "ACT_TYPES",
    "act_types_for",
    "campaign_incident",
    "capture_page",
    "labels",
    "message_incident",
]

# The act types of amparo/vocab/act_types.csv each category documents as: a threat of death
# is A09, other threats and intimidation (rape threats included) A10, sexualised abuse A08,
# a smear A19, doxxing and sexist abuse online A20 (digital attack: doxxing, coordinated
# online abuse); a campaign is coordinated online abuse, A20, besides what its messages say.
ACT_TYPES: Mapping[str, str] = {
    "death_threat": "A09", "threat": "A10", "sexual_harassment": "A08", "smear": "A19",
    "doxxing": "A20", "sexist_derogation": "A20", "none": "A20", "campaign": "A20",
}  # fmt: skip
DEATH = re.compile(
    r"\b(?:kill\w*|murder\w*|dead|die|death|shoot|behead\w*|lynch\w*|hang|bury|"
    r"mat[aeo]\w*|muert[ao]s?|muerte|asesin\w*|degoll\w*|descuartiz\w*|balear|plomear|"
    r"enterrar|tuer|mort[e]?|morrer|morta)\b|emoji_(?:coffin|skull|pistol|hocho|dagger_knife)",
    re.IGNORECASE,
)
RAPE = re.compile(r"\b(?:rape\w*|violar\w*|violaci[oó]n|viol|estupr\w*)\b", re.IGNORECASE)
MAX_PERPETRATORS = 100  # a campaign of 5,000 accounts names the first hundred


def act_types_for(categories: Sequence[str], texts: Sequence[str]) -> list[str]:
    """Act types (codes of amparo/vocab/act_types.csv) for what the messages were judged."""
    out: list[str] = []
    for category in categories:
        code = ACT_TYPES.get(category, "A20")
        if category == "threat" and any(DEATH.search(t) for t in texts):
            code = ACT_TYPES["death_threat"]
        if code not in out:
            out.append(code)
    return out or [ACT_TYPES["none"]]


def message_incident(
    m: TriageMessage, batch: Row[Any], defender_id: str, defender_name: str, country: str
) -> dict[str, Any]:
    categories = [c for c in m.categories if c != "none"] or ["none"]
    names = labels(categories)
    who = m.author or "an unknown account"
    when = m.posted_at or utc(batch.created_at)
    narrative = "\n".join([
        f"Message from {who}" + (f" on {m.platform}" if m.platform else "")
        + f", posted {when.strftime('%Y-%m-%d %H:%M')} UTC" + (f" ({m.url})" if m.url else "")
        + ":", "", m.text, "",
        f"Amparo triage: {', '.join(names)}, urgency {m.urgency} (model {m.model_id}).",
        *[f"- {r}" for r in m.reasons[:10]],
    ])  # fmt: skip
    return {
        "title": f"Online {', '.join(names)} against {defender_name}"[:300],
        "narrative": narrative,
        "date_start": when.date().isoformat(),
        "country": country,
        "acts": [_act(code, categories, [m], defender_id, 1)
                 for code in act_types_for(categories, [m.text])],
        "perpetrators": [_perpetrator(m.author, m.platform)],
        "sources": [_source(m, batch)],
    }  # fmt: skip


def campaign_incident(
    campaign: StoredCampaign, members: list[TriageMessage], batch: Row[Any],
    defender_id: str, defender_name: str, country: str,
) -> dict[str, Any]:  # fmt: skip
    categories = list(dict.fromkeys(c for m in members for c in m.categories if c != "none"))
    names = labels(categories)
    start = campaign.start or utc(batch.created_at)
    end = campaign.end or start
    accounts = list(dict.fromkeys(m.author or f"unknown-{m.row}" for m in members))
    perpetrators = [_perpetrator(a, members[0].platform) for a in accounts[:MAX_PERPETRATORS]]
    narrative = "\n".join([
        f"A coordinated campaign of {len(members)} messages from {campaign.accounts} "
        f"accounts between {start.strftime('%Y-%m-%d %H:%M')} and "
        f"{end.strftime('%Y-%m-%d %H:%M')} UTC (score {campaign.score}).",
        *[f"- {r}" for r in campaign.reasons],
        "", "The message most like the others:", "", campaign.representative, "",
        f"Categories: {', '.join(names) or 'none'}. Accounts: {', '.join(accounts[:50])}"
        + (" ..." if len(accounts) > 50 else ""),
    ])  # fmt: skip
    codes = act_types_for(["campaign", *categories], [m.text for m in members])
    return {
        "title": f"Coordinated online campaign against {defender_name}"[:300],
        "narrative": narrative,
        "date_start": start.date().isoformat(),
        "date_end": end.date().isoformat() if end.date() != start.date() else None,
        "country": country,
        "acts": [_act(code, categories, members, defender_id, len(perpetrators))
                 for code in codes],
        "perpetrators": perpetrators,
        "sources": [_source(m, batch) for m in members[:20]],
    }  # fmt: skip


def _act(
    code: str, categories: Sequence[str], members: Sequence[TriageMessage],
    defender_id: str, perpetrators: int,
) -> dict[str, Any]:  # fmt: skip
    features = []
    if code == "A08" or ("sexual_harassment" in categories and code == "A20"):
        features.append("sexualised_content")
    if code in ("A09", "A10") and any(RAPE.search(m.text) for m in members):
        features.append("rape_threat")
    gendered = bool(features) or code == "A08" or "sexist_derogation" in categories
    dated = [m.posted_at for m in members if m.posted_at]
    return {
        "act_type": code, "victim_defender_id": defender_id, "modality": "online",
        "target_relation": "defender", "gender_specific": "yes" if gendered else "unknown",
        "gender_features": features,
        "act_date": min(dated).date().isoformat() if dated else None,
        "involvements": [{"perpetrator": i, "degree": "carried_out"}
                         for i in range(perpetrators)],
    }  # fmt: skip


def labels(categories: Sequence[str]) -> list[str]:
    return [c.replace("_", " ") for c in dict.fromkeys(categories) if c != "none"]


def _perpetrator(author: str | None, platform: str | None) -> dict[str, Any]:
    return {
        "perpetrator_type": "anonymous_online_accounts",
        "name": (author or "")[:300] or None,
        "description": f"Account on {platform}" if platform else "Online account",
    }


def _source(m: TriageMessage, batch: Row[Any]) -> dict[str, Any]:
    return {
        "source_type": "social_media_post", "reliability": "unknown",
        "identity": (m.url or m.author or m.source_id)[:2000],
        "description": f"Triage batch {batch.id}, row {m.row}; text SHA-256 {m.text_sha256}",
        "obtained_on": utc(batch.created_at).date().isoformat(),
    }  # fmt: skip


def capture_page(m: TriageMessage, batch_name: str) -> bytes:
    """A self-contained page (no script, no external resource) holding the original text,
    HTML-escaped (``html.unescape`` gives it back exactly), and what is known of the post."""
    e = html.escape
    facts = [("Author", m.author), ("Posted at (UTC)", m.posted_at and m.posted_at.isoformat()),
             ("Platform", m.platform), ("Address", m.url), ("Post id", m.source_id),
             ("In reply to", m.reply_to), ("Batch file", batch_name), ("Row", str(m.row)),
             ("Text SHA-256 (UTF-8)", m.text_sha256)]  # fmt: skip
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts if v)
    page = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>Message, row {m.row}</title></head><body>"
        f'<table>{rows}</table>\n<pre id="text">{e(m.text)}</pre>\n</body></html>\n'
    )
    return page.encode("utf-8")
