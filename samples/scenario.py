"""The demo's story as constants: where the sample files are, whom to restrict, which consent to
withdraw, whose birthday to check, and which photos to register with what expected outcome.

All people, places and organisations are fictional. Every expectation below is for
`publish --purpose facebook` on a date from `OUTCOMES_HOLD_FROM` through `OUTCOMES_HOLD_THROUGH`
(the demo environment's "today", 2026-11-22, lies inside), after `person restrict PROTECTED_REF`
and before the withdrawal.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
UNITS_CSV = SAMPLES_DIR / "units.csv"
PURPOSES_CSV = SAMPLES_DIR / "purposes.csv"
PEOPLE_CSV = SAMPLES_DIR / "people.csv"
GUARDIANS_CSV = SAMPLES_DIR / "guardians.csv"
CONSENTS_CSV = SAMPLES_DIR / "consents.csv"
NOTICES_DIR = SAMPLES_DIR / "notices"
EVIDENCE_DIR = SAMPLES_DIR / "evidence"

KINDERGARTEN = "bhg-solsikken"
SCHOOL = "skole"
SCHOOL_CLASS = "skole-9b"

PUBLISH_PURPOSE = "facebook"

PROTECTED_REF = "K004"
PROTECTED_REASON = "Fortrolig adresse: skal ikke publiseres (avklart med styrer 2026-09-02)"

WITHDRAW = ("K001", "facebook", "G001")
"""(subject ref, purpose, consenter ref) of the grant the demo withdraws after publishing."""
WITHDRAW_REASON = "Mor ønsker ikke lenger bilder på Facebook (telefon til barnehagen)"

TURNS_15_REF = "E005"
TURNS_15_ON = date(2026, 12, 1)

STEP_PARENT_REF = "G011"
"""A guardian without parental responsibility: their grant (website, for K006) does not count."""

REVISED_NOTICE = ("facebook", NOTICES_DIR / "facebook-v2.txt")
"""A wording fix: revise WITHOUT --requires-new-consent, so every facebook consent still holds."""

OUTCOMES_HOLD_FROM = date(2026, 10, 14)
"""The newest facebook consent event in consents.csv (a pupil's own refusal)."""
OUTCOMES_HOLD_THROUGH = TURNS_15_ON - timedelta(days=1)
"""From TURNS_15_ON the pupil's guardians' grants stop counting (self_consent_required)."""


@dataclass(frozen=True)
class SamplePhoto:
    """One sample photo and how to register and publish it.

    `identifiable` and `not_identifiable` are person refs (people.csv) to tag with
    `photo tag` (the latter with --not-identifiable); `complete=False` means the demo must NOT run
    `photo complete`. `caption` is the `--caption` to publish with. `expected` lists the reason
    codes `publish --purpose <purpose>` should give while the outcomes hold (empty = released);
    `blocking` the refs those reasons are about.
    """

    file_name: str
    identifiable: tuple[str, ...]
    not_identifiable: tuple[str, ...]
    photographer: str
    complete: bool
    caption: str | None
    purpose: str
    unit: str | None
    expected: tuple[str, ...]
    blocking: tuple[str, ...]
    story: str

    @property
    def released(self) -> bool:
        return not self.expected


def _photo(
    file_name: str,
    identifiable: tuple[str, ...],
    *,
    story: str,
    photographer: str,
    unit: str | None,
    expected: tuple[str, ...] = (),
    blocking: tuple[str, ...] = (),
    not_identifiable: tuple[str, ...] = (),
    complete: bool = True,
    caption: str | None = None,
) -> SamplePhoto:
    return SamplePhoto(
        file_name=file_name,
        identifiable=identifiable,
        not_identifiable=not_identifiable,
        photographer=photographer,
        complete=complete,
        caption=caption,
        purpose=PUBLISH_PURPOSE,
        unit=unit,
        expected=expected,
        blocking=blocking,
        story=story,
    )


_TONE = "Tone Fjærli"
_ANDERS = "Anders Kråkenes"

PHOTOS: tuple[SamplePhoto, ...] = (
    _photo(
        "IMG_2041_Emma_Sæther_høstfest.jpg",
        ("K001", "K002"),
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Both children fully consented (all guardians with parental responsibility).",
    ),
    _photo(
        "IMG_2057_Emma_Oliver_Filip_sandkassa.jpg",
        ("K001", "K002", "K006"),
        not_identifiable=("K003",),
        caption="Sandslott i sandkassa: Emma, Oliver og Filip jobbet hele formiddagen",
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Stored sideways (EXIF Orientation 6); Nora only from behind; first names only; "
        "Filip's step-father has no parental responsibility, so only his mother's yes is needed.",
    ),
    _photo(
        "IMG_2063_Sofie_Åsheim_forming.jpg",
        ("K005", "K002"),
        expected=("consent_refused",),
        blocking=("K005",),
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Sofie's mother said no to Facebook (e-mail); her father's yes does not outweigh it.",
    ),
    _photo(
        "IMG_2070_Aksel_Løvås_skogstur.jpg",
        ("K004", "K006"),
        expected=("protected_identity",),
        blocking=("K004",),
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Aksel has a protected identity: never published, although his guardian said yes.",
    ),
    _photo(
        "IMG_2088_Nora_Odegard_gapahuk.jpg",
        ("K003", "K002"),
        expected=("guardian_consent_missing",),
        blocking=("K003",),
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Only one of Nora's two guardians answered; Facebook needs both.",
    ),
    _photo(
        "IMG_2102_Filip_Strømme_lek.jpg",
        ("K006",),
        complete=False,
        expected=("tagging_incomplete",),
        photographer=_TONE,
        unit=KINDERGARTEN,
        story="Tagging not confirmed complete: refused even though Filip is consented.",
    ),
    _photo(
        "20261106_130512_Tone_Fjærli_og_Anders_Kråkenes.jpg",
        ("S001", "S002"),
        caption="Tone Fjærli og Anders Kråkenes på planleggingsdagen for oppvekst",
        photographer="Marit Lien",
        unit=SCHOOL,
        story="Two staff members who consented themselves; full names of adults are allowed.",
    ),
    _photo(
        "DSC_0419_Jonas_Kvåle_Maja_Dæhli_Hovden.jpg",
        ("E001", "E002"),
        expected=("consent_refused",),
        blocking=("E002",),
        photographer=_ANDERS,
        unit=SCHOOL_CLASS,
        story="Maja's own no (child veto) overrides both her parents' yes.",
    ),
    _photo(
        "DSC_0433_Vilde_Nygård_Thea_Ørnes_fotball.jpg",
        ("E005", "E004"),
        photographer=_ANDERS,
        unit=SCHOOL_CLASS,
        story="Released today on the guardians' consents; from Vilde's 15th birthday "
        "(2026-12-01) refused with self_consent_required.",
    ),
    _photo(
        "DSC_0440_Jonas_Kvale_premie.jpg",
        ("E001",),
        caption="Gratulerer til Jonas Kvåle i 9B, som vant skrivekonkurransen!",
        expected=("caption_full_name",),
        blocking=("E001",),
        photographer=_ANDERS,
        unit=SCHOOL_CLASS,
        story="Jonas is consented, but the caption links a minor to his full name.",
    ),
    _photo(
        "Henrik_Brøndbo_klassetur_Dyreparken.png",
        ("E003", "E001"),
        expected=("consent_expired",),
        blocking=("E003",),
        photographer=_ANDERS,
        unit=SCHOOL_CLASS,
        story="Last year's class trip (PNG collage with transparent corners); Henrik's only "
        "Facebook consent ran from 2024-09-01 to 2025-07-31.",
    ),
)

TURNS_15_PHOTO = "DSC_0433_Vilde_Nygård_Thea_Ørnes_fotball.jpg"
WITHDRAW_TAKES_DOWN = (
    "IMG_2041_Emma_Sæther_høstfest.jpg",
    "IMG_2057_Emma_Oliver_Filip_sandkassa.jpg",
)
"""The released photos whose publications rely on the withdrawn grant (the take-down list)."""


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a sample CSV (UTF-8, header row) as dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def person_names() -> dict[str, str]:
    """Full name by ref, from people.csv."""
    return {row["ref"]: row["name"] for row in read_csv(PEOPLE_CSV)}
