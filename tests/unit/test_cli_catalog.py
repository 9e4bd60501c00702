"""The command line's bokmål catalog (consentreg/locale/nb, domain `consentreg`): every message
the code, the help texts and Typer's Click can show has a translation with the same
placeholders, and the committed .mo is the compiled .po (a fresh clone and the wheel speak bokmål
without a build step). `make catalogs` brings both up to date; docs/architecture.md, "Language"."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "consentreg" / "locale" / "nb" / "LC_MESSAGES" / "consentreg.po"
MO = PO.with_suffix(".mo")
_FIELD = re.compile(r"\{[^{}]*\}|%\(\w+\)[sd]")


def _extraction() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cli_messages", ROOT / "scripts" / "cli_messages.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _catalog() -> dict[object, object]:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    assert not any(m.fuzzy for m in catalog if m.id)
    return {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in catalog if m.id}


def _fields(text: str) -> list[str]:
    return sorted(_FIELD.findall(text))


def _missing(extracted: list[object], translated: dict[object, object]) -> list[object]:
    return [m for m in extracted if not translated.get(m if isinstance(m, str) else tuple(m))]  # type: ignore[arg-type]


def test_every_message_of_the_command_line_has_a_bokmaal_translation() -> None:
    extracted = _extraction().messages()
    assert len(extracted) > 600  # help texts, messages, Click's words: the extraction works
    assert _missing(extracted, _catalog()) == []


def test_a_message_without_translation_fails_the_check() -> None:
    extracted = _extraction().messages()
    translated = _catalog()
    help_text = next(m for m in extracted if isinstance(m, str) and m.startswith("Register a unit"))
    del translated[help_text]
    assert _missing([*extracted, "a message added tomorrow"], translated) == [
        help_text,
        "a message added tomorrow",
    ]


def test_each_translation_keeps_the_placeholders_of_its_message() -> None:
    wrong = []
    for msgid, msgstr in _catalog().items():
        if isinstance(msgid, str):
            assert isinstance(msgstr, str)
            if _fields(msgid) != _fields(msgstr):
                wrong.append(msgid)
        else:  # singular and plural: each form keeps the plural's placeholders or fewer
            assert isinstance(msgid, tuple)
            assert isinstance(msgstr, tuple)
            assert all(set(_fields(s)) <= set(_fields(msgid[1])) for s in msgstr)
    assert wrong == []


def test_the_committed_mo_is_the_compiled_po() -> None:
    with PO.open("rb") as po, MO.open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}
    assert compiled.plural_forms == "nplurals=2; plural=(n != 1);"
