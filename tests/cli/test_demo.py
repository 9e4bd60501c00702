"""`consentreg demo` tells the story of samples/ as of today, whatever the date: the outcomes
samples/scenario.py expects, in what it prints and in the register it leaves behind."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from cli.main import run
from samples import scenario
from tests.cli.conftest import Invoke, Result, today


@pytest.fixture
def demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Result, Path]:
    """The demo's output and folder; its register stays the current one for `_json`."""
    for name in ("CONSENTREG_HOME", "CONSENTREG_DB", "CONSENTREG_KEY_FILE"):
        monkeypatch.setenv(name, "unset")  # the demo sets its own: restored after the test
    capsys.readouterr()
    code = 0
    try:
        run(["demo", "--dir", str(tmp_path / "demo")])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return Result(code, out, err), tmp_path / "demo"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code: object = 0
    try:
        run(["--json", *args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, None), err
    return Result(0, out, err).json()


def _section(out: str, number: int) -> str:
    return out.split(f"\n== {number}. ", 1)[1].split("\n== ", 1)[0]


_REASON = re.compile(r"  (\S+)\s+(?:-|.*?\(([0-9a-f]{8})\))\s")


def _printed_refusals(section: str) -> dict[str, set[tuple[str, str]]]:
    """{file name: {(reason code, the first 8 of the subject's id, or "-")}} of each `refused`
    block printed (the subject is shown by name beside those 8 characters)."""
    found: dict[str, set[tuple[str, str]]] = {}
    name = ""
    for line in section.splitlines():
        if line.startswith(("refused ", "released ")):
            name = Path(line.split()[1]).name
            found[name] = set()
        elif line.startswith("  ") and name:
            match = _REASON.match(line)
            assert match, line
            found[name].add((match[1], match[2] or "-"))
    return found


def test_the_demo_tells_its_story_as_of_today(
    demo: tuple[Result, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    result, folder = demo
    assert result.exit_code == 0, result.stderr
    story = scenario.StoryDates(today())
    assert f"today, {story.today}:" in result.stdout
    ids = {
        ref: _json(capsys, "person", "show", f"ref:{ref}")["id"] for ref in scenario.person_names()
    }
    photos = {
        p.file_name: _json(capsys, "photo", "show", str(folder / "photos" / p.file_name))["id"]
        for p in scenario.PHOTOS
    }

    # 4. the batch publish (no captions: the caption refusal is shown by 5.)
    published = {p["photo_id"]: p for p in _json(capsys, "audit", "publications")["publications"]}
    printed = _printed_refusals(_section(result.stdout, 4))
    for photo in scenario.PHOTOS:
        expected = set(photo.expected) - {"caption_full_name"}
        record = published[photos[photo.file_name]]
        assert record["decision"] == ("refused" if expected else "released"), photo.file_name
        assert set(record["reasons"]) == expected, photo.file_name
        assert {code for code, _ in printed[photo.file_name]} == expected
        blocking = {
            ids[ref][:8] for ref in photo.blocking if "caption_full_name" not in photo.expected
        }
        assert {s for _, s in printed[photo.file_name]} - {"-"} == blocking, photo.file_name

    # 5. the caption, 6. the 15th birthday
    (captioned,) = [p for p in scenario.PHOTOS if "caption_full_name" in p.expected]
    caption_check = _printed_refusals(_section(result.stdout, 5))
    assert caption_check == {
        captioned.file_name: {("caption_full_name", ids[r][:8]) for r in captioned.blocking}
    }
    birthday = _section(result.stdout, 6)
    assert birthday.startswith(f"From the 15th birthday ({story.turns_15_on}) ")
    assert f"--at {story.turns_15_on}" in birthday
    assert ("self_consent_required", ids[scenario.TURNS_15_REF][:8]) in _printed_refusals(birthday)[
        scenario.TURNS_15_PHOTO
    ]
    vilde = _json(capsys, "person", "show", f"ref:{scenario.TURNS_15_REF}")
    assert vilde["born"] == story.turns_15_on.replace(year=story.turns_15_on.year - 15).isoformat()

    # 7. the withdrawal's take-down list
    takedown = _json(capsys, "takedown", "list")["takedown"]
    assert sorted(t["photo_id"] for t in takedown) == sorted(
        photos[name] for name in scenario.WITHDRAW_TAKES_DOWN
    )
    assert re.search(r"take-down list: 2 release\(s\)", _section(result.stdout, 7))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_serves_the_web_application_for_a_while_and_then_stops(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` (`demo --serve SECONDS`): the address and a demo login are printed, the
    login page answers there, and the server stops by itself when the time is up."""
    from cli import demo

    said: list[str] = []
    monkeypatch.setattr(demo, "_say", said.append)
    server = threading.Thread(target=demo._serve, args=(tmp_path, 4))
    server.start()
    deadline = time.monotonic() + 60
    while not any(line.startswith("Open http") for line in said) and time.monotonic() < deadline:
        time.sleep(0.2)
    (line,) = [line for line in said if line.startswith("Open http")]
    address, password = re.findall(
        r"(http://127\.0\.0\.1:\d+/) and log in as demo with (\S+)", line
    )[0]
    with urllib.request.urlopen(address + "login", timeout=10) as answer:  # noqa: S310 - localhost
        assert answer.status == 200
    server.join(timeout=60)
    assert not server.is_alive()
    assert said[-1] == "The web application has stopped."
    assert (tmp_path / "demo-password.txt").read_text().strip() == password
    assert "demo " in cli("user", "list").stdout
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(address + "login", timeout=5)  # noqa: S310
