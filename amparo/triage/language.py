"""Which language a message is in, among those Amparo's users work in, from short text.

General-purpose identifiers that run offline (fastText's lite model, say) read short, informal
messages badly: "te vamos a matar, sapa" comes out Portuguese, "vamos te matar" Italian. Triage
only needs to know which of its rule sets and measurements apply, so this identifier knows
English, Spanish, Portuguese and French by their function words and letters, and Arabic and
other scripts by their characters; anything else is ``und`` (undetermined). What was measured
is in docs/triage.md; nothing else is claimed.
"""

from __future__ import annotations

import unicodedata

from amparo.triage.normalise import words

__all__ = ["LANGUAGES", "identify"]

LANGUAGES = ("en", "es", "pt", "fr", "ar")

_WORDS = {
    "en": "the and is are was you your she her he his it its to of in on that this will i we "
    "they them be not for with what who have has just like all so but if get got dont don't "
    "i'm it's would should can at by an or from my me their there she's he's you're",
    "es": "el la los las que de del y en un una por para con no te se es eres son tu tus usted "
    "muy pero como más mas ya está esta este esa ese le lo les al su sus nos vamos voy hay "
    "porque cuando donde dónde también todo todos nada algo ni hija hijo hijos puta vieja "
    "ustedes a vas van tienes somos sabemos sé mierda perra zorra sapa sapo hp malparida "
    "gonorrea bien bueno buena acá aquí ahora ella él",
    "pt": "o a os as que de do da dos das e em um uma com para não nao você voce é está vai vou "
    "seu sua ele ela mas também muito isso essa esse no na nos nas pelo pela ao sim já te "
    "eu meu minha vocês tá aqui agora porque quando onde tudo nada morrer vão filhos filha "
    "merda vadia bom boa dia todos todas sabemos tu boca cala dela dele ela",
    "fr": "le la les de des du un une et est je tu il elle nous vous pas ne que qui pour avec "
    "sur c'est ce cette ces on va au aux mais ou où son sa ses mon ma tes te moi toi lui "
    "leur ils elles sont suis être avoir fait dans par plus tout rien ta ton vas gueule "
    "ferme sais sait où",
}
FUNCTION_WORDS = {lang: tuple(text.split()) for lang, text in _WORDS.items()}
# A word of one language counts 1; a word several share counts 1 / how many share it.
_SHARED = {w: sum(w in ws for ws in FUNCTION_WORDS.values()) for ws in FUNCTION_WORDS.values()
           for w in ws}  # fmt: skip
WEIGHTS = {lang: {w: 1.0 / _SHARED[w] for w in ws} for lang, ws in FUNCTION_WORDS.items()}
# Letters that only some of the four use.
LETTERS = {
    "ñ": {"es": 2.0}, "¿": {"es": 2.0}, "¡": {"es": 2.0}, "ã": {"pt": 2.0}, "õ": {"pt": 2.0},
    "ç": {"pt": 1.0, "fr": 1.0}, "è": {"fr": 1.5}, "ê": {"fr": 1.0, "pt": 1.0},
    "à": {"fr": 1.0, "pt": 0.5}, "ù": {"fr": 2.0}, "œ": {"fr": 2.0}, "â": {"fr": 0.5, "pt": 1.0},
    "î": {"fr": 1.5}, "û": {"fr": 1.5}, "ë": {"fr": 1.0}, "ï": {"fr": 1.0},
}  # fmt: skip
SCRIPTS = {
    "ARABIC": "ar", "CYRILLIC": "ru", "HEBREW": "he", "GREEK": "el", "DEVANAGARI": "hi",
    "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "CJK": "zh", "THAI": "th",
}  # fmt: skip


def _script(text: str) -> str | None:
    if text.isascii():
        return None  # Latin letters only, or none
    counts: dict[str, int] = {}
    letters = 0
    for char in text:
        if not char.isalpha():
            continue
        letters += 1
        if char < "\u0250":  # Latin: most messages, and not a script of its own here
            continue
        name = unicodedata.name(char, "")
        for script, lang in SCRIPTS.items():
            if name.startswith(script):
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not letters:
        return None
    lang, count = max(counts.items(), key=lambda kv: kv[1], default=("", 0))
    return lang if count * 2 >= letters else None


def identify(text: str) -> tuple[str, float]:
    """(language code, confidence 0..1); ``und`` when the text does not say enough."""
    script = _script(text)
    if script is not None:
        return script, 0.95
    tokens = [w.lower() for w in words(text)]
    if not tokens:
        return "und", 0.0
    scores = dict.fromkeys(FUNCTION_WORDS, 0.0)
    for token in tokens:
        for lang, table in WEIGHTS.items():
            scores[lang] += table.get(token, 0.0)
    if not text.isascii():  # the telling letters are all accented
        for char in text.lower():
            for lang, weight in LETTERS.get(char, {}).items():
                scores[lang] += weight
    for token in tokens:  # Spanish doubles no consonant but l, r, c and n
        for pair, langs in (("tt", ("fr", "en")), ("ss", ("fr", "pt", "en"))):
            if pair in token:
                for lang in langs:
                    scores[lang] += 0.5 / len(langs)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.0 or top == second:
        return "und", 0.0
    confidence = min(0.99, (top - second) / top * min(1.0, top / 3))
    return best, round(max(confidence, 0.3), 2)
