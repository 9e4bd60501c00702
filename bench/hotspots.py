"""Where publish spends its time (not timed against vips; for whoever speeds it up):

- phases: `bench/phases.py` runs the batch in one process (--jobs 1) with timers around the
  pipeline's functions: accurate per-phase times, no profiler distortion;
- timeline: the same script with --jobs 2 notes when the register is open, when each photo is
  sent to a worker and when it is recorded;
- imports: `-X importtime` of a single-photo publish, self times summed per top-level package;
- a cProfile file of the batch with --jobs 1, kept in bench/out/ for drilling down."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Launcher, Run

PHASE_SCRIPT = Path(__file__).resolve().with_name("phases.py")
ROOTS = {"consentreg_cli": "consentreg (cli)", "cli": "consentreg (cli)"}


@dataclass
class Hotspots:
    phases: dict[str, Any] = field(default_factory=dict)  # bench/phases.py's JSON
    timeline: dict[str, Any] = field(default_factory=dict)
    imports_total_ms: float = 0.0
    imports: list[tuple[str, float]] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)  # what -> command as shown
    prof_file: str = ""


def phases(
    launcher: Launcher, mode: str, args: list[str], env: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    cmd = [sys.executable, str(PHASE_SCRIPT), mode, *args]
    measured = launcher.run(cmd, env)
    _require(measured)
    result: dict[str, Any] = json.loads(measured.stdout)
    return result, cmd


def imports(
    launcher: Launcher, cmd: list[str], env: dict[str, str]
) -> tuple[float, list[tuple[str, float]], list[str]]:
    """Import time by top-level package (sum of `-X importtime` self times)."""
    full = [sys.executable, "-X", "importtime", *cmd]
    measured = launcher.run(full, env)
    _require(measured)
    totals: dict[str, float] = {}
    for line in measured.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        if not self_us.strip().isdigit():
            continue  # the header
        root = name.strip().split(".")[0]
        stdlib = root in sys.stdlib_module_names or root in sys.builtin_module_names
        package = "(standard library)" if stdlib else ROOTS.get(root, root)
        totals[package] = totals.get(package, 0.0) + int(self_us) / 1000
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return sum(totals.values()), ranked, full


def profile(launcher: Launcher, cmd: list[str], env: dict[str, str], prof: Path) -> list[str]:
    full = [sys.executable, "-m", "cProfile", "-o", str(prof), *cmd]
    _require(launcher.run(full, env))
    return full


def _require(measured: Run) -> None:
    if measured.returncode != 0:
        raise SystemExit(f"profiling command failed:\n{measured.stderr[-2000:]}")
