"""The sample CSVs, notices and evidence parse, hang together and tell the story README.md tells."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from samples import scenario
from samples.scenario import PHOTOS, SamplePhoto, read_csv

STORY_TODAY = scenario.STORY_TODAY
COLUMNS = {
    scenario.UNITS_CSV: ["code", "name", "parent"],
    scenario.PURPOSES_CSV: [
        "code",
        "title",
        "notice_file",
        "max_px",
        "guardians",
        "valid_until",
        "valid_days",
    ],
    scenario.PEOPLE_CSV: ["ref", "name", "born", "kind", "unit"],
    scenario.GUARDIANS_CSV: ["child_ref", "guardian_ref", "parental_responsibility"],
    scenario.CONSENTS_CSV: [
        "subject_ref",
        "purpose",
        "by_ref",
        "decision",
        "method",
        "given",
        "until",
        "evidence",
    ],
}
NORWEGIAN_WORDS = ("samtykke", "frivillig", "trekke", "behandlingsansvarlig", "15 år")


def people() -> dict[str, dict[str, str]]:
    return {row["ref"]: row for row in read_csv(scenario.PEOPLE_CSV)}


def guardians_of(child: str, *, responsible_only: bool = True) -> set[str]:
    return {
        row["guardian_ref"]
        for row in read_csv(scenario.GUARDIANS_CSV)
        if row["child_ref"] == child
        and (row["parental_responsibility"] == "yes" or not responsible_only)
    }


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.mark.parametrize(
    ("path", "columns"), list(COLUMNS.items()), ids=lambda v: getattr(v, "name", "")
)
def test_every_sample_csv_has_exactly_the_documented_columns(
    path: Path, columns: list[str]
) -> None:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == columns
    rows = read_csv(path)
    assert rows
    assert all(None not in row and len(row) == len(columns) for row in rows)


def test_every_unit_parent_is_defined_on_an_earlier_line() -> None:
    seen: set[str] = set()
    for row in read_csv(scenario.UNITS_CSV):
        assert row["parent"] in seen | {""}
        seen.add(row["code"])
    assert {scenario.KINDERGARTEN, scenario.SCHOOL, scenario.SCHOOL_CLASS} <= seen


def test_every_person_has_a_unique_ref_an_iso_birth_date_a_kind_and_a_known_unit() -> None:
    rows = read_csv(scenario.PEOPLE_CSV)
    units = {row["code"] for row in read_csv(scenario.UNITS_CSV)}
    assert len({row["ref"] for row in rows}) == len(rows)
    for row in rows:
        assert re.fullmatch(r"[KEGSA]\d{3}", row["ref"])
        date.fromisoformat(row["born"])
        assert row["kind"] in {"child", "adult", "staff"}
        assert row["unit"] in units | {""}


def test_names_are_realistic_norwegian_names_with_diacritics() -> None:
    names = [row["name"] for row in people().values()]
    assert all(len(name.split()) >= 2 for name in names)
    assert {"æ", "ø", "å"} <= set("".join(names).casefold())


def test_kindergarten_children_and_pupils_are_under_15_except_the_one_turning_15() -> None:
    for ref, row in people().items():
        born = date.fromisoformat(row["born"])
        if row["kind"] != "child":
            assert age_on(born, STORY_TODAY) >= 18
        elif row["unit"] == scenario.KINDERGARTEN:
            assert 2020 <= born.year <= 2022
        else:
            assert age_on(born, STORY_TODAY) == 14, ref


def test_the_pupil_turning_15_has_the_birthday_the_scenario_names() -> None:
    born = date.fromisoformat(people()[scenario.TURNS_15_REF]["born"])
    assert born == date(2011, 12, 1)
    assert age_on(born, scenario.OUTCOMES_HOLD_THROUGH) == 14
    assert age_on(born, scenario.TURNS_15_ON) == 15


def test_every_ref_in_guardians_and_consents_is_a_known_person() -> None:
    known = set(people())
    for row in read_csv(scenario.GUARDIANS_CSV):
        assert {row["child_ref"], row["guardian_ref"]} <= known
        assert people()[row["child_ref"]]["kind"] == "child"
        assert row["parental_responsibility"] in {"yes", "no"}
    for row in read_csv(scenario.CONSENTS_CSV):
        assert {row["subject_ref"], row["by_ref"]} <= known


def test_guardians_include_a_step_parent_without_parental_responsibility() -> None:
    rows = read_csv(scenario.GUARDIANS_CSV)
    without = [row for row in rows if row["parental_responsibility"] == "no"]
    assert [row["guardian_ref"] for row in without] == [scenario.STEP_PARENT_REF]
    assert guardians_of(without[0]["child_ref"])  # the child still has a responsible guardian


def test_every_consent_is_given_by_the_subject_or_one_of_their_guardians() -> None:
    for row in read_csv(scenario.CONSENTS_CSV):
        subject = row["subject_ref"]
        allowed = {subject} | guardians_of(subject, responsible_only=False)
        assert row["by_ref"] in allowed, row


def test_consent_values_and_dates_follow_the_contract() -> None:
    purposes = {row["code"] for row in read_csv(scenario.PURPOSES_CSV)}
    for row in read_csv(scenario.CONSENTS_CSV):
        assert row["purpose"] in purposes
        assert row["decision"] in {"grant", "refusal"}
        assert row["method"] in {"paper", "email", "digital", "in-person"}
        given = date.fromisoformat(row["given"])
        assert given <= STORY_TODAY
        if row["until"]:
            assert given <= date.fromisoformat(row["until"])


def test_every_evidence_path_is_a_text_file_beside_the_csv() -> None:
    used = {row["evidence"] for row in read_csv(scenario.CONSENTS_CSV) if row["evidence"]}
    assert len(used) >= 2
    for relative in used:
        path = scenario.CONSENTS_CSV.parent / relative
        assert path.parent == scenario.EVIDENCE_DIR
        assert path.suffix == ".txt"
        assert path.read_text(encoding="utf-8").startswith("Fra: ")


@pytest.mark.parametrize("row", read_csv(scenario.PURPOSES_CSV), ids=lambda r: r["code"])
def test_every_purpose_has_a_norwegian_notice_of_six_to_twelve_lines(row: dict[str, str]) -> None:
    text = (scenario.PURPOSES_CSV.parent / row["notice_file"]).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert 6 <= len(lines) <= 12
    assert all(word in text.casefold() for word in NORWEGIAN_WORDS), row["code"]
    assert re.search(r"[æøå]", text)


def test_purpose_settings_are_valid_or_empty_for_the_default() -> None:
    rows = {row["code"]: row for row in read_csv(scenario.PURPOSES_CSV)}
    assert {"facebook", "website", "yearbook", "press"} <= set(rows)
    assert (rows["facebook"]["max_px"], rows["facebook"]["guardians"]) == ("1280", "all")
    assert (rows["website"]["max_px"], rows["website"]["guardians"]) == ("1600", "any")
    assert (rows["yearbook"]["max_px"], rows["yearbook"]["valid_days"]) == ("2000", "365")
    assert rows["press"]["valid_until"] == "07-31"
    for row in rows.values():
        assert row["guardians"] in {"", "all", "any"}
        assert not (row["valid_until"] and row["valid_days"])


def test_the_revised_facebook_notice_is_a_one_line_wording_fix() -> None:
    code, revised = scenario.REVISED_NOTICE
    old = (scenario.NOTICES_DIR / f"{code}.txt").read_text(encoding="utf-8").splitlines()
    new = revised.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert len(changed) == 1
    assert "skolen" in changed[0][1]


def test_the_scenario_refs_and_units_exist() -> None:
    known = set(people())
    assert {scenario.PROTECTED_REF, scenario.TURNS_15_REF, scenario.STEP_PARENT_REF} <= known
    for photo in PHOTOS:
        assert set(photo.identifiable + photo.not_identifiable + photo.blocking) <= known
    units = {row["code"] for row in read_csv(scenario.UNITS_CSV)}
    assert {photo.unit for photo in PHOTOS} <= units


def test_the_withdrawn_grant_is_in_the_consents() -> None:
    subject, purpose, by = scenario.WITHDRAW
    rows = read_csv(scenario.CONSENTS_CSV)
    assert any(
        (r["subject_ref"], r["purpose"], r["by_ref"], r["decision"])
        == (subject, purpose, by, "grant")
        for r in rows
    )
    taken_down = [p.file_name for p in PHOTOS if p.released and subject in p.identifiable]
    assert taken_down == list(scenario.WITHDRAW_TAKES_DOWN)


# --- the story: a small, independent reading of the rules on the sample data --------------------


@dataclass(frozen=True)
class Register:
    """The people and consent rows as imported: the files as written, or moved to another day."""

    people: dict[str, dict[str, str]]
    consents: list[dict[str, str]]


AS_WRITTEN = Register(people(), read_csv(scenario.CONSENTS_CSV))


def moved_to(today: date) -> Register:
    story = scenario.StoryDates(today)
    return Register({row["ref"]: row for row in story.people()}, story.consents())


def _until(event: dict[str, str]) -> date:
    """The event's last day: its own, or the coming 31 July (every purpose the photos are
    published for runs to 31 July)."""
    if event["until"]:
        return date.fromisoformat(event["until"])
    given = date.fromisoformat(event["given"])
    return date(given.year + (given > date(given.year, 7, 31)), 7, 31)


def _latest(
    register: Register, subject: str, purpose: str, by: str, day: date
) -> dict[str, str] | None:
    """The consenter's latest decision given by `day` (one not yet valid counts as absent)."""
    rows = [
        r
        for r in register.consents
        if (r["subject_ref"], r["purpose"], r["by_ref"]) == (subject, purpose, by)
        and date.fromisoformat(r["given"]) <= day
    ]
    return max(rows, key=lambda r: r["given"]) if rows else None


