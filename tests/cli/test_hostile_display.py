"""Hostile characters in what a user gives (a file name here: Linux allows a newline, an RLO or an
ESC in one) never reach a reader raw: one line per input in text, escapes in JSON, the same
string to a JSON parser."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.cli import test_cli
from tests.cli.conftest import Invoke

scenario = test_cli.scenario  # the fixture: a consented child in a registered, complete photo

HOSTILE_NAME = "ferie\n\u202egpj.exe\x1b[2J\x85.jpg"


def test_a_file_name_with_a_newline_rlo_and_escape_stays_on_its_line(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    photo = tmp_path / HOSTILE_NAME
    Image.new("RGB", (40, 30), (200, 10, 10)).save(photo, format="JPEG")
    text = cli("check", photo, "--purpose", "facebook")
    first = text.stdout.splitlines()[0]
    assert "ferie\\n\\u202egpj.exe\\x1b[2J\\x85.jpg" in first
    assert all(line.isprintable() for line in text.stdout.splitlines())
    as_json = cli("--json", "check", photo, "--purpose", "facebook")
    assert all(c.isprintable() or c in "\n " for c in as_json.stdout)
    assert json.loads(as_json.stdout)["results"][0]["input"] == str(photo)
