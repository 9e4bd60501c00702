"""A registrar's day in bokmål (issue #18): under LANG=nb_NO.UTF-8 every text a person reads
is Norwegian; under LANG=C, or with --lang en, it stays English. Machine codes (reason codes,
--json keys, option names, the examples' command lines) stay as they are."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from .conftest import Invoke, Result, born_years_ago, in_process

# Words that would mean English was left over (none of them is a bokmål word).
ENGLISH = {
    "the", "is", "are", "has", "have", "not", "and", "with", "from", "this", "that", "was",
    "usage", "options", "commands", "error", "missing", "show", "example", "allowed",
    "refused", "consent", "consented", "guardian", "subject", "unit", "purpose", "photo",
    "yes", "given", "registered", "invalid", "unknown", "such", "day", "expected", "help",
    "try", "print", "prints", "name", "born", "kind", "none", "left", "found",
}  # fmt: skip

_MACHINE = re.compile(
    r"^\s+[a-z][a-z-]*(?=\s{2,})"  # a command's name in a list of commands
    r"|consentreg(?: [a-z][a-z-]*)*"  # a command line
    r"|--?[\w-]+"  # option names
    r"|`[^`]*`"  # commands quoted in a text
    r"|\b\w*_\w*\b"  # reason codes, environment variables, column names
    r"|\b[0-9a-f]{6,32}\b"  # IDs
    r"|ref:\S+|\S+\.(jpg|txt|csv|pdf|html)\b"
)


def leftovers(text: str) -> set[str]:
    """English words in `text`, outside option names, codes, IDs and example command lines."""
    found: set[str] = set()
    for line in text.splitlines():
        if line.strip().startswith(("consentreg ", "CONSENTREG_")):
            continue  # an example's command line
        line = re.sub(r"\[(standard|default): [^]]*\]", " ", line)  # an option's machine value
        words = re.findall(r"[A-Za-zæøåÆØÅ]+", _MACHINE.sub(" ", line))
        found |= {w.lower() for w in words} & ENGLISH
    return found


@pytest.fixture
def day(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, cli: Invoke) -> Path:
    """The register of a kindergarten, set up in English; returns a folder with the files."""
    del cli, home
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder på Facebook-siden.\n", encoding="utf-8")
    Image.new("RGB", (64, 48), (200, 120, 40)).save(tmp_path / "photo.jpg")
    return tmp_path


def _registrars_day(invoke: Invoke, folder: Path, *extra: str) -> list[Result]:
    """init, unit add, person add, guardian add, purpose add, consent grant, person show,
    consent list, a refused publish, a bad input, --help: every answer."""

    def run(*args: str) -> Result:
        return invoke(*extra, *args)

    results = [run("init"), run("unit", "add", "bhg", "--name", "Solsikken")]
    child = run("person", "add", "--name", "Emma Nordmann", "--born", born_years_ago(4),
                "--unit", "bhg", "--ref", "K1")  # fmt: skip
    mother = run("person", "add", "--name", "Kari Nordmann", "--born", born_years_ago(35),
                 "--kind", "adult", "--ref", "G1")  # fmt: skip
    father = run("person", "add", "--name", "Ola Nordmann", "--born", born_years_ago(36),
                 "--kind", "adult", "--ref", "G2")  # fmt: skip
    results += [child, mother, father]
    results.append(run("guardian", "add", "ref:K1", "ref:G1"))
    results.append(run("guardian", "add", "ref:K1", "ref:G2"))
    results.append(run("purpose", "add", "facebook", "--title", "Facebook",
                       "--notice-file", str(folder / "notice.txt")))  # fmt: skip
    results.append(run("consent", "grant", "ref:K1", "--purpose", "facebook", "--by", "ref:G1"))
    results.append(run("person", "show", "ref:K1"))
    results.append(run("person", "list"))
    results.append(run("consent", "list"))
    results.append(run("check", str(folder / "photo.jpg"), "--purpose", "facebook"))
    results.append(run("publish", str(folder / "photo.jpg"), "--purpose", "facebook",
                       "--out", str(folder / "ut")))  # fmt: skip
    results.append(run("person", "add", "--name", "X", "--born", "2021-02-30"))
    results.append(run("person", "show", "ref:INGEN"))
    results.append(run("person", "add", "--nmae", "X"))
    results.append(run("nosuch"))
    results.append(run("--help"))
    results.append(run("person", "add", "--help"))
    results.append(run("consent", "grant", "--help"))
    return results


def _texts(results: list[Result]) -> str:
    return "\n".join(r.stdout + r.stderr for r in results)


def test_a_registrars_day_under_a_norwegian_locale_has_no_english_left(
    day: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "nb_NO.UTF-8")
    results = _registrars_day(in_process(capsys), day)
    text = _texts(results)
    assert leftovers(text) == set(), text
    refused = results[12]
    assert refused.exit_code == 3
    assert "unregistered_photo" in refused.stdout  # the code stays a code
    assert "bildet er ikke i registeret" in refused.stdout  # explained in bokmål
    assert "Feil: --born: ingen slik dag" in results[14].stderr
    assert results[14].exit_code == 2
    assert "ukjent person 'ref:INGEN'" in results[15].stderr
    assert "Ikke noe slikt valg: --nmae" in results[16].stderr
    assert "Bruk: consentreg person add [VALG]" in results[16].stderr
    assert "Ingen slik kommando" in results[17].stderr
    assert "Eksempel:" in results[18].stdout
    assert "Kommandoer:" in results[18].stdout
    assert "Fullt navn (lagres kryptert)." in results[19].stdout
    show = results[9].stdout
    assert "Emma Nordmann" in show
    assert "foresatt" in show
    assert "tillatt" in show


def test_the_same_day_stays_english_under_lang_c_and_with_lang_en(
    day: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "C")
    english = _texts(_registrars_day(in_process(capsys), day))
    assert {"the", "usage", "options", "error", "example"} <= leftovers(english)
    assert "the photo is not in the register" in english
    monkeypatch.setenv("LANG", "nb_NO.UTF-8")
    chosen = _texts(_registrars_day(in_process(capsys), day, "--lang", "en"))
    assert "Usage: consentreg person add [OPTIONS]" in chosen
    assert "Error: --born: no such day" in chosen
    assert "Feil" not in chosen
    assert "Bruk:" not in chosen


def test_json_keeps_codes_and_the_english_message(
    day: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    del day
    monkeypatch.setenv("CONSENTREG_LANG", "nb")
    invoke = in_process(capsys)
    failed = invoke("--json", "person", "add", "--name", "X", "--born", "2021-02-30")
    assert failed.exit_code == 2
    assert failed.json()["error"]["message"] == "--born: no such day (expected YYYY-MM-DD)"
    assert "Feil: --born: ingen slik dag" in failed.stderr


def test_the_installed_command_picks_bokmaal_before_building_its_help(
    tmp_path: Path,
) -> None:
    """A fresh process: the language is chosen before any help text is shown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env.update(LANGUAGE="nb_NO:en", LANG="nb_NO.UTF-8", CONSENTREG_HOME=str(tmp_path / "h"))
    env.pop("CONSENTREG_LANG", None)
    out = subprocess.run(
        [sys.executable, "-m", "cli", "unit", "add", "--help"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Registrer en enhet; skriver ut ID-en." in out.stdout
    assert "Bruk: consentreg unit add" in out.stdout or "Bruk:" in out.stdout
    assert leftovers(out.stdout) == set(), out.stdout


def test_csv_values_ja_and_nei_and_an_import_problem_in_bokmaal(
    day: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "nb_NO.UTF-8")
    invoke = in_process(capsys)
    people = day / "personer.csv"
    people.write_text(
        "referanse;navn;fødselsdato;type\n"
        f"K1;Emma Nordmann;{born_years_ago(4)};barn\n"
        f"G1;Kari Nordmann;{born_years_ago(35)};voksen\n"
        f"G2;Ola Nordmann;{born_years_ago(36)};voksen\n",
        encoding="utf-8",
    )
    assert invoke("import", "people", str(people)).exit_code == 0
    bad = day / "foresatte-feil.csv"
    bad.write_text(
        "barn_ref;foresatt_ref;foreldreansvar\nK1;G1;ja\nK1;G2;kanskje\n", encoding="utf-8"
    )
    refused = invoke("import", "guardians", str(bad))
    assert refused.exit_code == 2
    assert "ingenting ble importert, 1 problem(er):" in refused.stderr
    assert "linje 3, kolonne parental_responsibility: må være ja eller nei" in refused.stderr
    good = day / "foresatte.csv"
    good.write_text("barn_ref;foresatt_ref;foreldreansvar\nK1;G1;ja\nK1;G2;nei\n", encoding="utf-8")
    imported = invoke("import", "guardians", str(good))
    assert imported.exit_code == 0, imported.stderr
    assert "importerte 2 rader (foresatte)" in imported.stderr
    shown = invoke("person", "show", "ref:K1").stdout
    assert "Kari Nordmann" in shown
    assert "Ola Nordmann (uten foreldreansvar)" in shown
    assert leftovers(refused.stderr + imported.stderr + shown) == set()


def test_an_unknown_language_is_a_usage_error(
    day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del day
    failed = in_process(capsys)("--lang", "de", "unit", "list")
    assert failed.exit_code == 2
    assert "must be nb (bokmål) or en (English)" in failed.stderr


def test_the_auditor_views_speak_bokmaal(
    day: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`audit log` and `audit subject` under a Norwegian locale: headings, kinds of lines and
    words for people in bokmål; IDs, field names and action codes stay as they are."""
    monkeypatch.setenv("LANG", "nb_NO.UTF-8")
    invoke = in_process(capsys)
    _registrars_day(invoke, day)
    log = invoke("audit", "log")
    assert log.exit_code == 0, log.stderr
    assert "TIDSPUNKT" in log.stdout
    assert "HANDLING" in log.stdout
    assert "consent.grant" in log.stdout  # the action is a code
    subject = invoke("audit", "subject", "ref:K1")
    assert subject.exit_code == 0, subject.stderr
    lines = subject.stdout.splitlines()
    assert lines[0].startswith("person id=")
    assert "kind=barn" in lines[0]
    assert "protected=nei" in lines[0]
    assert any(line.startswith("foresattforhold ") for line in lines)
    assert any(line.startswith("samtykke ") and "kind=samtykke" in line for line in lines)
    assert any(line.startswith("hendelse seq=") for line in lines)
    assert "parental_responsibility=ja" in subject.stdout
    words = set(re.findall(r"(?:^|[ =])([a-z]+)(?=[ \n]|$)", subject.stdout, re.MULTILINE))
    assert not words & {"guardianship", "consent", "event", "child", "grant", "yes", "no"}
    consents = invoke("audit", "consents")
    assert "TILLATT" in consents.stdout
    assert "AVGJØRELSER" in consents.stdout
    assert "foresatt " in consents.stdout
    assert " samtykke" in consents.stdout
    english = in_process(capsys)("--lang", "en", "audit", "subject", "ref:K1").stdout
    assert "kind=child" in english
    assert "parental_responsibility=yes" in english