def _decision_reasons(event: dict[str, str], day: date) -> set[str]:
    if event["decision"] == "refusal":
        return {"consent_refused"}
    return {"consent_expired"} if _until(event) < day else set()


def _guardian_reasons(register: Register, subject: str, purpose: str, day: date) -> set[str]:
    reasons: set[str] = set()
    for guardian in sorted(guardians_of(subject)):
        event = _latest(register, subject, purpose, guardian, day)
        if event is None:
            reasons.add("guardian_consent_missing")
        else:
            reasons |= _decision_reasons(event, day)
    return reasons


def _subject_reasons(register: Register, ref: str, purpose: str, day: date) -> set[str]:
    if ref == scenario.PROTECTED_REF:
        return {"protected_identity"}
    person = register.people[ref]
    own = _latest(register, ref, purpose, ref, day)
    if person["kind"] != "child" or age_on(date.fromisoformat(person["born"]), day) >= 15:
        if own is None:
            return {"self_consent_required" if person["kind"] == "child" else "no_consent"}
        return _decision_reasons(own, day)
    if own is not None and own["decision"] == "refusal":
        return {"consent_refused"}
    return _guardian_reasons(register, ref, purpose, day)


def expected_reasons(photo: SamplePhoto, day: date, register: Register = AS_WRITTEN) -> set[str]:
    reasons = set() if photo.complete else {"tagging_incomplete"}
    for ref in photo.identifiable:
        reasons |= _subject_reasons(register, ref, photo.purpose, day)
        person = register.people[ref]
        minor = age_on(date.fromisoformat(person["born"]), day) < 18
        if photo.caption and minor and person["name"].casefold() in photo.caption.casefold():
            reasons.add("caption_full_name")
    return reasons


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.file_name)
def test_each_photos_expected_outcome_follows_from_the_sample_data(photo: SamplePhoto) -> None:
    assert expected_reasons(photo, STORY_TODAY) == set(photo.expected)
    assert expected_reasons(photo, scenario.OUTCOMES_HOLD_FROM) == set(photo.expected)
    assert expected_reasons(photo, scenario.OUTCOMES_HOLD_THROUGH) == set(photo.expected)


