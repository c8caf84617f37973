"""Languages of the interface: gettext catalogs, one Jinja environment per language.

Catalogs are ``amparo/web/locale/<lang>/LC_MESSAGES/messages.po`` (English is the source
language and needs none). They are compiled in memory when an app is built, so there is no
compiled ``.mo`` to forget. ``make messages`` re-extracts the strings from the templates and
Python code and merges them into each catalog; a test fails when a Spanish string is
missing, and lists what the other languages still lack.

The language of a page is, in order: the signed-in user's choice, the ``amparo-lang``
cookie (set by the language menu, also before signing in), the browser's Accept-Language,
and the installation's default.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = [
    "COOKIE",
    "LANGUAGES",
    "N_",
    "RTL",
    "environment",
    "negotiate",
    "translations",
]

LANGUAGES: Mapping[str, str] = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
    "ar": "العربية",
}
RTL = frozenset({"ar"})
COOKIE = "amparo-lang"


def N_(message: str) -> str:
    """Marks a message for translation where it is written; templates translate it when
    shown (``{{ message(error) }}``), in the reader's language."""
    return message


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (English: the identity)."""
    if lang == "en" or lang not in LANGUAGES:
        return NullTranslations()
    source = files("amparo.web") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def environment(lang: str, globals_: Mapping[str, Any] | None = None) -> Environment:
    """A template environment whose ``_``/``gettext``/``ngettext`` speak ``lang``."""
    env = Environment(
        loader=PackageLoader("amparo.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        lang=lang, rtl=lang in RTL, languages=LANGUAGES, **(dict(globals_) if globals_ else {})
    )
    # For messages made at run time (errors that quote what someone typed): translated when the
    # catalog knows them, never %-formatted as ``_()`` does, so a '%' typed into a form is
    # shown as typed instead of breaking the page.
    env.globals["message"] = translations(lang).gettext
    return env


def _accepted(header: str) -> list[str]:
    """Accept-Language tags in the client's order of preference (q-values respected)."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()[:2]))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    *, user_choice: str | None, cookie: str | None, accept_language: str | None, default: str
) -> str:
    for candidate in (user_choice, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for tag in _accepted(accept_language or ""):
        if tag in LANGUAGES:
            return tag
    return default if default in LANGUAGES else "en"
