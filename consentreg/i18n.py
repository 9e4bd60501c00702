"""The command line's language: English message IDs in the code, Norwegian bokmål from the
gettext catalog `consentreg` in consentreg/locale/nb (compiled to .mo and committed; `make
catalogs` extracts, updates and compiles it; tests/unit/test_cli_catalog.py fails when a message
lacks a translation or the .mo is stale).

The language is chosen once per command (cli/main.py `run`, before anything is printed or any
help is built): `--lang`, else CONSENTREG_LANG, else the locale as gettext reads it (LANGUAGE,
LC_ALL, LC_MESSAGES, LANG, the first that is set). No locale, `C`, `POSIX` or any language other
than Norwegian: English.

Messages with values (IDs, field names, counts) are `Message`s: a `str` holding the English text,
so every caller, log and `--json` document sees exactly what it saw before, that also remembers
its template and values. `localize` renders one in the chosen language at display time: errors
raised deep in the library, refusal reasons from the pure rules. Standard library only: the rules
(consentreg.domain) use it too.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "N_",
    "Message",
    "_",
    "choose",
    "language",
    "joined",
    "localize",
    "msg",
    "ngettext",
    "use",
]

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "consentreg"
LANGUAGES = ("en", "nb")  # the first is the fallback
ENV_VAR = "CONSENTREG_LANG"
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_NORWEGIAN = re.compile(r"^(nb|no|nn)([_.@-]|$)", re.IGNORECASE)


@lru_cache(maxsize=4)
def translations(language: str) -> stdlib_gettext.NullTranslations:
    if language == "en":
        return stdlib_gettext.NullTranslations()
    return stdlib_gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


class _State:
    language = LANGUAGES[0]
    catalog: stdlib_gettext.NullTranslations = stdlib_gettext.NullTranslations()


_STATE = _State()


def use(language: str) -> None:
    """Speak `language` ("nb" or "en") from now on in this process."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _STATE.language, _STATE.catalog = language, translations(language)


def language() -> str:
    return _STATE.language


def from_locale(environ: Mapping[str, str]) -> str:
    """The language gettext would pick from the environment: the first of LANGUAGE (a
    colon-separated list), LC_ALL, LC_MESSAGES, LANG that is set; bokmål for Norwegian (nb, no,
    and nn, which has no catalog of its own), English otherwise."""
    for name in _LOCALE_VARS:
        value = environ.get(name, "")
        if value:
            for candidate in value.split(":"):
                if candidate in ("C", "POSIX") or candidate.startswith(("C.", "en")):
                    return "en"
                if _NORWEGIAN.match(candidate):
                    return "nb"
            return "en"
    return "en"


def known(value: str) -> bool:
    """Whether `value` names a language of the command line (nb, no, nn, en, nb_NO, en_GB...)."""
    value = value.strip().lower()
    return bool(_NORWEGIAN.match(value)) or re.match(r"^en([_.@-]|$)", value) is not None


def choose(explicit: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--lang` if given, else CONSENTREG_LANG, else the locale."""
    env = os.environ if environ is None else environ
    for value in (explicit, env.get(ENV_VAR)):
        if value:
            value = value.strip().lower()
            if value in LANGUAGES:
                return value
            return "nb" if _NORWEGIAN.match(value) else "en"
    return from_locale(env)


def _(message: str) -> str:
    return _STATE.catalog.gettext(message)


gettext = _


def ngettext(singular: str, plural: str, n: int) -> str:
    return _STATE.catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the usual name for a message marked, not translated
    return message


class Message(str):
    """The English text of `template` with `params`, remembering both for `localize`."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any]) -> Message:
        self = super().__new__(cls, _render(template, params, localized=False))
        self.template, self.params = template, params
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries (publish --jobs)
        return (Message, (self.template, self.params))


def msg(template: str, /, **params: Any) -> Message:
    """A message for people: `template` is the English msgid, in str.format syntax."""
    return Message(template, params)


def joined(separator: str, items: Sequence[str]) -> Message:
    """`items` (messages among them) joined by `separator`, each localized when shown."""
    escaped = separator.replace("{", "{{").replace("}", "}}")
    template = escaped.join(f"{{p{i}}}" for i in range(len(items)))
    return Message(template, {f"p{i}": item for i, item in enumerate(items)})


def _render(
    template: str, params: Mapping[str, Any], *, localized: bool, language: str | None = None
) -> str:
    if localized:
        params = {
            k: localize_in(v, language or _STATE.language) if isinstance(v, Message) else v
            for k, v in params.items()
        }
    return template.format(**params)


def localize(text: object) -> str:
    """`text` in the chosen language: a Message rendered from its translated template, any other
    string looked up as a message ID (unknown ones come back unchanged)."""
    return localize_in(text, _STATE.language)


def localize_in(text: object, language: str) -> str:
    """`text` in `language`, whatever this process speaks otherwise (the web application: each
    request's own language)."""
    catalog = translations(language)
    if isinstance(text, Message):
        try:
            return _render(
                catalog.gettext(text.template), text.params, localized=True, language=language
            )
        except (KeyError, IndexError, ValueError, AttributeError):  # a broken translation
            return str.__str__(text)
    text = str(text)
    return catalog.gettext(text) if text else text
