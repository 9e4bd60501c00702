"""The sample CSVs, notices and evidence parse, hang together and tell the story README.md tells."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from samples import scenario
from samples.scenario import PHOTOS, SamplePhoto, read_csv

DEMO_TODAY = date(2026, 11, 22)
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
            assert age_on(born, DEMO_TODAY) >= 18
        elif row["unit"] == scenario.KINDERGARTEN:
            assert 2020 <= born.year <= 2022
        else:
            assert age_on(born, DEMO_TODAY) == 14, ref


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
        assert given <= DEMO_TODAY
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


def _latest(subject: str, purpose: str, by: str) -> dict[str, str] | None:
    rows = [
        r
        for r in read_csv(scenario.CONSENTS_CSV)
        if (r["subject_ref"], r["purpose"], r["by_ref"]) == (subject, purpose, by)
    ]
    return max(rows, key=lambda r: r["given"]) if rows else None


def _guardian_reasons(subject: str, purpose: str, day: date) -> set[str]:
    reasons: set[str] = set()
    for guardian in sorted(guardians_of(subject)):
        event = _latest(subject, purpose, guardian)
        if event is None:
            reasons.add("guardian_consent_missing")
        elif event["decision"] == "refusal":
            reasons.add("consent_refused")
        elif event["until"] and date.fromisoformat(event["until"]) < day:
            reasons.add("consent_expired")
    return reasons


def _subject_reasons(ref: str, purpose: str, day: date) -> set[str]:
    if ref == scenario.PROTECTED_REF:
        return {"protected_identity"}
    person = people()[ref]
    own = _latest(ref, purpose, ref)
    if person["kind"] != "child" or age_on(date.fromisoformat(person["born"]), day) >= 15:
        if own is None:
            return {"self_consent_required" if person["kind"] == "child" else "no_consent"}
        return {"consent_refused"} if own["decision"] == "refusal" else set()
    if own is not None and own["decision"] == "refusal":
        return {"consent_refused"}
    return _guardian_reasons(ref, purpose, day)


def expected_reasons(photo: SamplePhoto, day: date) -> set[str]:
    reasons = set() if photo.complete else {"tagging_incomplete"}
    for ref in photo.identifiable:
        reasons |= _subject_reasons(ref, photo.purpose, day)
        person = people()[ref]
        minor = age_on(date.fromisoformat(person["born"]), day) < 18
        if photo.caption and minor and person["name"].casefold() in photo.caption.casefold():
            reasons.add("caption_full_name")
    return reasons


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.file_name)
def test_each_photos_expected_outcome_follows_from_the_sample_data(photo: SamplePhoto) -> None:
    assert expected_reasons(photo, DEMO_TODAY) == set(photo.expected)
    assert expected_reasons(photo, scenario.OUTCOMES_HOLD_FROM) == set(photo.expected)
    assert expected_reasons(photo, scenario.OUTCOMES_HOLD_THROUGH) == set(photo.expected)


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
