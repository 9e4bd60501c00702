"""Look-alike letters folded to the Latin letter they imitate (R11: Cyrillic "О", Greek "ο").

The table is Unicode's confusables.txt as the `confusable-homoglyphs` package ships it (a
maintained copy of the Unicode data, MIT): every non-ASCII character one of whose look-alikes is
a single ASCII letter maps to that letter. Letters that are not mere look-alikes stay: "ø" is
listed as "o" with an overlay, "æ" as "ae", "å" as "ȧ" (none a single ASCII letter), so the
Norwegian letters keep their own spellings. Mathematical and full-width letters need no table:
NFKC folds them first. The table is built on first use only (about 1 200 entries), and only
for text with a character beyond Latin-1, so names written in Latin letters never load it.
"""

from __future__ import annotations

import functools

_LATIN_1_END = 0xFF


@functools.cache
def _table() -> dict[int, str]:
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[int, str] = {}
    for char, lookalikes in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in lookalikes:
            target = entry["c"]
            if len(target) == 1 and target.isascii() and target.isalpha():
                table[ord(char)] = target
                break
    return table


def fold_lookalikes(text: str) -> str:
    """`text` with every look-alike letter replaced by the ASCII letter it imitates.

    >>> fold_lookalikes("\u041ela \u0405\u00e6ther")
    'Ola S\u00e6ther'
    """
    if all(ord(char) <= _LATIN_1_END for char in text):
        return text
    return text.translate(_table())
