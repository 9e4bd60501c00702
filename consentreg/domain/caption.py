"""Names compared the way people write them (R11).

`normalise_name` is the key the name search (`person list --name`) builds its blind index from,
so its output for a given input must never change without a migration that rebuilds that index.

The caption check (docs/rules.md R11, "Captions") reads a caption the way a reader would: `fold`
takes away what the eye does not see or cannot tell apart (Unicode forms, case, invisible and
formatting characters, look-alike letters, diacritics other than æ ø å, apostrophes), `Caption`
splits it into letter runs and joins neighbouring runs (hashtags, letter-spaced names), and a
`NameMatcher` finds whether a person's given name and surname are both in it: each as a whole
run or as the pieces a run is made of ("#OlaNordmann"), spelled with æ/ø/å, ae/oe/aa or a/o/a,
the last piece perhaps with a genitive "s". A run that merely contains a name ("Emmanuel",
"Sætherberg") is not a name.

`skeleton` is the key of the register's caption index (consentreg.services.caption_names): every
spelling a `NameMatcher` accepts for a name word has a skeleton among that word's `name_keys`,
so the index finds every person a caption may name, and only those are decrypted and confirmed.
Changing `fold`, `skeleton` or the spellings needs a new `NAME_KEYS_VERSION` (the register
rebuilds its index at `db upgrade`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from consentreg.domain.lookalikes import fold_lookalikes

NAME_KEYS_VERSION = 1
GIVEN, SURNAME = "g", "s"

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


# --- the caption check's reading of a text ----------------------------------------------------

# removed, so that "O'Neil", "ONeil" and "O’Neil" are one word and "Emma's" is a genitive
_APOSTROPHES = str.maketrans(dict.fromkeys("'’ʼ‘`´′ʹ"))
# invisible but not "format" (Cf) characters: combining grapheme joiner, Hangul fillers, blank
# Braille, Mongolian free variation selectors (the other invisibles are Cf, or marks removed below)
_INVISIBLE = frozenset({0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x180B, 0x180C, 0x180D})
_NORWEGIAN = frozenset("æøå")  # kept: their spellings are compared below
_SPELL_OUT = str.maketrans({"ð": "d", "þ": "th", "đ": "d", "ł": "l", "œ": "oe", "ŋ": "n"})
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# what ends a phrase: runs on either side of these are never joined into one word
_HARD_BREAK = re.compile(r"[,;:!?()\[\]{}\"«»“”\n\r\t|/]")
MAX_PIECE = 30  # the longest name word compared (longer runs are only matched whole)
MAX_JOINED = 40  # neighbouring runs are joined while the result is at most this long
_SPELLINGS_CAP = 256


def fold(text: str) -> str:
    """`text` as the caption check compares it: NFKC, casefolded, without invisible and format
    characters or apostrophes, look-alike letters replaced by the Latin letter they imitate,
    diacritics dropped except on æ ø å, ð þ đ ł œ ŋ spelled out.

    >>> fold("E\u0301MMA S\u00e6\u00adther's \U0001d40e")
    "emma sæthers o"
    """
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES))
    visible = "".join(
        c for c in text if unicodedata.category(c) != "Cf" and ord(c) not in _INVISIBLE
    )
    out: list[str] = []
    for char in unicodedata.normalize("NFC", fold_lookalikes(visible).casefold()):
        if char in _NORWEGIAN:
            out.append(char)
        else:
            decomposed = unicodedata.normalize("NFD", char)
            out.extend(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return fold_lookalikes("".join(out)).translate(_SPELL_OUT).translate(_APOSTROPHES)


_OPTIONS = {"æ": ("æ", "ae", "a"), "ø": ("ø", "oe", "o"), "å": ("å", "aa", "a")}
_FULL = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_SHORT = re.compile(r"a[ae]|oe")
_LETTER_OF = {"ae": "æ", "aa": "å", "oe": "ø"}


def skeleton(word: str) -> str:
    """The index key of a folded word: the same for every spelling of a name word that the
    caption check accepts (æ ø å, ae oe aa, a o a), a few unrelated words share it.

    >>> skeleton("løvås"), skeleton("loevaas"), skeleton("lovas")
    ('lovas', 'lovas', 'lovas')
    """
    return _SHORT.sub(lambda m: m.group()[0], word.translate(_FULL))


def spellings(word: str) -> frozenset[str]:
    """Every way a folded name word may be written: each æ ø å as itself, ae oe aa or a o a;
    each ae oe aa of the name also as æ ø å, and so as a o a ("Aase" as "Åse" and "Ase")."""
    found: set[str] = set()
    for written in _backward(word.translate(_FULL)):
        found.update(_forward(written))
        if len(found) >= _SPELLINGS_CAP:
            break
    return frozenset(found)


def _forward(word: str) -> Iterator[str]:
    options = [_OPTIONS.get(char, (char,)) for char in word]
    yield from itertools.islice(map("".join, itertools.product(*options)), _SPELLINGS_CAP)


def _backward(full: str) -> list[str]:
    """The words whose æ→ae, ø→oe, å→aa spelling is `full`."""
    tails: dict[int, list[str]] = {len(full): [""]}
    for i in range(len(full) - 1, -1, -1):
        found = [full[i] + rest for rest in tails[i + 1]]
        pair = full[i : i + 2]
        if pair in _LETTER_OF:
            found += [_LETTER_OF[pair] + rest for rest in tails[i + 2]]
        tails[i] = found[:_SPELLINGS_CAP]
    return tails[0]


@dataclass(frozen=True)
class NameWord:
    text: str  # folded
    part: str  # GIVEN or SURNAME


def name_words(full_name: str) -> tuple[NameWord, ...]:
    """The words of a name with the part each is: the last word is the surname (each part of
    a double surname "Sæther-Hansen" counts), the words before it given names (a middle name
    too); "Surname, Given" when written with a comma. Words of one letter (initials) are left
    out; a name without both parts has none (it cannot be a full name)."""
    folded = fold(full_name)
    if "," in folded:
        surname_text, _, given_text = folded.partition(",")
    else:
        words = folded.split()
        given_text, surname_text = " ".join(words[:-1]), (words[-1] if words else "")
    given = [w for w in _LETTER_RUN.findall(given_text) if len(w) > 1]
    surname = [w for w in _LETTER_RUN.findall(surname_text) if len(w) > 1]
    if not given or not surname:
        return ()
    return tuple(
        dict.fromkeys([NameWord(w, GIVEN) for w in given] + [NameWord(w, SURNAME) for w in surname])
    )


def name_keys(full_name: str) -> list[tuple[str, str]]:
    """(part, skeleton) of every spelling of every word of the name, for the caption index."""
    keys = {
        (word.part, skeleton(spelled))
        for word in name_words(full_name)
        for spelled in spellings(word.text)
    }
    return sorted(keys)


class Caption:
    """A caption read for names: its letter runs, and each run joined with the runs after it
    (up to `MAX_JOINED` letters, never across a comma, a colon or a bracket), so that a name
    written in pieces ("S-æ-t-h-e-r", "E m m a", "Sæ ther") is read whole."""

    def __init__(self, text: str) -> None:
        folded = fold(_split_camel_case(text))
        runs: list[tuple[str, bool]] = []  # (run, joinable with the next)
        matches = list(_LETTER_RUN.finditer(folded))
        for this, after in itertools.zip_longest(matches, matches[1:]):
            gap = folded[this.end() : after.start()] if after else "\n"
            runs.append((this.group(), not _HARD_BREAK.search(gap)))
        self.spans = tuple(dict.fromkeys(_spans(runs)))

    def lookup_keys(self) -> set[str]:
        """The skeletons to look up in the caption index: each span whole, its first piece
        (a prefix) and its last piece (a suffix, perhaps with a genitive "s")."""
        pieces: set[str] = set()
        for span in self.spans:
            pieces.update(_ends(span))
        return {skeleton(p) for p in pieces}

    def names(self, matcher: NameMatcher) -> bool:
        """Whether both a given name and the surname of the matcher's person are in it."""
        found: set[str] = set()
        for span in self.spans:
            found |= matcher.parts_in(span)
            if len(found) == 2:
                return True
        return False