def test_as_written_every_release_has_run_out_by_the_next_school_year() -> None:
    """Why the demo moves the files: as written, the story's consents end on 31 July 2027."""
    last_day, next_day = date(2027, 7, 31), date(2027, 8, 1)
    released = [p for p in PHOTOS if p.released and p.file_name != scenario.TURNS_15_PHOTO]
    assert all(expected_reasons(p, last_day) == set() for p in released)
    assert all(expected_reasons(p, next_day) == {"consent_expired"} for p in released)


def test_the_photo_with_the_pupil_turning_15_is_refused_from_the_birthday() -> None:
    (photo,) = [p for p in PHOTOS if p.file_name == scenario.TURNS_15_PHOTO]
    assert scenario.TURNS_15_REF in photo.identifiable
    assert photo.released
    assert expected_reasons(photo, scenario.TURNS_15_ON) == {"self_consent_required"}


def test_the_story_covers_every_refusal_the_demo_shows() -> None:
    shown = {code for photo in PHOTOS for code in photo.expected}
    assert shown == {
        "consent_refused",
        "protected_identity",
        "guardian_consent_missing",
        "tagging_incomplete",
        "caption_full_name",
        "consent_expired",
    }
    assert sum(photo.released for photo in PHOTOS) == 4


# --- the story moved to another today, as `consentreg demo` imports it ---------------------------

