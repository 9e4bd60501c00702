"""consentreg benchmark harness (`make bench`): publish vs vipsthumbnail, single-photo latency,
`--help` latency and imports, peak memory on a 50-megapixel photo. Writes BENCHMARKS.md.

Every consentreg number is a whole `consentreg` process, started the way a user starts it, on a
fresh register in a temporary CONSENTREG_HOME. Run with `--quick` for a smoke run (fewer photos
and repetitions; the report then goes to bench/out/quick.md unless --out is given).

Standard library and Pillow only; needs exiftool and vipsthumbnail (`make system-deps`)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report, suite  # noqa: E402
from bench.measure import Plan  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FULL = Plan(photos=20, reps=5, single_reps=5, help_reps=10, memory_reps=3, jobs=2, quick=False)
QUICK = Plan(photos=4, reps=2, single_reps=2, help_reps=3, memory_reps=1, jobs=2, quick=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    plan = replace(QUICK if args.quick else FULL, quiet_wait_s=args.wait)
    out = args.out or (
        REPO / "bench" / "out" / "quick.md" if args.quick else REPO / "BENCHMARKS.md"
    )
    work = Path(tempfile.mkdtemp(prefix="consentreg-bench-", dir=args.workdir))
    started = time.monotonic()
    try:
        results = suite.run_all(plan, work, REPO / "bench" / "out")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results.duration_s = time.monotonic() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.markdown(results), encoding="utf-8")
    print(report.summary(results))
    print(f"\nreport written to {out}")
    if args.keep:
        print(f"work folder kept: {work}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 photos, 2 repetitions")
    parser.add_argument("--out", type=Path, help="report file (default: BENCHMARKS.md)")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="S",
        help="before timed runs, wait up to S seconds for other load to stop (0: never wait)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
