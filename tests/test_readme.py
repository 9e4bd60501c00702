"""The README's quick start, run as a new user would: every `$ ` line in bash, in order, in an
empty folder with the samples and a photo, and its output compared line by line (IDs and the
home path may differ)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HEX_ID = re.compile(r"[0-9a-f]{32}")


def quick_start() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def pattern(expected: str) -> re.Pattern[str]:
    """IDs (32 hex digits, or the first 8 beside a name: "Emma Sæther (b348295a)") and the
    folder may differ; everything else must be as written."""
    parts = [re.escape(p) for p in HEX_ID.split(expected)]
    regex = "[0-9a-f]{32}".join(parts).replace(re.escape("/home/kari/try"), ".+")
    return re.compile(re.sub(r"\\\(([0-9a-f]{8})\\\)", r"\\([0-9a-f]{8}\\)", regex))


def test_the_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    Image.new("RGB", (3000, 2000), (90, 140, 200)).save(tmp_path / "photo.jpg", quality=90)
    steps = quick_start()
    # after each step print a marker, then restore the step's exit status for `echo $?`
    script = "\n".join(
        f"{cmd}\nrc=$?; echo '@@step {i}'; (exit $rc)" for i, (cmd, _) in enumerate(steps)
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("CONSENTREG_DB", None)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    outputs = re.split(r"@@step \d+\n", result.stdout)
    assert len(outputs) == len(steps) + 1, result.stderr
    for (cmd, expected), actual in zip(steps, outputs, strict=False):
        lines = actual.splitlines()
        assert len(lines) == len(expected), f"{cmd}: {actual!r}"
        for want, got in zip(expected, lines, strict=True):
            assert pattern(want).fullmatch(got), f"{cmd}: expected {want!r}, got {got!r}"
