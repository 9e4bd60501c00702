"""BENCHMARKS.md and the stdout summary, from the measured results."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Series
from bench.suite import BIG_SIZE, MAX_PX, PHOTO_SIZE, Results

RESULTS_DIR = Path(__file__).resolve().with_name("results")
HISTORY = "history.md"  # in RESULTS_DIR, kept by hand: earlier runs, measured changes
RATIO_TARGET = 1.0
HELP_TARGET_S = 0.2
BUSY_WARNING = 0.25  # CPU seconds used by others per second of a timed run
MEMORY_TARGET_MB = 300.0  # 300 * 10^6 bytes (the stricter reading: 286 MiB)


@dataclass(frozen=True)
class Verdict:
    measurement: str
    target: str
    measured: str
    ok: bool | None  # None: no target, reported for reference

    @property
    def mark(self) -> str:
        return "reference" if self.ok is None else ("PASS" if self.ok else "**MISSED**")


def verdicts(r: Results) -> list[Verdict]:
    ratio = r.batch.median_s / r.batch_vips.median_s
    peak_mb = r.memory.max_rss_mib * 1024**2 / 1e6
    checks_ok = all(c.ok for c in r.checks)
    return [
        Verdict(
            f"publish {r.plan.photos} photos (--jobs {r.plan.jobs}) / vipsthumbnail, medians",
            f"<= {RATIO_TARGET:.2f}",
            f"{ratio:.2f} ({r.batch.median_s:.2f} s / {r.batch_vips.median_s:.2f} s; "
            f"minimums {r.batch.min_s / r.batch_vips.min_s:.2f}, "
            f"paired {_paired(r.batch, r.batch_vips):.2f})",
            ratio <= RATIO_TARGET,
        ),
        Verdict(
            "single-photo publish latency (--jobs 1), median",
            "none",
            f"{r.single.median_s * 1000:.0f} ms (vipsthumbnail: "
            f"{r.single_vips.median_s * 1000:.0f} ms)",
            None,
        ),
        Verdict(
            "`consentreg --help` latency, median",
            f"<= {HELP_TARGET_S:.1f} s",
            f"{r.help.median_s * 1000:.0f} ms",
            r.help.median_s <= HELP_TARGET_S,
        ),
        Verdict(
            "`--help` imports neither SQLAlchemy nor Pillow",
            "none imported",
            _imports(r),
            r.import_check.ok,
        ),
        Verdict(
            f"peak RSS, publish one {BIG_SIZE[0] * BIG_SIZE[1] / 1e6:.0f} MP JPEG (--jobs 1)",
            f"<= {MEMORY_TARGET_MB:.0f} MB",
            f"{peak_mb:.0f} MB ({r.memory.max_rss_mib:.0f} MiB)",
            peak_mb <= MEMORY_TARGET_MB,
        ),
        Verdict(
            "released files: size, no GPS/thumbnail/metadata",
            "all clean",
            f"{sum(c.ok for c in r.checks)} of {len(r.checks)} checks pass",
            checks_ok,
        ),
    ]


def _imports(r: Results) -> str:
    return "none" if r.import_check.ok else r.import_check.detail


def summary(r: Results) -> str:
    lines = [f"consentreg benchmark{' (QUICK SMOKE RUN)' if r.plan.quick else ''}"]
    for v in verdicts(r):
        lines.append(f"  {v.mark.strip('*'):<9} {v.measurement}: {v.measured} (target {v.target})")
    for c in r.checks:
        if not c.ok:
            lines.append(f"  FAILED    {c.name}: {c.detail}")
    return "\n".join(lines)


def markdown(r: Results) -> str:
    parts = [
        _heading(r),
        _table(
            ["measurement", "target", "measured", "result"],
            [[v.measurement, v.target, v.measured, v.mark] for v in verdicts(r)],
        ),
        "## Machine\n\n" + _table(["", ""], [[k, v] for k, v in r.machine.items()]),
        _inputs(r),
        _batch(r),
        _single(r),
        _help(r),
        _memory(r),
        _hotspots(r),
        _checks(r),
        _method(r),
        _reproduce(),
        *_included(RESULTS_DIR),
    ]
    return "\n\n".join(parts).rstrip() + "\n"


def _heading(r: Results) -> str:
    text = (
        "# consentreg benchmarks\n\n"
        f"Measured {r.machine['date']} by `bench/run.py` (`make bench`) in "
        f"{r.duration_s / 60:.1f} minutes. This file is generated: edit `bench/report.py`, not "
        "this file. A target that is not met is marked **MISSED**; the harness still exits 0."
    )
    if r.plan.quick:
        text += (
            "\n\n> **QUICK SMOKE RUN** (`--quick`): few photos and repetitions; "
            "the numbers are not representative."
        )
    busy = _busy(r)
    if busy > BUSY_WARNING:
        text += (
            f"\n\n> **The machine was busy**: other processes used up to {busy:.2f} CPU seconds "
            'per second of a timed run (median of a series; see "other load"). Medians are '
            "inflated; minimums are the better guide."
        )
    return text + "\n\n## Results"


def _busy(r: Results) -> float:
    series = [r.batch, r.batch_vips, r.single, r.single_vips, r.help, r.memory]
    return max(s.background_cpu_s / s.median_s for s in series if s.runs)


def _series_row(tool: str, s: Series, photos: int) -> list[str]:
    return [
        tool,
        f"{s.median_s:.3f}",
        f"{s.min_s:.3f}",
        f"{s.max_s:.3f}",
        f"{s.median_s / photos * 1000:.0f}",
        f"{s.cpu_median_s:.2f}",
        f"{s.rss_mib:.0f}",
        f"{s.background_cpu_s:.2f}",
        ", ".join(f"{w:.3f}" for w in s.walls),
    ]


_SERIES_HEAD = [
    "tool",
    "median s",
    "min s",
    "max s",
    "ms/photo (median)",
    "CPU s (median)",
    "peak RSS MiB",
    "other load: CPU s",
    "runs (s)",
]


def _paired(a: Series, b: Series) -> float:
    return statistics.median(x / y for x, y in zip(a.walls, b.walls, strict=True))


def _inputs(r: Results) -> str:
    return (
        "## Inputs and register (set-up, not timed)\n\n"
        f"{r.inputs}\n\nA fresh register in a temporary `CONSENTREG_HOME` ($WORK/home), "
        "built with:\n\n```sh\n" + "\n".join(r.setup) + "\n```"
    )


def _batch(r: Results) -> str:
    n = r.plan.photos
    ratio = r.batch.median_s / r.batch_vips.median_s
    return (
        f"## 1. Publish {n} photos vs vipsthumbnail ({PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} -> "
        f"{MAX_PX} px)\n\n"
        + _table(
            _SERIES_HEAD,
            [
                _series_row("consentreg publish", r.batch, n),
                _series_row("vipsthumbnail", r.batch_vips, n),
            ],
        )
        + f"\n\n**Ratio consentreg / vipsthumbnail (medians): {ratio:.2f}** "
        f"(target <= {RATIO_TARGET:.2f}: {'PASS' if ratio <= RATIO_TARGET else '**MISSED**'}); "
        f"ratio of minimums {r.batch.min_s / r.batch_vips.min_s:.2f}; median of the per-pair "
        f"ratios (each pair ran back to back, so it shares the machine's load) "
        f"{_paired(r.batch, r.batch_vips):.2f}.\n\n"
        "consentreg checks every photo against the register, records each publication (audit "
        "log included) and fsyncs each release before renaming it into place; vipsthumbnail only "
        "resizes. Releases accumulate in the register across repetitions.\n\n"
        f"```sh\n{r.batch.command}\n{r.batch_vips.command}\n```"
    )


def _single(r: Results) -> str:
    return (
        "## 2. Single-photo publish latency (--jobs 1)\n\n"
        + _table(
            _SERIES_HEAD,
            [
                _series_row("consentreg publish", r.single, 1),
                _series_row("vipsthumbnail", r.single_vips, 1),
            ],
        )
        + f"\n\nNo target; vipsthumbnail on the same file for reference.\n\n"
        f"```sh\n{r.single.command}\n{r.single_vips.command}\n```"
    )


def _help(r: Results) -> str:
    top = [[f"`{name}`", f"{ms:.1f}"] for name, ms in r.import_top]
    return (
        "## 3. `consentreg --help`: latency and imports\n\n"
        + _table(
            ["command", "median ms", "min ms", "max ms", "target", "result"],
            [
                [
                    "`consentreg --help`",
                    f"{r.help.median_s * 1000:.0f}",
                    f"{r.help.min_s * 1000:.0f}",
                    f"{r.help.max_s * 1000:.0f}",
                    f"<= {HELP_TARGET_S * 1000:.0f} ms",
                    "PASS" if r.help.median_s <= HELP_TARGET_S else "**MISSED**",
                ]
            ],
        )
        + f"\n\n{r.help.runs.__len__()} runs after a warm-up. Imports: "
        f"{'PASS' if r.import_check.ok else '**MISSED**'}: {r.import_check.detail}.\n\n"
        "Largest top-level imports of a `--help` run (`-X importtime`, cumulative):\n\n"
        + _table(["module", "ms"], top)
        + "\n\n```sh\n"
        + "\n".join([r.help.command, *r.import_commands])
        + "\n```"
    )


def _memory(r: Results) -> str:
    peak_mb = r.memory.max_rss_mib * 1024**2 / 1e6
    rows = []
    for tool, series in (
        ("consentreg publish", r.memory),
        ("vipsthumbnail (reference)", r.memory_vips),
    ):
        polled = max(run.polled_hwm_kib for run in series.runs) / 1024
        rows.append(
            [
                tool,
                f"{series.max_rss_mib:.0f}",
                f"{series.max_rss_mib * 1024**2 / 1e6:.0f}",
                f"{polled:.0f}",
                f"{series.median_s:.2f}",
                ", ".join(f"{run.rss_kib / 1024:.0f}" for run in series.runs),
            ]
        )
    return (
        f"## 4. Peak memory: publish one {BIG_SIZE[0]}x{BIG_SIZE[1]} JPEG (--jobs 1)\n\n"
        + _table(
            [
                "tool",
                "peak RSS MiB",
                "peak RSS MB",
                "VmHWM MiB (polled)",
                "wall s (median)",
                "per run MiB",
            ],
            rows,
        )
        + f"\n\nTarget <= {MEMORY_TARGET_MB:.0f} MB (10^6 bytes): "
        f"{'PASS' if peak_mb <= MEMORY_TARGET_MB else '**MISSED**'}. Peak RSS is the kernel's "
        "`ru_maxrss` of the process, the largest over the runs; as a cross-check, the "
        "process's VmHWM was also read from /proc every 2 ms while it ran. With `--jobs 1` "
        "consentreg renders in its own process (no workers). The floor of these numbers is "
        f"the measuring process's own peak RSS, {r.launcher_floor_mib:.0f} MiB.\n\n"
        f"```sh\n{r.memory.command}\n{r.memory_vips.command}\n```"
    )


def _hotspots(r: Results) -> str:
    h = r.hotspots
    if h is None:
        return ""
    return "\n\n".join(
        [
            "## 5. Where the time goes (not timed against vips)",
            _phases(h.phases, r.plan.photos, h.commands["phases"]),
            _timeline(h.timeline, h.commands["timeline"]),
            f"**Imports of a single-photo publish**: {h.imports_total_ms:.0f} ms "
            "(`-X importtime` self times, summed per top-level package):\n\n"
            + _table(["package", "ms"], [[p, f"{ms:.0f}"] for p, ms in h.imports[:10]])
            + f"\n\n```sh\n{h.commands['imports']}\n```",
            f"A cProfile of the batch with `--jobs 1` is in `{h.prof_file}` "
            f"(`.venv/bin/python -m pstats {h.prof_file}`; cProfile inflates Python code "
            "against C code, so use the phase table above for proportions):\n\n"
            f"```sh\n{h.commands['profile']}\n```",
        ]
    )


def _phases(p: dict[str, Any], photos: int, command: str) -> str:
    rows = [
        ["Python start-up (to the first import)", f"{p['interpreter_ms']:.0f}", "", "1"],
        ["import the CLI (typer)", f"{p['import_cli_ms']:.0f}", "", "1"],
        [
            "import the rest (SQLAlchemy, models, alembic, Pillow, ...)",
            f"{p['import_rest_ms']:.0f}",
            "",
            "1",
        ],
        [
            "publish_all, in all",
            f"{p['publish_all_ms']:.0f}",
            f"{p['publish_all_ms'] / photos:.1f}",
            "1",
        ],
    ]
    rows += [
        [label.replace("  ", "&nbsp;&nbsp;"), f"{ms:.0f}", f"{ms / photos:.1f}", str(calls)]
        for label, ms, calls in p["phases"]
    ]
    note = f" Not found (renamed?): {', '.join(p['missing'])}." if p["missing"] else ""
    return (
        f"**Phases of publishing {photos} photos in one process** (`--jobs 1`, timers around "
        "the pipeline's functions, no profiler):"
        + note
        + "\n\n"
        + _table(["phase", "ms", "ms/photo", "calls"], rows)
        + f"\n\n```sh\n{command}\n```"
    )


def _timeline(t: dict[str, Any], command: str) -> str:
    events: list[tuple[str, float]] = [(str(w), float(ms)) for w, ms in t["events"]]
    picked: list[tuple[str, float]] = []
    for kind in {w for w, _ in events}:
        times = [ms for w, ms in events if w == kind]
        if len(times) == 1:
            picked.append((kind, times[0]))
        else:
            picked += [
                (f"{kind} (first)", times[0]),
                (f"{kind} (second)", times[1]),
                (f"{kind} (last, #{len(times)})", times[-1]),
            ]
    rows = [[w, f"{ms:.0f}"] for w, ms in sorted(picked, key=lambda e: e[1])]
    return (
        "**Timeline of a `--jobs 2` publish** (ms since the process started; workers read, "
        "hash and render while the main process starts, then checks and records each photo):\n\n"
        + _table(["event", "ms"], rows)
        + f"\n\n```sh\n{command}\n```"
    )


def _checks(r: Results) -> str:
    return "## Checks of inputs and released files\n\n" + _table(
        ["check", "result", "found"],
        [[c.name, "PASS" if c.ok else "**FAIL**", c.detail] for c in r.checks],
    )


def _method(r: Results) -> str:
    tree = (
        "CPU time and peak RSS include every process of the command: the harness is a child "
        "subreaper, so worker processes that outlive `consentreg` (the forkserver) are reaped "
        "and counted"
        if r.subreaper
        else "CPU time covers only processes the command itself waited for (no subreaper here)"
    )
    return (
        "## Method\n\n"
        "- Each number is a whole process started from the harness, as a user would run it; "
        "wall time runs until that process exits.\n"
        f"- Sections 1 and 2: one warm-up pair, then {r.plan.reps} (section 2: "
        f"{r.plan.single_reps}) counted pairs; consentreg and vipsthumbnail alternate, and "
        "which goes first alternates too. Every repetition writes into a new output folder.\n"
        f"- Median and minimum of the counted runs. {tree}. Peak RSS is the kernel's "
        "`ru_maxrss` of the command's own process (median of the runs); worker processes' "
        "peaks are not shown, because a process spawned by the command starts its `ru_maxrss` "
        "from the command's RSS at that moment.\n"
        '- "Other load" is the CPU time the rest of the machine used while a command ran '
        "(/proc/stat minus the command's own CPU time): other jobs on a shared machine slow "
        "the runs down; compare minimums when it is high. Load from other virtual machines on "
        "the same host does not show there: on a shared VM, absolute times drift by tens of "
        "percent between runs, which is why the two tools alternate and the per-pair ratio is "
        "reported.\n"
        f"- {r.pyc_note}\n"
        f"- {_waits(r)}\n"
        "- vipsthumbnail uses its default thread pool (all cores); consentreg uses "
        f"`--jobs {r.plan.jobs}` worker processes in section 1 and none (in-process) with "
        "`--jobs 1`.\n"
        "- `$WORK` is the temporary work folder (deleted afterwards unless `--keep`)."
    )


def _waits(r: Results) -> str:
    if r.plan.quiet_wait_s <= 0:
        return "The harness did not wait for a quiet machine (`--wait 0`)."
    busy = sum(w < 0 for w in r.quiet_waits)
    waited = sum(w for w in r.quiet_waits if w > 0)
    return (
        f"Before each timed pair or series the harness waited, up to {r.plan.quiet_wait_s:.0f} s, "
        "until other processes used under 0.15 CPU s/s: "
        f"{len(r.quiet_waits)} waits, {waited:.0f} s in all"
        + (f"; {busy} times the machine stayed busy and the runs went ahead." if busy else ".")
    )


def _included(folder: Path) -> list[str]:
    """The Markdown files in bench/results/: reports other benchmark scripts leave there (such
    as bench/scale.py's) and the run history kept by hand, so that regenerating this file keeps
    them; their headings move one level down. The history comes after the reports."""
    parts = []
    for path in sorted(folder.glob("*.md"), key=lambda p: (p.name == HISTORY, p.name)):
        lines, fenced = [], False
        for line in path.read_text(encoding="utf-8").rstrip().splitlines():
            fenced ^= line.startswith("```")
            lines.append("#" + line if line.startswith("#") and not fenced else line)
        origin = (
            "kept by hand: edit that file"
            if path.name == HISTORY
            else "written by another script, with its own date"
        )
        parts.append(
            f"## Included: bench/results/{path.name}\n\n"
            f"> Copied as it is from `bench/results/{path.name}` ({origin}); not measured by "
            "this run.\n\n" + "\n".join(lines)
        )
    return parts


def _reproduce() -> str:
    return (
        "## Reproduce\n\n"
        "```sh\n"
        "make bench                                  # = .venv/bin/python bench/run.py\n"
        ".venv/bin/python bench/run.py --quick       # smoke run, report in bench/out/quick.md\n"
        ".venv/bin/python bench/run.py --out FILE.md --keep   # another report file; keep $WORK\n"
        "```\n\n"
        "Needs exiftool and vipsthumbnail (`make system-deps`); about 2 minutes on 2 cores, "
        "longer while it waits for other load to stop."
    )


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
