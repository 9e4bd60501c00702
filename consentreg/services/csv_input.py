"""CSV files as staff save them: from a program, or from a Norwegian Excel.

- Encoding: UTF-8 (with or without the byte-order mark Excel writes), else Windows-1252 (what
  Excel calls "CSV (semikolonseparert)" on a Norwegian PC). A byte neither can read is named by
  its line.
- Separator: the header line's `,`, `;` or tab, whichever it has most of (outside quotes).
- Column names: the English ones of docs/cli.md, or their bokmål names (navn, fødselsdato,
  avdeling, …), in any case, with or without æøå.
- Dates: ISO `YYYY-MM-DD`, or `dd.mm.yyyy` as Norwegian Excel writes them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from consentreg.errors import InvalidInputError
from consentreg.i18n import msg

SEPARATORS = (",", ";", "\t")

# bokmål (and a few common) column names -> the import's own names
ALIASES: Mapping[str, str] = {
    # people
    "referanse": "ref",
    "ref_nr": "ref",
    "id": "ref",
    "navn": "name",
    "fullt_navn": "name",
    "fodselsdato": "born",
    "fodt": "born",
    "fodselsdag": "born",
    "type": "kind",
    "kategori": "kind",
    "avdeling": "unit",
    "enhet": "unit",
    "gruppe": "unit",
    "klasse": "unit",
    # guardians
    "barn_ref": "child_ref",
    "barnets_ref": "child_ref",
    "foresatt_ref": "guardian_ref",
    "foresattes_ref": "guardian_ref",
    "foreldreansvar": "parental_responsibility",
    # consents
    "person_ref": "subject_ref",
    "barn": "subject_ref",
    "formal": "purpose",
    "kanal": "purpose",
    "gitt_av_ref": "by_ref",
    "samtykkegiver_ref": "by_ref",
    "svar": "decision",
    "beslutning": "decision",
    "metode": "method",
    "gitt": "given",
    "dato": "given",
    "gyldig_til": "until",
    "til": "until",
    "dokumentasjon": "evidence",
    "vedlegg": "evidence",
}

# the headings `import template` prints, in bokmål (ALIASES reads them back)
TEMPLATE_HEADINGS: Mapping[str, tuple[str, ...]] = {
    "people": ("referanse", "navn", "fødselsdato", "type", "avdeling"),
    "guardians": ("barn_ref", "foresatt_ref", "foreldreansvar"),
    "consents": (
        "person_ref",
        "formål",
        "gitt_av_ref",
        "svar",
        "metode",
        "gitt",
        "gyldig_til",
        "dokumentasjon",
    ),
}

_FOLD = str.maketrans({"ø": "o", "æ": "ae", "å": "a"})
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def column_key(heading: str) -> str:
    """A heading as a column name: lower case, æøå spelled out, blanks and hyphens as `_`."""
    folded = unicodedata.normalize("NFKC", heading).strip().casefold().translate(_FOLD)
    return re.sub(r"[\s\-]+", "_", folded)


def decode(data: bytes, name: str) -> str:
    """UTF-8 (a BOM dropped), else Windows-1252; InvalidInputError naming the line of a byte
    neither reads."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInputError(
            msg(
                "{name}, line {line}: byte 0x{data_item:02x} is neither UTF-8 nor Windows-1252 text: save the file as CSV UTF-8",
                name=name,
                line=line,
                data_item=data[exc.start],
            )
        ) from None


def separator(header_line: str) -> str:
    """The separator the header line uses most, outside quotes (`,` when it has none)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            msg(
                "{path_name} cannot be read ({exc_strerror})",
                path_name=path.name,
                exc_strerror=exc.strerror,
            )
        ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInputError(
            msg(
                '{path_name} is UTF-16 text (Excel\'s "Unicode text"): save it as CSV UTF-8',
                path_name=path.name,
            )
        )
    return decode(data, path.name)


def dialect_for(text: str) -> str:
    first = io.StringIO(text, newline="").readline()
    return separator(first)


def parse_date(text: str) -> date:
    """`YYYY-MM-DD` or `dd.mm.yyyy`; ValueError otherwise."""
    dotted = _DOTTED.fullmatch(text)
    if dotted:
        day, month, year = (int(g) for g in dotted.groups())
        return date(year, month, day)
    if len(text) != 10:  # fromisoformat also takes 20210314
        raise ValueError(text)
    return date.fromisoformat(text)


def reader(text: str) -> csv.DictReader[str]:
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=dialect_for(text))


__all__ = ["ALIASES", "TEMPLATE_HEADINGS", "column_key", "parse_date", "read_text", "reader"]