def _split_camel_case(text: str) -> str:
    """A space where a lower-case letter meets a capital ("#EmmaSæthersBursdag"), so that each
    name is also a run of its own; the runs are joined again below ("McDonald")."""
    text = fold_lookalikes(unicodedata.normalize("NFKC", text))
    out = []
    for before, char in zip(" " + text, text, strict=False):
        if before.islower() and char.isupper():
            out.append(" ")
        out.append(char)
    return "".join(out)


def _spans(runs: list[tuple[str, bool]]) -> Iterator[str]:
    for i, (run, joinable) in enumerate(runs):
        yield run
        span, j = run, i
        while joinable and j + 1 < len(runs):
            j += 1
            nxt, joinable = runs[j]
            if len(span) + len(nxt) > MAX_JOINED:
                break
            span += nxt
            yield span


def _ends(span: str) -> Iterator[str]:
    yield span
    if span.endswith("s"):
        yield span[:-1]
    last = len(span)
    for k in range(2, min(MAX_PIECE, last - 2) + 1):
        yield span[:k]
    for k in range(max(2, last - MAX_PIECE - 1), last - 1):
        yield span[k:]
        if span.endswith("s") and last - k > 2:
            yield span[k:-1]


class NameMatcher:
    """One person's name words in every spelling, to find them in a caption's spans."""

    def __init__(self, full_name: str) -> None:
        parts: dict[str, set[str]] = {}
        for word in name_words(full_name):
            for spelled in spellings(word.text):
                parts.setdefault(spelled, set()).add(word.part)
        self._parts = {spelled: frozenset(found) for spelled, found in parts.items()}

    def parts_in(self, span: str) -> set[str]:
        """The parts (GIVEN, SURNAME) of the name that `span` is made of entirely: one name
        word, or several written together, the last perhaps with a genitive "s"; empty when
        any of the span is not a name word."""
        if not self._parts:
            return set()
        states: dict[int, set[frozenset[str]]] = {0: {frozenset()}}
        end = len(span)
        done: set[str] = set()
        for i in range(end):
            here = states.pop(i, None)
            if not here:
                continue
            for spelled, parts in self._parts.items():
                if not span.startswith(spelled, i):
                    continue
                j = i + len(spelled)
                reached = {s | {p} for s in here for p in parts}
                if j == end or (j == end - 1 and span[j] == "s"):
                    for state in reached:
                        done |= state
                if j < end:
                    states.setdefault(j, set()).update(reached)
        return done


@dataclass(frozen=True)
class NamedPerson:
    """A registered person whom a caption names in full, as the gate found them."""

    id: str
    born: date
    protected: bool
