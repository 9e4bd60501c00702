"""The demo's story as constants: where the sample files are, whom to restrict, which consent to
withdraw, whose birthday to check, and which photos to register with what expected outcome.

All people, places and organisations are fictional. The sample files tell the story as it stood on
`STORY_TODAY` (autumn of the school year 2026/27). Every expectation below is for
`publish --purpose facebook` on a date from `OUTCOMES_HOLD_FROM` through `OUTCOMES_HOLD_THROUGH`,
after `person restrict PROTECTED_REF` and before the withdrawal. `consentreg demo` imports the
files moved to the real today (`StoryDates`), so that the same expectations hold on any date.
"""

from __future__ import annotations

import csv
import shutil
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
PROTECTED_REASON = "Fortrolig adresse: skal ikke publiseres (avklart med styrer ved oppstart)"

WITHDRAW = ("K001", "facebook", "G001")
"""(subject ref, purpose, consenter ref) of the grant the demo withdraws after publishing."""
WITHDRAW_REASON = "Mor ønsker ikke lenger bilder på Facebook (telefon til barnehagen)"

TURNS_15_REF = "E005"
TURNS_15_ON = date(2026, 12, 1)

STEP_PARENT_REF = "G011"
"""A guardian without parental responsibility: their grant (website, for K006) does not count."""

REVISED_NOTICE = ("facebook", NOTICES_DIR / "facebook-v2.txt")
"""A wording fix: revise WITHOUT --requires-new-consent, so every facebook consent still holds."""

STORY_TODAY = date(2026, 11, 22)
"""The day the sample files tell the story as of: "today" in the story."""
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


# --- the story moved to another today ---------------------------------------------------------


def school_year_start(day: date) -> date:
    """1 August of the school year `day` falls in (a consent runs to the coming 31 July)."""
    return date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def _years_later(day: date, years: int) -> date:
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year + years)


@dataclass(frozen=True)
class StoryDates:
    """The sample story as it stands on `today` instead of STORY_TODAY, for a demo that tells it
    on any date with the same outcomes (`PHOTOS`):

    - consent dates move by whole school years into the school year of `today` (a form dated
      20 August stays dated 20 August), and one that would fall after `today` is dated `today`:
      this autumn's consents are all in force, last year's expired one has run out;
    - birth dates move by the days from STORY_TODAY to `today`: everyone is exactly as old as in
      the story, so no child turns 15 or 18 in between;
    - except the pupil who turns 15 (TURNS_15_REF): her 15th birthday is `turns_15_on`.
    """

    today: date

    @property
    def school_years(self) -> int:
        """How many school years the consent dates move."""
        return school_year_start(self.today).year - school_year_start(STORY_TODAY).year

    @property
    def turns_15_on(self) -> date:
        """As many days after `today` as in the story (nine), but no later than 31 July, while
        this school year's consents hold, and never before tomorrow; never a 29 February."""
        last_day = _years_later(school_year_start(self.today), 1) - timedelta(days=1)
        soon = min(self.today + (TURNS_15_ON - STORY_TODAY), last_day)
        day = max(soon, self.today + timedelta(days=1))
        return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day

    def born(self, ref: str, born: date) -> date:
        if ref == TURNS_15_REF:
            return _years_later(self.turns_15_on, -15)
        return born + (self.today - STORY_TODAY)

    def given(self, given: date) -> date:
        return min(_years_later(given, self.school_years), self.today)

    def until(self, until: date) -> date:
        return _years_later(until, self.school_years)

    def people(self) -> list[dict[str, str]]:
        """people.csv's rows with the birth dates moved."""
        return [
            row | {"born": self.born(row["ref"], date.fromisoformat(row["born"])).isoformat()}
            for row in read_csv(PEOPLE_CSV)
        ]

    def consents(self) -> list[dict[str, str]]:
        """consents.csv's rows with `given` and `until` (where there is one) moved."""
        rows = read_csv(CONSENTS_CSV)
        for row in rows:
            row["given"] = self.given(date.fromisoformat(row["given"])).isoformat()
            if row["until"]:
                row["until"] = self.until(date.fromisoformat(row["until"])).isoformat()
        return rows

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """people.csv, guardians.csv and consents.csv moved to `today`, written in `folder` with
        the evidence they cite beside them; returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        people, guardians, consents = (
            folder / p.name for p in (PEOPLE_CSV, GUARDIANS_CSV, CONSENTS_CSV)
        )
        _write_csv(people, self.people())
        shutil.copyfile(GUARDIANS_CSV, guardians)
        _write_csv(consents, self.consents())
        shutil.copytree(EVIDENCE_DIR, folder / EVIDENCE_DIR.name)
        return people, guardians, consents


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
