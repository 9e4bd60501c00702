"""One paper form, one command: a consent per purpose and signature, recorded together or not at
all, the scan stored once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.cli.conftest import Invoke, born_years_ago

NOTICE = "Vi publiserer bilder.\n"


def _family(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE)
    for code in ("facebook", "web"):
        assert cli("purpose", "add", code, "--title", code, "--notice-file", notice).exit_code == 0
    ids = {
        "child": cli("person", "add", "--name", "Emma Sæther", "--born", born_years_ago(5)),
        "mother": cli(
            "person", "add", "--name", "Ingrid Sæther", "--born", "1988-01-01", "--kind", "adult"
        ),
        "father": cli(
            "person", "add", "--name", "Per Sæther", "--born", "1987-01-01", "--kind", "adult"
        ),
    }
    found = {k: r.stdout.strip() for k, r in ids.items()}
    for parent in ("mother", "father"):
        assert cli("guardian", "add", found["child"], found[parent]).exit_code == 0
    return found


def _count(db_url: str, table: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
    finally:
        engine.dispose()


def test_two_purposes_signed_by_two_guardians_are_four_consents_and_one_scan(
    cli: Invoke, tmp_path: Path, db_url: str
) -> None:
    people = _family(cli, tmp_path)
    scan = tmp_path / "skjema.pdf"
    scan.write_bytes(b"%PDF-1.4 signed form\n" * 100)
    result = cli(
        "--json", "consent", "grant", people["child"],
        "--purpose", "facebook", "--purpose", "web",
        "--by", people["mother"], "--by", people["father"],
        "--evidence", scan,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(result.json()["ids"]) == 4
    assert result.json()["id"] is None
    listed = cli("--json", "consent", "list", "--subject", people["child"]).json()["consents"]
    assert sorted((c["purpose"], c["consenter_id"]) for c in listed) == sorted(
        (p, people[g]) for p in ("facebook", "web") for g in ("mother", "father")
    )
    assert _count(db_url, "evidence_blobs") == 1


def test_a_form_with_one_bad_signature_records_nothing(
    cli: Invoke, tmp_path: Path, db_url: str
) -> None:
    people = _family(cli, tmp_path)
    stranger = cli(
        "person", "add", "--name", "Kari Nabo", "--born", "1970-01-01", "--kind", "adult"
    )
    result = cli(
        "consent", "grant", people["child"], "--purpose", "facebook", "--purpose", "web",
        "--by", people["mother"], "--by", stranger.stdout.strip(),
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert cli("--json", "consent", "list").json()["consents"] == []
    assert _count(db_url, "consent_events") == 0


def test_person_show_gives_guardians_by_name_and_the_standing_per_purpose(
    cli: Invoke, tmp_path: Path
) -> None:
    people = _family(cli, tmp_path)
    grant = ("consent", "grant", people["child"])
    both = ("--by", people["mother"], "--by", people["father"])
    assert cli(*grant, "--purpose", "facebook", *both).exit_code == 0
    assert cli(*grant, "--purpose", "web", "--by", people["mother"]).exit_code == 0
    shown = cli("person", "show", people["child"])
    assert shown.exit_code == 0, shown.stderr
    assert f"guardian   {people['mother'][:8]}  Ingrid Sæther" in shown.stdout
    lines = shown.stdout.splitlines()
    facebook = next(line for line in lines if line.strip().startswith("facebook"))
    web = next(line for line in lines if line.strip().startswith("web"))
    assert "not allowed" not in facebook
    assert "Per Sæther grant" in facebook
    assert "not allowed" in web
    assert "guardian_consent_missing" in shown.stdout
    earlier = cli("--json", "person", "show", people["child"], "--at", "2000-01-01").json()
    assert earlier["standing"] == []
    now = cli("--json", "person", "show", people["child"]).json()
    assert {s["purpose"]: s["allowed"] for s in now["standing"]} == {"facebook": True, "web": False}


def test_a_consent_is_withdrawn_by_naming_whose_it_is_for_what_and_by_whom(
    cli: Invoke, tmp_path: Path
) -> None:
    people = _family(cli, tmp_path)
    grant = cli(
        "consent", "grant", people["child"], "--purpose", "facebook", "--by", people["mother"]
    )
    named = ("--subject", people["child"], "--purpose", "facebook", "--by", people["mother"])
    withdrawn = cli("--json", "consent", "withdraw", *named, "--reason", "e-post")
    assert withdrawn.exit_code == 0, withdrawn.stderr
    listed = cli("--json", "consent", "list", "--subject", people["child"]).json()["consents"]
    assert [c["withdraws"] for c in listed if c["kind"] == "withdrawal"] == [grant.stdout.strip()]
    again = cli("consent", "withdraw", *named)
    assert again.exit_code == 4
    assert "no consent" in again.stderr
    partial = cli("consent", "withdraw", "--subject", people["child"], "--purpose", "facebook")
    assert partial.exit_code == 2
    both = cli("consent", "withdraw", grant.stdout.strip(), *named)
    assert both.exit_code == 2


def test_refusals_and_consent_lists_name_people_for_the_reader_and_json_stays_ids(
    cli: Invoke, tmp_path: Path
) -> None:
    from PIL import Image

    people = _family(cli, tmp_path)
    assert (
        cli(
            "consent", "grant", people["child"], "--purpose", "web", "--by", people["mother"]
        ).exit_code
        == 0
    )
    photo = tmp_path / "tur.jpg"
    Image.new("RGB", (64, 48), (20, 120, 40)).save(photo)
    added = cli("photo", "add", photo, "--photographer", "Tone", "--subject", people["child"])
    assert cli("photo", "complete", added.stdout.strip()).exit_code == 0
    refused = cli("check", photo, "--purpose", "web")
    assert refused.exit_code == 3
    assert f"Emma Sæther ({people['child'][:8]})" in refused.stdout
    assert f"Per Sæther ({people['father'][:8]})" in refused.stdout
    as_json = cli("--json", "check", photo, "--purpose", "web").stdout
    assert "Sæther" not in as_json
    listed = cli("consent", "list").stdout
    assert f"Ingrid Sæther ({people['mother'][:8]})" in listed
    log = cli("--json", "audit", "log").json()["events"]
    assert any(e["payload"].get("view") == "names" for e in log)  # the names shown were a read
