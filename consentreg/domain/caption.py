"""Names compared the way people write them: any case, with or without diacritics (R11).

`normalise_name` is also the key the database layer builds its blind name index from, so its output
for a given input must never change without a migration that rebuilds that index.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose, spelled the way Norwegians write them without the keyboard.
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "å": "a", "ð": "d", "þ": "th", "ß": "ss"})
# Runs of letters and digits; everything else (spaces, hyphens, apostrophes, punctuation) separates.
_WORD = re.compile(r"[^\W_]+")


def normalise_name(text: str) -> str:
    """Casefolded, diacritics dropped, ø/æ/å/ð/þ/ß spelled out, words joined by single spaces.

    >>> normalise_name("  Bjørn  ÖDEGÅRD-Æsir ")
    'bjorn odegard aesir'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_WORD.findall(bare.translate(_FOLD)))


def links_full_name(caption: str, full_name: str) -> bool:
    """True when `caption` holds, as whole words, both the first given name and the surname.

    The first given name is the first word of `full_name`, the surname its last word (a hyphenated
    one compares as written). A one-word name cannot be linked to a full name.
    """
    written = full_name.split()
    if len(written) < 2:
        return False
    words = normalise_name(caption).split()
    return _contains(words, written[0]) and _contains(words, written[-1])


def _contains(words: list[str], name: str) -> bool:
    wanted = normalise_name(name).split()
    if not wanted:
        return False
    width = len(wanted)
    return any(words[i : i + width] == wanted for i in range(len(words) - width + 1))
