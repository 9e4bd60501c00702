"""The bokmål catalog: every message the web application shows has a translation, and the
committed .mo is the compiled .po (so a fresh clone and the wheel show bokmål without a build
step). `make catalogs` brings both up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
PO = WEB / "locale" / "nb" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "N_": None}
    found = extract_from_dir(str(WEB), method_map, keywords=keywords)
    return {str(message) for _file, _line, message, _comments, _context in found}


def test_every_message_of_the_pages_has_a_bokmaal_translation() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in _extracted() if not translated.get(m))
    assert missing == []
    assert not any(m.fuzzy for m in catalog if m.id)


def test_the_committed_mo_is_the_compiled_po() -> None:
    with PO.open("rb") as po, MO.open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}