# the edges of school years, of the story's window, of leap years, and the day the demo is read
EDGE_DAYS = [
    STORY_TODAY,
    date(2026, 8, 1),
    date(2026, 8, 13),
    date(2026, 10, 14),
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2027, 2, 20),
    date(2027, 7, 22),
    date(2027, 7, 31),
    date(2027, 8, 1),
    date(2028, 2, 20),
    date(2028, 2, 29),
    date(2028, 3, 1),
    date(2028, 12, 5),
    date(2031, 1, 1),
    date.today(),
]


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
def test_the_moved_story_has_the_same_outcomes_today_and_the_birthday_after(today: date) -> None:
    story, register = scenario.StoryDates(today), moved_to(today)
    for photo in PHOTOS:
        assert expected_reasons(photo, today, register) == set(photo.expected), photo.file_name
    (turning,) = [p for p in PHOTOS if p.file_name == scenario.TURNS_15_PHOTO]
    on_birthday = expected_reasons(turning, story.turns_15_on, register)
    last_day = date(scenario.school_year_start(today).year + 1, 7, 31)
    if today < last_day:  # within the school year, while Thea's guardians' consents hold
        assert story.turns_15_on <= last_day
        assert on_birthday == {"self_consent_required"}
    else:  # on 31 July her birthday is tomorrow, in a new school year
        assert story.turns_15_on == today + timedelta(days=1)
        assert on_birthday == {"self_consent_required", "consent_expired"}


def test_the_moved_story_holds_on_every_day_of_three_years() -> None:
    for today in every_day(date(2027, 1, 1), date(2029, 12, 31)):
        register = moved_to(today)
        outcomes = {p.file_name: expected_reasons(p, today, register) for p in PHOTOS}
        assert outcomes == {p.file_name: set(p.expected) for p in PHOTOS}, today


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
def test_the_moved_story_keeps_ages_and_the_dates_of_the_forms(today: date) -> None:
    story, register = scenario.StoryDates(today), moved_to(today)
    for ref, row in people().items():
        born, moved = (
            date.fromisoformat(row["born"]),
            date.fromisoformat(register.people[ref]["born"]),
        )
        if ref != scenario.TURNS_15_REF:
            assert age_on(moved, today) == age_on(born, STORY_TODAY), ref
    vilde = date.fromisoformat(register.people[scenario.TURNS_15_REF]["born"])
    assert (
        today
        < story.turns_15_on
        <= today + (scenario.TURNS_15_ON - STORY_TODAY + timedelta(days=1))
    )
    assert age_on(vilde, story.turns_15_on - timedelta(days=1)) == 14
    assert age_on(vilde, story.turns_15_on) == 15
    start = scenario.school_year_start(today)
    for written, moved_row in zip(read_csv(scenario.CONSENTS_CSV), register.consents, strict=True):
        given = date.fromisoformat(moved_row["given"])
        assert start.replace(year=start.year - 2) <= given <= today
        if written["until"]:  # last year's consent ran out on the 31 July before last, as written
            assert date.fromisoformat(moved_row["until"]) == date(start.year - 1, 7, 31)
            assert given < start
        else:  # this school year's, on the form's own day unless that is still ahead
            assert given >= start
            assert given == today or moved_row["given"][4:] == written["given"][4:]


def test_the_demo_writes_the_moved_files_for_the_import(tmp_path: Path) -> None:
    story = scenario.StoryDates(date(2029, 3, 15))
    people_csv, guardians_csv, consents_csv = story.write(tmp_path / "samples")
    assert read_csv(people_csv) == story.people()
    assert read_csv(consents_csv) == story.consents()
    assert guardians_csv.read_bytes() == scenario.GUARDIANS_CSV.read_bytes()
    for path, columns in (
        (people_csv, COLUMNS[scenario.PEOPLE_CSV]),
        (consents_csv, COLUMNS[scenario.CONSENTS_CSV]),
    ):
        assert path.read_text(encoding="utf-8").splitlines()[0].split(",") == columns
    for row in read_csv(consents_csv):
        if row["evidence"]:
            assert (consents_csv.parent / row["evidence"]).read_bytes() == (
                scenario.CONSENTS_CSV.parent / row["evidence"]
            ).read_bytes()


def test_package_data_globs_ship_every_sample_file() -> None:
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["consentreg_samples"]
    for path in scenario.SAMPLES_DIR.rglob("*"):
        relative = path.relative_to(scenario.SAMPLES_DIR).as_posix()
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in relative:
            assert any(
                fnmatch.fnmatch(relative, g) and g.count("/") == relative.count("/") for g in globs
            ), relative
