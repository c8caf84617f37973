"""Hand-written rules for what a statistical model trained on English forum posts misses or
must not be trusted with alone: threats, sexualised harassment and the smears used against
defenders, in English and Spanish (tested), with first Portuguese and French patterns
(untested against data: ``claims`` says so).

Rules read the normalised text (amparo.triage.normalise), so "te vamos a m4t4r" and
"k i l l her" match, and also its squeezed form, so "diiiie" matches "die". Each hit names its
category, language and the words that matched: the rationale a reviewer sees.

Smears are the labels that turn a defender into a target: criminal, terrorist, guerrilla,
foreign agent, traitor, paid or bought, immoral. The word alone is not enough ("terrorist
attack" in the news is not a smear), so a smear rule needs the label said *of someone*: a
copula or an address ("she is a terrorist", "eres una guerrillera", "esa vieja terrorista",
"terrorist bitch") or a fixed stigmatising phrase ("foreign agent", "enemy of the people").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amparo.triage.normalise import Normalised

__all__ = ["CATEGORIES", "RuleHit", "claims", "match"]

CATEGORIES = {
    "threat": "threat of violence (death, rape, harm to family, incitement)",
    "sexual_harassment": "sexualised harassment",
    "smear": "smear or stigmatisation of a defender",
}

# Languages each category's rules have tests for (tests/triage/test_rules.py). Portuguese
# and French patterns exist but nothing measured them: they are not claimed.
claims = {"threat": ("en", "es"), "sexual_harassment": ("en", "es"), "smear": ("en", "es")}


@dataclass(frozen=True)
class RuleHit:
    category: str
    lang: str
    rule: str  # a short name of the rule
    weight: float  # 0..1, how strongly the rule alone indicates the category
    words: str  # the matched text (normalised)


_YOU_EN = r"(?:you|u|ya|her|him|them|this\s+(?:bitch|woman|guy)|that\s+(?:bitch|woman))"
_TE_ES = r"(?:te|la|lo|les|los|las)"
_KILL_ES = (
    r"(?:matar|mata|maten|matamos|asesinar|desaparecer|picar|quemar|degollar|descuartizar|"
    r"balear|plomear|enterrar|callar\s+para\s+siempre)"
)
_LABELS_EN = (
    r"(?:criminal|terrorist|terrorist\s+sympathi[sz]er|guerrilla|commie\s+terrorist|"
    r"narco|drug\s+dealer|traitor|foreign\s+agent|paid\s+(?:agent|activist|shill|troll)|"
    r"(?:soros|cia|kgb|foreign)[\s-]+(?:funded|paid|puppet|agent|shill)|liar|fraud|"
    r"thief|crook|mercenary|sellout|sell[\s-]out|enemy\s+of\s+the\s+(?:people|state|nation)|"
    r"immoral|degenerate|whore|prostitute|criminal\s+defender|front\s+for\s+\w+)"
)
_LABELS_ES = (
    r"(?:criminal|delincuente|terrorista|guerrillera?|guerrillero|narcotraficante|narca?|"
    r"sicari[oa]|mafios[oa]|traidora?|traidor\s+a\s+la\s+patria|vendepatrias?|apátrida|"
    r"agente\s+extranjer[oa]|agente\s+de\s+la\s+cia|comprad[oa]|pagad[oa]|vendid[oa]|"
    r"financiad[oa]\s+por\s+\w+|mercenari[oa]|mentiros[oa]|farsante|ladr[oó]na?|corrupt[oa]|"
    r"inmoral|degenerad[oa]|enemig[oa]\s+del\s+(?:pueblo|estado|progreso|desarrollo)|"
    r"aliad[oa]\s+de\s+(?:la\s+guerrilla|los\s+terroristas|las\s+farc|los\s+narcos))"
)

RULES: tuple[tuple[str, str, str, float, str], ...] = (
    # (category, language, rule name, weight, pattern)
    # -- threats, English
    (
        "threat",
        "en",
        "kill-you",
        0.95,
        rf"\b(?:i'?ll|i\s+will|we'?ll|we\s+will|gonna|going\s+to|i'?m\s+going\s+to|someone\s+should|"
        rf"somebody\s+should|should|need\s+to|must)\s+(?:\w+\s+)?(?:kill|murder|shoot|stab|hang|"
        rf"burn|behead|lynch|bury|end|rape|beat|hurt)\s+{_YOU_EN}\b",
    ),
    (
        "threat",
        "en",
        "you-will-die",
        0.9,
        r"\b(?:you|u|she|he)\s*(?:'ll|will|are\s+going\s+to|r\s+gonna|gonna|should|deserve\s+to)\s+"
        r"(?:die|be\s+(?:killed|shot|raped|hanged|hung|buried|dead))\b",
    ),
    (
        "threat",
        "en",
        "days-counted",
        0.85,
        r"\b(?:your|her|his)\s+days\s+are\s+(?:numbered|counted)\b|\b(?:you'?re|you\s+are)\s+"
        r"(?:dead|next|a\s+dead\s+(?:woman|man))\b|\bsleep\s+with\s+one\s+eye\s+open\b|"
        r"\bwatch\s+your\s+back\b|\bbullet\s+(?:in|through)\s+(?:your|her|his)\s+head\b",
    ),
    (
        "threat",
        "en",
        "family",
        0.9,
        r"\b(?:your|her|his)\s+(?:kids|children|son|daughter|family|husband|mother)\s+(?:will|are\s+"
        r"going\s+to|gonna)\s+(?:pay|suffer|die|be\s+next)\b",
    ),
    (
        "threat",
        "en",
        "rape-threat",
        0.95,
        r"\b(?:should|deserves?\s+to|needs?\s+to|will|gonna)\s+(?:be|get)\s+(?:raped|gang[\s-]?raped)\b"
        r"|\b(?:rape|gang[\s-]?rape)\s+(?:you|her|that\s+\w+)\b",
    ),
    (
        "threat",
        "en",
        "incitement",
        0.8,
        r"\b(?:someone|somebody|anyone)\s+(?:should|needs?\s+to|go)\s+(?:kill|shoot|shut\s+up|"
        r"take\s+(?:care\s+of|out)|deal\s+with)\s+(?:her|him|this|that|them)\b|"
        r"\b(?:hang|shoot|kill)\s+(?:them|her|him)\s+all\b",
    ),
    # -- threats, Spanish
    (
        "threat",
        "es",
        "te-vamos-a-matar",
        0.95,
        rf"\b(?:{_TE_ES})\s+(?:vamos|voy|van|va)\s+a\s+{_KILL_ES}\b|\b{_KILL_ES}(?:te|la|lo|las|los)\b"
        rf"|\b(?:hay\s+que|deber[ií]an|habr[ií]a\s+que|ojal[aá]\s+(?:alguien\s+)?)\s*{_KILL_ES}"
        rf"(?:la|lo|las|los|te)\b",
    ),
    (
        "threat",
        "es",
        "vas-a-morir",
        0.9,
        r"\b(?:vas|van|va)\s+a\s+(?:morir|aparecer\s+muert[oa]s?|terminar\s+(?:como|muert[oa])|"
        r"pagar(?:la)?s?\s+caro|quedar\s+(?:sin\s+familia|en\s+una\s+zanja))\b|"
        r"\bte\s+quedan?\s+pocos\s+d[ií]as\b|\btienes\s+(?:las\s+horas|los\s+d[ií]as)\s+contad[oa]s\b|"
        r"\b(?:sapa|sapo)s?\s+(?:muert[oa]s?|se\s+muere)\b|\bplomo\s+(?:es|para)\b|"
        r"\b(?:est[aá]s?|est[aá]n)\s+(?:muert[oa]s?|en\s+la\s+lista)\b|\bobjetivo\s+militar\b",
    ),
    (
        "threat",
        "es",
        "familia",
        0.9,
        r"\b(?:tus|sus)\s+(?:hij[oa]s|niñ[oa]s|familia|padres)\s+(?:van|va)\s+a\s+(?:pagar|sufrir|"
        r"morir|desaparecer|ser\s+l[oa]s\s+siguientes)\b|\bcuida\s+a\s+tus\s+hij[oa]s\b",
    ),
    (
        "threat",
        "es",
        "violacion",
        0.95,
        r"\b(?:te|la)\s+(?:vamos|voy|van)\s+a\s+violar\b|\b(?:merece|mereces|deber[ií]an)\s+"
        r"(?:que\s+(?:te|la)\s+violen|ser\s+violada)\b|\bviolarla\b|\bviolarte\b",
    ),
    # -- threats, Portuguese and French (patterns only, not claimed)
    (
        "threat",
        "pt",
        "vamos-te-matar",
        0.9,
        r"\b(?:vamos|vou|v[aã]o)\s+(?:te\s+)?(?:matar|estuprar)(?:\s+voc[eê])?\b|"
        r"\bvoc[eê]\s+vai\s+morrer\b|\bte\s+mato\b",
    ),
    (
        "threat",
        "fr",
        "on-va-te-tuer",
        0.9,
        r"\b(?:on|je)\s+va(?:is)?\s+te\s+(?:tuer|buter|violer|crever)\b|\btu\s+vas\s+(?:mourir|crever)\b",
    ),
    # -- sexualised harassment
    (
        "sexual_harassment",
        "en",
        "sexual-insult",
        0.7,
        r"\b(?:whore|slut|skank|cunt|hoe|thot|bimbo)s?\b",
    ),
    (
        "sexual_harassment",
        "en",
        "sexual-acts",
        0.85,
        r"\b(?:i'?d|i\s+would|i\s+will|gonna|let\s+me|want\s+to|wanna)\s+(?:fuck|bang|grope|"
        r"molest|(?:show\s+)?(?:her|you)\s+(?:my\s+)?(?:dick|cock))\b|\bsend\s+(?:nudes|pics\s+of)\b|"
        r"\bwhat\s+she\s+needs\s+is\s+a\s+good\s+\w+\b|\bsit\s+on\s+my\s+face\b",
    ),
    (
        "sexual_harassment",
        "es",
        "insulto-sexual",
        0.7,
        r"\b(?:puta|put[ií]sima|zorra|perra|golfa|guarra|ramera|prostituta|fufa|cualquiera)s?\b",
    ),
    (
        "sexual_harassment",
        "es",
        "actos-sexuales",
        0.85,
        r"\b(?:te|la)\s+(?:voy|vamos)\s+a\s+(?:coger|follar|culear|manosear|empotrar|dar\s+verga)\b|"
        r"\blo\s+que\s+(?:necesita|le\s+falta)\s+es\s+(?:una\s+buena\s+)?(?:verga|polla|pinga|"
        r"cogida|follada)\b|\bmanda\s+(?:fotos|nudes|packs?)\b|\bpasa\s+(?:el|tu)\s+pack\b",
    ),
    ("sexual_harassment", "pt", "insulto-sexual", 0.7, r"\b(?:puta|vadia|piranha|vagabunda)s?\b"),
    ("sexual_harassment", "fr", "insulte-sexuelle", 0.7, r"\b(?:pute|salope|chienne|traînée)s?\b"),
    # -- smears said of someone
    (
        "smear",
        "en",
        "is-a-label",
        0.8,
        rf"\b(?:she|he|you|they|this\s+(?:woman|bitch|guy|activist|defender|lawyer|journalist))"
        rf"(?:\s+(?:is|are|r)|'s|'re)(?:\s+(?:just|nothing\s+but|only|such))?\s+(?:an?\s+)?"
        rf"(?:\w+\s+)?{_LABELS_EN}\b",
    ),
    (
        "smear",
        "en",
        "label-address",
        0.7,
        rf"\b{_LABELS_EN}\s+(?:bitch|woman|activist|lawyer|journalist|scum|ngo)\b",
    ),
    (
        "smear",
        "en",
        "stigma-phrase",
        0.75,
        r"\b(?:foreign[\s-]+(?:agent|funded|puppet)|enemy\s+of\s+the\s+(?:people|state|nation)|"
        r"paid\s+by\s+(?:soros|foreigners|the\s+cia|the\s+guerrillas?|drug\s+lords)|"
        r"defend(?:s|ing|er\s+of)\s+(?:criminals|terrorists)|terrorists?\s+in\s+disguise|"
        r"(?:fake|front)\s+ngo|(?:launders?|laundering)\s+money|works?\s+for\s+the\s+(?:cartel|"
        r"guerrillas?|terrorists))\b",
    ),
    (
        "smear",
        "es",
        "es-una-etiqueta",
        0.8,
        rf"\b(?:es|eres|son|sos|fue|era)\s+(?:un[ao]?s?\s+|otr[ao]\s+|la\s+|el\s+|pura\s+|puro\s+)?"
        rf"(?:\w+\s+)?{_LABELS_ES}\b",
    ),
    (
        "smear",
        "es",
        "etiqueta-de-alguien",
        0.7,
        rf"\b(?:esa|ese|esta|este|la|el)\s+(?:vieja|señora|tipa|tipo|vieja|defensora?|lideresa|"
        rf"l[ií]der|abogad[oa]|periodista|activista|ong|india|indio|campesin[oa])\s+{_LABELS_ES}\b"
        rf"|\b{_LABELS_ES}\s+(?:de\s+mierda|hijueputa|malparid[ao]|hp)\b",
    ),
    (
        "smear",
        "es",
        "frase-estigmatizante",
        0.75,
        r"\b(?:defensor[ae]s?\s+de\s+(?:delincuentes|terroristas|criminales|bandidos)|"
        r"(?:brazo|fachada)\s+(?:pol[ií]tic[oa]|civil)\s+de\s+(?:la\s+guerrilla|las\s+farc|el\s+eln|"
        r"los\s+terroristas)|ong\s+de\s+fachada|lava(?:n|do\s+de)?\s+(?:plata|dinero|activos)|"
        r"financiad[oa]s?\s+por\s+(?:soros|el\s+narcotr[aá]fico|la\s+guerrilla|extranjeros)|"
        r"enemig[oa]s?\s+del\s+(?:progreso|desarrollo|pueblo)|"
        r"(?:comprad[oa]|pagad[oa])s?\s+por\s+\w+|vendepatrias?|guerrilleros?\s+de\s+civil)\b",
    ),
    (
        "smear",
        "pt",
        "e-um-rotulo",
        0.75,
        r"\b(?:[ée]|s[aã]o)\s+(?:um[a]?\s+)?(?:terrorista|criminosa?|bandid[oa]|traidora?|"
        r"agente\s+estrangeir[oa]|comprad[oa]|pag[oa])\b",
    ),
    (
        "smear",
        "fr",
        "est-un-label",
        0.75,
        r"\b(?:est|es|sont)\s+(?:une?\s+)?(?:terroriste|criminelle?|traîtresse|traître|"
        r"agent\s+de\s+l'étranger|vendue?|payée?)\b",
    ),
)

COMPILED = tuple((c, lang, name, w, re.compile(p, re.IGNORECASE)) for c, lang, name, w, p in RULES)


def match(message: Normalised) -> list[RuleHit]:
    """The rules that match a normalised message (or its squeezed form), strongest first; one
    hit per rule."""
    forms = (
        (message.text,) if message.squeezed == message.text else (message.text, message.squeezed)
    )
    hits: dict[str, RuleHit] = {}
    for category, lang, name, weight, pattern in COMPILED:
        key = f"{category}/{lang}/{name}"
        for form in forms:
            found = pattern.search(form)
            if found and key not in hits:
                hits[key] = RuleHit(category, lang, name, weight, found.group(0))
    return sorted(hits.values(), key=lambda h: -h.weight)
