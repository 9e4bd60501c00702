"""Translations: the pages are written with English message IDs and shown in Norwegian bokmål
(the catalog in locale/nb), or in English when the browser asks for English first. Catalogs are
compiled to .mo and committed (`make catalogs` extracts, updates and compiles them); a test
checks that every message in the code has a bokmål translation and that the .mo is current."""

from __future__ import annotations

import gettext as stdlib_gettext
from functools import lru_cache
from pathlib import Path

from flask import Flask, g, has_request_context, request

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("nb", "en")  # the first is the default
HTML_LANG = {"nb": "nb", "en": "en"}


@lru_cache(maxsize=4)
def translations(language: str) -> stdlib_gettext.NullTranslations:
    if language == "en":
        return stdlib_gettext.NullTranslations()
    return stdlib_gettext.translation("messages", LOCALE_DIR, languages=[language], fallback=True)


def language() -> str:
    if not has_request_context():
        return LANGUAGES[0]
    found = g.get("language")
    if found is None:
        best = request.accept_languages.best_match(["nb", "no", "nn", "en"], default="nb")
        found = g.language = "en" if best == "en" else "nb"
    return str(found)


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the usual name for a message marked, not translated
    return message


# what the library shows for an erased person's values (consentreg.crypto.ERASED)
ERASED = "(erased)"
_ERASED_SHOWN = N_("(erased)")


def _finalize(value: object) -> object:
    """Every value a template prints: an erased person's name, in the page's language."""
    return gettext(_ERASED_SHOWN) if value == ERASED else value


def install(app: Flask) -> None:
    app.jinja_env.finalize = _finalize
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    app.context_processor(lambda: {"lang": HTML_LANG[language()]})
