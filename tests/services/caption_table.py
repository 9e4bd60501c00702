"""R11 as a table: captions that must refuse and captions that must pass, with the register they
run against (docs/rules.md, "Captions"). Used by tests/services/test_captions.py on both engines
(through the caption index) and by bench/captions.py, which reports the counts in BENCHMARKS.md.

Each person is born `years` years (and `days` days) before the publication day; `protected`
people refuse whatever their age. A row names the labels of the people the caption must refuse
for (empty: it must pass).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple


class Entry(NamedTuple):
    name: str
    years: int
    days: int = 0  # born this many days later than `years` years before the day
    protected: bool = False
    kind: str = "child"


REGISTER: dict[str, Entry] = {
    "emma": Entry("Emma Sæther", 6),
    "nora": Entry("Nora Lind-Hagen", 9),  # a double surname
    "emil": Entry("Emil Johan Berntsen", 11),  # a middle name
    "aase": Entry("Aase Løvås", 7),
    "ola": Entry("Ola Nordmann", 5),
    "ali": Entry("Ali O'Neil", 12),
    "mia": Entry("Mia Berg", 8),  # a surname that is also a place name
    "jakob": Entry("Jakob Larsen", 10, protected=True),
    "kari": Entry("Kari Hansen", 5),
    "bjorn": Entry("Bjørn Ødegård", 16),
    "hakon": Entry("Håkon Bø", 14),  # a surname of two letters
    "sofie": Entry("Sofie Strand", 18, days=1),  # 18 tomorrow: still a minor
    "lars": Entry("Lars Moe", 18, kind="adult"),  # 18 today: an adult
    "ingrid": Entry("Ingrid Dahl", 40, kind="adult"),
    "per": Entry("Per Kristiansen", 45, protected=True, kind="adult"),
    "liv": Entry("Liv Ås", 13),
    "zoe": Entry("Zoë Núñez", 9),
    "thea": Entry("Thea Haugen", 7),
    "oskar": Entry("Oskar Lie", 6),
    "noah": Entry("Noah Andersen", 4),
    "haakon": Entry("Haakon Vik", 10),  # written with aa in the register
    "ida": Entry("Ida Marie Solberg", 8),
    "mathias": Entry("Mathias Olsen", 12),
    "kristin": Entry("Kristin Olsen", 38, kind="adult"),
}

R = frozenset
EMMA, NORA, EMIL, AASE, OLA, ALI, MIA = (
    R({"emma"}),
    R({"nora"}),
    R({"emil"}),
    R({"aase"}),
    R({"ola"}),
    R({"ali"}),
    R({"mia"}),
)

# (caption, the labels it must refuse for)
MUST_REFUSE: list[tuple[str, frozenset[str]]] = [
    # order, case, punctuation
    ("Emma Sæther på tur", EMMA),
    ("Sæther, Emma (6)", EMMA),
    ("EMMA SÆTHER", EMMA),
    ("emma sæther", EMMA),
    ("Sæther Emma", EMMA),
    ("Emma og vennen hennes Sæther", EMMA),
    ("På tur: Emma. Foto: Sæther", EMMA),
    ("Kari Hansen (5) bakfra på tur", R({"kari"})),
    ("Hansen, Kari", R({"kari"})),
    # genitive
    ("Emma Sæthers tegning", EMMA),
    ("Sæthers Emma", EMMA),
    ("Ola Nordmanns sykkel", OLA),
    ("Aase Løvås' tegning", AASE),
    ("Nora Hagens bok", NORA),
    ("Emil Berntsens mål", EMIL),
    # Unicode forms, invisible characters, combining marks
    ("E\u0301mma Sæther", EMMA),
    ("Emma Sæ\u00adther", EMMA),
    ("Em\u200bma Sæther", EMMA),
    ("Emma Sæ\u200cther", EMMA),
    ("Emma Sæ\u200dther", EMMA),
    ("Emma Sæ\u034fther", EMMA),
    ("Emma Sæ\u2060ther", EMMA),
    ("Emma\ufeff Sæther", EMMA),
    ("Ola Nord\u180emann", OLA),
    ("Emma Sa\u0308ther", EMMA),  # a decomposed ä
    ("Emma\u00a0Sæther", EMMA),  # no-break space
    ("Emma\u2003Sæther", EMMA),  # em space
    # look-alike letters: Cyrillic, Greek, mathematical, full-width, circled
    ("\u039fla N\u043erdmann", OLA),
    ("\u0405ofie \u0405trand", R({"sofie"})),
    ("\u0415mma S\u00e6th\u0435r", EMMA),
    ("\U0001d404\U0001d426\U0001d426\U0001d41a S\u00e6ther", EMMA),
    ("\U0001d4d4\U0001d4f6\U0001d4f6\U0001d4ea Sæther", EMMA),
    ("Ｅｍｍａ Ｓæｔｈｅｒ", EMMA),
    ("ⓔⓜⓜⓐ Sæther", EMMA),
    ("\u039c\u0456\u0430 B\u0435rg", MIA),
    ("Thea H\u0430ugen", R({"thea"})),
    # Norwegian transliterations and the diacritic-free forms
    ("Emma Saether", EMMA),
    ("Emma Sather", EMMA),
    ("Emma Säther", EMMA),
    ("Aase Loevaas", AASE),
    ("Aase Lovas", AASE),
    ("Aase Løvaas", AASE),
    ("AASE LOEVÅS", AASE),
    ("Åse Løvås", AASE),
    ("Ase Lovas", AASE),
    ("Bjorn Odegard", R({"bjorn"})),
    ("Bjoern Oedegaard", R({"bjorn"})),
    ("Björn Ödegård", R({"bjorn"})),
    ("Hakon Bo", R({"hakon"})),
    ("Haakon Boe", R({"hakon"})),
    ("Håkon Bø", R({"hakon"})),
    ("Håkon Vik", R({"haakon"})),
    ("Haakon Vik på ski", R({"haakon"})),
    ("Zoe Nunez", R({"zoe"})),
    ("ZOË NÚÑEZ", R({"zoe"})),
    ("Liv Aas", R({"liv"})),
    # part of a double surname, a middle name
    ("Nora Lind", NORA),
    ("Nora Hagen", NORA),
    ("Nora Lind-Hagen", NORA),
    ("Nora Lind Hagen", NORA),
    ("Hagen, Nora", NORA),
    ("Johan Berntsen", EMIL),
    ("Emil Berntsen", EMIL),
    ("Emil Johan Berntsen", EMIL),
    ("Berntsen, Johan", EMIL),
    ("Marie Solberg", R({"ida"})),
    ("Ida Solberg", R({"ida"})),
    # joined forms: hashtags, handles, camel case
    ("#OlaNordmann", OLA),
    ("#olanordmann", OLA),
    ("#NordmannOla", OLA),
    ("@ola.nordmann", OLA),
    ("ola_nordmann", OLA),
    ("EmmaSæther", EMMA),
    ("emmasaether", EMMA),
    ("#EmmaSæthersBursdag", EMMA),
    ("#EmmaSæther2026", EMMA),
    ("#NoraLindHagen", NORA),
    ("#MiaBerg", MIA),
    # letter-spaced and broken words
    ("S-æ-t-h-e-r, Emma", EMMA),
    ("Emma S-æ-t-h-e-r", EMMA),
    ("E m m a  S æ t h e r", EMMA),
    ("E.m.m.a S.æ.t.h.e.r", EMMA),
    ("O l a N o r d m a n n", OLA),
    ("Emma Sæ ther", EMMA),
    ("Ola Nord mann", OLA),
    ("Ola Nord-mann", OLA),
    # a dropped or different apostrophe
    ("Ali ONeil", ALI),
    ("Ali O'Neil", ALI),
    ("Ali O\u2019Neil", ALI),
    ("Ali O Neil", ALI),
    ("ali oneil", ALI),
    ("ONeil, Ali", ALI),
    ("Ali O'Neils ball", ALI),
    # a surname that is also a place name, with the same minor's first name
    ("Mia på Berg skole", MIA),
    ("Berg skole: Mia vant", MIA),
    ("Liv på Ås", R({"liv"})),
    ("Håkon bor på Bø", R({"hakon"})),
    ("Sofie ved Strand", R({"sofie"})),
    ("Oskar i Lie", R({"oskar"})),
    ("Thea på haugen", R({"thea"})),
    # protected people, any age, in any form; the 18th birthday
    ("Jakob Larsen på tur", R({"jakob"})),
    ("Jakob Larsens sykkel", R({"jakob"})),
    ("Per Kristiansen", R({"per"})),
    ("kristiansen, per", R({"per"})),
    ("#PerKristiansen", R({"per"})),
    ("Sofie Strand fyller 18 i morgen", R({"sofie"})),
    # several people in one caption
    ("Emma Sæther og Ola Nordmann", EMMA | OLA),
    ("Mia Berg, Nora Hagen og Ingrid Dahl", MIA | NORA),
    ("Ali O'Neil og Per Kristiansen", ALI | R({"per"})),
    ("Noah Andersen og Kari Hansen", R({"noah", "kari"})),
    ("Mathias Olsen og Kristin Olsen", R({"mathias"})),
]

MUST_PASS: list[str] = [
    # a first name alone, a surname alone
    "Emma på tur",
    "Sæther",
    "Emma og Ola",
    "Nordmann-familien på tur",
    "Mia",
    "Berg skole",
    "Kari",
    "Hansen",
    "Jakob",
    "Larsen",
    "Per",
    "Kristiansen",
    "Emil Johan",  # given names only
    "Ida Marie",
    "Lind og Hagen",
    # initials
    "Emma S.",
    "E. Sæther",
    "E.S.",
    "Ola N.",
    "O. Nordmann",
    "Aase L.",
    "A. Løvås",
    "Ali O.",
    "Nora L-H",
    "Emil B.",
    "Johan B",
    # words that merely contain a name
    "Emmanuel",
    "Emmanuel Sætherberg",
    "Emma på Sætherberg",
    "Emmas bursdag",
    "Sæthers hage",
    "Bergsætherveien",
    "Mia på berget",
    "Mia i Bergen",
    "Aase på Løvåsen",
    "Løvåsen skole",
    "Ola feirer nordmannsdagen",
    "Noahs ark",
    "Andersens eventyr",
    "Liv og lære",
    "Liv i Åsgårdstrand",
    "Håkon på bokkafé",
    "Håkon i boden",
    "Sofie på stranda",
    "Oskar i lia",
    "Thea på haugane",
    "Zoë",
    "Núñez",
    # first name of one person, surname of another
    "Emma Berg",
    "Ola Hansen",
    "Mia Sæther",
    "Jakob og Emma i Berg",
    "Nora Nordmann",
    "Kari Løvås",
    "Liv Strand",
    # adults who are not protected, and the 18th birthday
    "Ingrid Dahl",
    "Lars Moe fyller 18 i dag",
    "Kristin Olsen",
    # near misses that are other names
    "Ola Nordman",
    "Ola Nord",
    "Emma Sæt",
    "Mia Bergh",
    "Nora Lindh",
    "Ali Neil",
    "Bjørnar Ødegård",
    "Bjørn ved Ødegårdsvegen",
    "Håkon Bøe",
    "Oskar Lien",
    # no name at all
    "Vi på tur i skogen",
    "",
]


def born(entry: Entry, day: date) -> date:
    """The birth date that makes `entry` `years` old on `day` (and `days` days younger)."""
    birthday = day.replace(year=day.year - entry.years)
    return date.fromordinal(birthday.toordinal() + entry.days)
