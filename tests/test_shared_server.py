"""docs/shared-server.md, run as an IT person would follow it: every `$ ` line of its console
blocks in order, in bash, in an empty folder, against a throwaway PostgreSQL database (the
chapter's server address is replaced by the test server's), and each output compared line by
line. IDs, hashes, keys and the folder may differ; everything else must be as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import _pg_admin, _require_pg

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "docs" / "shared-server.md"
DOC_URL = "postgresql+psycopg://consentreg@db.kommune.no/consentreg"
LOGINS = ("kari", "dpo")
# what may differ between runs: verifier keys, 64- and 32-hex IDs and hashes, the folder
VARIABLE = [
    (
        re.compile(r"consentreg/[0-9a-f]{16}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+"),
        r"consentreg/[0-9a-f]{16}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+",
    ),
    (re.compile(r"[0-9a-f]{64}"), "[0-9a-f]{64}"),
    (re.compile(r"[0-9a-f]{32}"), "[0-9a-f]{32}"),
    (re.compile(re.escape("/home/kari")), ".+"),
    (re.compile(r"\d+ bytes"), r"\d+ bytes"),
    (re.compile(r"of \d+ tables"), r"of \d+ tables"),  # a later revision may add one
]


def steps() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    text_ = CHAPTER.read_text(encoding="utf-8")
    for block in text_.split("```console\n")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            else:
                found[-1][1].append(line)
    return found


def pattern(expected: str) -> re.Pattern[str]:
    pieces: list[str] = [re.escape(expected)]
    for found, regex in VARIABLE:
        out: list[str] = []
        for piece in pieces:
            if piece.startswith("\x00"):
                out.append(piece)
                continue
            plain = re.sub(r"\\(.)", r"\1", piece)
            parts = found.split(plain)
            for i, part in enumerate(parts):
                if i:
                    out.append("\x00" + regex)
                out.append(re.escape(part))
        pieces = out
    return re.compile("".join(p.removeprefix("\x00") for p in pieces))


@pytest.fixture
def server() -> Iterator[str]:
    """An empty database on the test server, and the chapter's logins on it."""
    url = _require_pg()
    name = f"consentreg_doc_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        for login in LOGINS:
            conn.execute(
                text(
                    f"DO $$ BEGIN CREATE ROLE {login} LOGIN; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_shared_server_chapter_runs_as_written(tmp_path: Path, server: str) -> None:
    chapter = steps()
    script = "\n".join(
        f"{cmd.replace(DOC_URL, server)}\nrc=$?; echo '@@step {i}'; (exit $rc)"
        for i, (cmd, _) in enumerate(chapter)
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for variable in ("CONSENTREG_DB", "CONSENTREG_HOME", "CONSENTREG_WITNESS_DIR"):
        env.pop(variable, None)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    outputs = re.split(r"@@step \d+\n", result.stdout)
    assert len(outputs) == len(chapter) + 1, result.stderr
    for (cmd, expected), actual in zip(chapter, outputs, strict=False):
        lines = actual.splitlines()
        assert len(lines) == len(expected), f"{cmd}: {actual!r}\n{result.stderr}"
        for want, got in zip(expected, lines, strict=True):
            assert pattern(want).fullmatch(got), f"{cmd}: expected {want!r}, got {got!r}"
