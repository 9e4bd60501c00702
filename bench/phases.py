"""Where a publish spends its time, without a profiler's distortion: run `publish_all` in this
process with timers wrapped around the pipeline's functions, and print JSON.

    python bench/phases.py phases --purpose P --out DIR FILE...    # --jobs 1, all in-process
    python bench/phases.py timeline --purpose P --out DIR FILE...  # --jobs 2: when things happen

Run by bench/run.py with the register's environment (CONSENTREG_HOME). Names that a refactor
removed are skipped (and listed), so the benchmark keeps working."""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's cli/ package

# label, module, attribute path: in pipeline order; "  " marks a part of the phase above
PHASES = [
    ("open the register: schema-at-head check", "consentreg.db.schema", "require_head"),
    ("open the register: key file", "consentreg.crypto", "Keyring.load"),
    (
        "read input + SHA-256 + render (worker)",
        "consentreg.services.publishing.worker_pool",
        "render",
    ),
    ("  render release copy", "consentreg.imaging.rendering", "render_release"),
    (
        "gate pre-check (after a refusal only)",
        "consentreg.services.publishing.releases",
        "_Run._precheck",
    ),
    ("    decode (DCT-scaled) + resize", "consentreg.imaging.rendering", "_decode"),
    ("      of which resize (bicubic)", "consentreg.imaging.rendering", "_downscale"),
    ("    colour to sRGB", "consentreg.imaging.rendering", "to_srgb"),
    ("    fresh image copy", "consentreg.imaging.rendering", "_fresh_copy"),
    ("    encode JPEG", "consentreg.imaging.rendering", "_encode"),
    ("    verify bytes", "consentreg.imaging.rendering", "verify_clean"),
    (
        "record publication (writer transaction, file)",
        "consentreg.services.publishing.releases",
        "_Run._record",
    ),
    (
        "  record_decision (re-check, rows, audit log)",
        "consentreg.services.publishing.gate",
        "record_decision",
    ),
    (
        "  deliver: temporary file + fsync + link",
        "consentreg.release_folder",
        "ReleaseFolder.deliver",
    ),
]

_totals: dict[str, float] = {}
_calls: dict[str, int] = {}
_events: list[tuple[str, float]] = []


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["phases", "timeline"])
    parser.add_argument("--purpose", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    import cli.main  # noqa: F401  - what `consentreg` imports first (installed as consentreg_cli)
    from cli.runtime import open_register
    from consentreg.services.publishing import releases, worker_pool

    cli_imported = time.perf_counter()
    missing = _wrap_phases() if args.mode == "phases" else _wrap_timeline(worker_pool, releases)
    imported = time.perf_counter()
    outcomes = releases.publish(
        _opening(open_register),
        inputs=args.files,
        purpose=args.purpose,
        out=args.out,
        caption=None,
        jobs=1 if args.mode == "phases" else 2,
        again=True,  # the timed runs released these photos already: the whole pipeline again
    ).outcomes
    done = time.perf_counter()
    result = {
        "released": sum(o.decision == "released" for o in outcomes),
        "interpreter_ms": (started - T0) * 1000,
        "import_cli_ms": (cli_imported - started) * 1000,
        "import_rest_ms": (imported - cli_imported) * 1000,
        "publish_all_ms": (done - imported) * 1000,
        "phases": [
            [label, _totals[label] * 1000, _calls[label]] for label, *_ in PHASES if label in _calls
        ],
        "events": [[what, (t - T0) * 1000] for what, t in _events],
        "missing": missing,
    }
    print(json.dumps(result))


def _wrap_phases() -> list[str]:
    """Wrap every phase's function (importing its module: that import time is counted)."""
    missing = []
    for label, module_name, path in PHASES:
        try:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            setattr(owner, name, _timer(label, getattr(owner, name)))
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{path}")
    return missing


def _timer(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _totals[label] = _totals.get(label, 0.0) + time.perf_counter() - start
            _calls[label] = _calls.get(label, 0) + 1

    return timed


@contextmanager
def _opening(original_open: Callable[[], Any]) -> Iterator[Any]:
    _events.append(("open the register: start", time.perf_counter()))
    with original_open() as register:
        _events.append(("register open", time.perf_counter()))
        yield register


def _wrap_timeline(worker_pool: Any, releases: Any) -> list[str]:
    """Note when the pool exists, photos are sent and recorded (the register's opening is
    noted by `_opening`)."""
    try:
        original_executor = worker_pool.pool
        original_collect = releases._Run._collect
    except AttributeError as exc:
        return [str(exc)]

    @contextmanager
    def executor(jobs: int, count: int, start_method: str | None = None) -> Iterator[Any]:
        with original_executor(jobs, count, start_method) as pool:
            submit = pool.submit

            def counted_submit(*args: Any, **kwargs: Any) -> Any:
                _events.append(("photo sent to a worker", time.perf_counter()))
                return submit(*args, **kwargs)

            pool.submit = counted_submit
            yield pool
        _events.append(("pool shut down", time.perf_counter()))

    def collect(self: Any, *args: Any) -> None:
        original_collect(self, *args)
        _events.append(("photo recorded", time.perf_counter()))

    worker_pool.pool, releases._Run._collect = executor, collect
    return []


if __name__ == "__main__":
    main(sys.argv[1:])
