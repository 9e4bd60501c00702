"""The benchmark scenarios: inputs and register set-up (not timed), then the timed runs, side by
side and alternating with vipsthumbnail, then checks of every released file."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from bench import hotspots, machine, photos
from bench.hotspots import Hotspots
from bench.measure import Check, Launcher, Plan, Run, Series, checked, shown, wait_for_quiet

PHOTO_SIZE = (4000, 3000)  # 12 MP
BIG_SIZE = (8660, 5774)  # 50 MP
MAX_PX = 1280
PURPOSE = "facebook"
VIPS_SAVE = "[Q=85,strip]"
# exiftool -G1 groups a clean release may have: file structure and the bare JFIF header
_CLEAN_GROUPS = frozenset({"ExifTool", "System", "File", "JFIF", "Composite"})


@dataclass
class Results:
    plan: Plan
    machine: dict[str, str]
    subreaper: bool
    launcher_floor_mib: float
    pyc_note: str = ""
    inputs: str = ""
    setup: list[str] = field(default_factory=list)
    batch: Series = field(default_factory=lambda: Series(""))
    batch_vips: Series = field(default_factory=lambda: Series(""))
    single: Series = field(default_factory=lambda: Series(""))
    single_vips: Series = field(default_factory=lambda: Series(""))
    help: Series = field(default_factory=lambda: Series(""))
    import_check: Check = Check("", ok=False, detail="")
    import_commands: list[str] = field(default_factory=list)
    import_top: list[tuple[str, float]] = field(default_factory=list)
    memory: Series = field(default_factory=lambda: Series(""))
    memory_vips: Series = field(default_factory=lambda: Series(""))
    hotspots: Hotspots | None = None
    quiet_waits: list[float] = field(default_factory=list)  # -1: still busy after the limit
    checks: list[Check] = field(default_factory=list)
    duration_s: float = 0.0


def run_all(plan: Plan, work: Path, prof_dir: Path) -> Results:
    with Launcher() as launcher:  # first: before this process holds any big image
        bench = _Bench(plan, work, launcher)
        results = Results(
            plan,
            machine.describe(work, bench.consentreg),
            launcher.subreaper,
            launcher.floor_kib / 1024,
            bench.pyc_note,
        )
        inputs, big = bench.make_inputs(results)
        bench.build_register(inputs, big, results)
        bench.batch(inputs, results)
        bench.single(inputs[0], results)
        bench.help(results)
        bench.memory(big, results)
        bench.hotspots(inputs, prof_dir, results)
    results.quiet_waits = bench.waits
    return results


class _Bench:
    def __init__(self, plan: Plan, work: Path, launcher: Launcher) -> None:
        self.plan, self.work, self.launcher = plan, work, launcher
        self.consentreg = _tool(Path(sys.executable).with_name("consentreg"), "consentreg")
        self.vips = _tool(None, "vipsthumbnail")
        self.exiftool = _tool(None, "exiftool")
        drop = ("CONSENTREG_DB", "CONSENTREG_KEY_FILE", "PYTHONDONTWRITEBYTECODE")
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env["CONSENTREG_HOME"] = str(work / "home")
        # An installed consentreg has .pyc files; give the runs a bytecode cache of their own
        # (filled by the set-up and warm-up runs) instead of writing into the source tree.
        self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.pyc_note = (
            "PYTHONDONTWRITEBYTECODE was set in the calling environment; it is unset for the "
            "measured processes. "
            if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else ""
        ) + "Measured Python processes use a bytecode cache in $WORK/pycache (PYTHONPYCACHEPREFIX)."
        self.names = {
            str(Path(sys.executable).parent) + "/": ".venv/bin/",
            str(work): "$WORK",
            shutil.which("vipsthumbnail") or "vipsthumbnail": "vipsthumbnail",
            str(Path(__file__).resolve().parent.parent) + "/": "",  # the repository
        }
        self.out_count = 0
        self.waits: list[float] = []

    # ---- set-up (not timed) -------------------------------------------------------------

    def make_inputs(self, results: Results) -> tuple[list[Path], Path]:
        folder, big_folder = self.work / "photos", self.work / "big"
        folder.mkdir()
        big_folder.mkdir()
        inputs = [folder / f"photo-{i:02d}.jpg" for i in range(1, self.plan.photos + 1)]
        sizes = [photos.write_photo(p, PHOTO_SIZE, seed=i) for i, p in enumerate(inputs, 1)]
        big = big_folder / "photo-50mp.jpg"
        big_size = photos.write_photo(big, BIG_SIZE, seed=999)
        tags = self._exif([*inputs, big])
        missing = [
            Path(str(t["SourceFile"])).name
            for t in tags
            if "GPS:GPSLatitude" not in t or "IFD1:ThumbnailImage" not in t
        ]
        results.checks.append(
            Check(
                "every input has GPS and an IFD1 ThumbnailImage (exiftool)",
                not missing,
                f"missing in {', '.join(missing)}" if missing else f"{len(tags)} of {len(tags)}",
            )
        )
        if missing:
            raise SystemExit(f"generated inputs lack GPS or thumbnail: {missing}")
        mb = [s / 1e6 for s in sizes]
        results.inputs = (
            f"{len(inputs)} JPEGs {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, quality 92, 4:2:0, "
            f"{min(mb):.2f}-{max(mb):.2f} MB (mean {sum(mb) / len(mb):.2f} MB); "
            f"1 JPEG {BIG_SIZE[0]}x{BIG_SIZE[1]} ({BIG_SIZE[0] * BIG_SIZE[1] / 1e6:.0f} MP), "
            f"{big_size / 1e6:.1f} MB. Each has EXIF: camera fields, serial, owner, GPS "
            f"and a {photos.THUMB_SIZE[0]}x{photos.THUMB_SIZE[1]} IFD1 thumbnail."
        )
        return inputs, big

    def build_register(self, inputs: list[Path], big: Path, results: Results) -> None:
        notice = self.work / "notice.txt"
        notice.write_text("Photos of your child may be posted on our Facebook page.\n")
        steps = [
            ["init"],
            ["purpose", "add", PURPOSE, "--title", "Facebook", "--notice-file", str(notice)]
            + ["--max-px", str(MAX_PX)],
            ["person", "add", "--name", "Bench Child", "--born", "2021-03-14", "--ref", "K001"],
            ["person", "add", "--name", "Bench Guardian A", "--born", "1988-05-01"]
            + ["--kind", "adult", "--ref", "G001"],
            ["person", "add", "--name", "Bench Guardian B", "--born", "1989-07-02"]
            + ["--kind", "adult", "--ref", "G002"],
            ["guardian", "add", "ref:K001", "ref:G001"],
            ["guardian", "add", "ref:K001", "ref:G002"],
            ["consent", "grant", "ref:K001", "--purpose", PURPOSE, "--by", "ref:G001"],
            ["consent", "grant", "ref:K001", "--purpose", PURPOSE, "--by", "ref:G002"],
            ["photo", "add", *map(str, inputs), "--photographer", "Bench Photographer"]
            + ["--subject", "ref:K001", "--complete"],
            ["photo", "add", str(big), "--photographer", "Bench Photographer"]
            + ["--subject", "ref:K001", "--complete"],
        ]
        for step in steps:
            cmd = [self.consentreg, *step]
            checked(cmd, self.env)
            results.setup.append(shown(cmd, self.names, inputs))
        verdict = checked(
            [self.consentreg, "--json", "check", *map(str, inputs), str(big), "--purpose", PURPOSE],
            self.env,
        )
        allowed = [r["decision"] == "allowed" for r in json.loads(verdict)["results"]]
        if not all(allowed):
            raise SystemExit(
                f"register set-up is wrong: `check` does not allow every input\n{verdict}"
            )

    # ---- timed scenarios ------------------------------------------------------------------

    def batch(self, inputs: list[Path], results: Results) -> None:
        """(a) consentreg publish, (b) vipsthumbnail: alternating, first pair is a warm-up."""
        results.batch, results.batch_vips, released = self._paired(
            inputs, self.plan.jobs, self.plan.reps, "batch"
        )
        results.checks += self._release_checks(released, len(inputs), "batch publish")

    def single(self, photo: Path, results: Results) -> None:
        """One photo, --jobs 1 (rendered in the consentreg process itself)."""
        results.single, results.single_vips, released = self._paired(
            [photo], 1, self.plan.single_reps, "single"
        )
        results.checks += self._release_checks(released, 1, "single-photo publish")

    def _paired(
        self, inputs: list[Path], jobs: int, reps: int, label: str
    ) -> tuple[Series, Series, list[Path]]:
        cr, vips = Series(""), Series("")
        released: list[Path] = []
        for rep in range(-1, reps):  # rep -1: warm-up, not counted
            self._settle()
            for tool in ("consentreg", "vips") if rep % 2 == 0 else ("vips", "consentreg"):
                out = self._out_dir(f"{label}-{tool}")
                if tool == "consentreg":
                    cmd = self._publish_cmd(inputs, out, jobs)
                    measured, series = self.launcher.run(cmd, self.env), cr
                    released.append(out)
                else:
                    cmd = self._vips_cmd(inputs, out)
                    measured, series = self.launcher.run(cmd), vips
                series.command = shown(cmd, self.names, inputs).replace(
                    out.name, f"{label}-{tool}-N"
                )
                if rep >= 0:
                    series.runs.append(measured)
                _require(measured, cmd)
        return cr, vips, released

    def help(self, results: Results) -> None:
        cmd = [self.consentreg, "--help"]
        series = Series(shown(cmd, self.names))
        self._settle()
        for rep in range(-1, self.plan.help_reps):
            measured = self.launcher.run(cmd, self.env)
            _require(measured, cmd)
            if rep >= 0:
                series.runs.append(measured)
        results.help = series
        imports_of_help(results, self.names, self.launcher, self.env)

    def memory(self, big: Path, results: Results) -> None:
        series = Series("")
        released: list[Path] = []
        for _ in range(self.plan.memory_reps):
            out = self._out_dir("memory-consentreg")
            cmd = self._publish_cmd([big], out, 1)
            self._settle()
            series.command = shown(cmd, self.names).replace(out.name, "memory-consentreg-N")
            measured = self.launcher.run(cmd, self.env, poll=True)
            _require(measured, cmd)
            series.runs.append(measured)
            released.append(out)
        out = self._out_dir("memory-vips")
        cmd = self._vips_cmd([big], out)
        measured = self.launcher.run(cmd, poll=True)
        _require(measured, cmd)
        shown_cmd = shown(cmd, self.names).replace(out.name, "memory-vips")
        results.memory_vips = Series(shown_cmd, [measured])
        results.memory = series
        results.checks += self._release_checks(released, 1, "50 MP publish")

    def hotspots(self, inputs: list[Path], prof_dir: Path, results: Results) -> None:
        """Not timed: phases, a --jobs 2 timeline, imports by package, a cProfile file."""
        spots = Hotspots()
        for mode in ("phases", "timeline"):
            out = self._out_dir(mode)
            args = ["--purpose", PURPOSE, "--out", str(out), *map(str, inputs)]
            result, cmd = hotspots.phases(self.launcher, mode, args, self.env)
            if result["released"] != len(inputs):
                raise SystemExit(f"bench/phases.py {mode} released {result['released']} photos")
            setattr(spots, mode, result)
            spots.commands[mode] = shown(cmd, self.names, inputs).replace(out.name, mode)
        out = self._out_dir("imports")
        cmd = self._publish_cmd(inputs[2:3], out, 1)
        spots.imports_total_ms, spots.imports, cmd = hotspots.imports(self.launcher, cmd, self.env)
        spots.commands["imports"] = shown(cmd, self.names).replace(out.name, "imports")
        prof_dir.mkdir(parents=True, exist_ok=True)
        prof = prof_dir / "publish-jobs1.prof"
        out = self._out_dir("profile")
        cmd = hotspots.profile(self.launcher, self._publish_cmd(inputs, out, 1), self.env, prof)
        spots.prof_file = f"bench/out/{prof.name}"
        spots.commands["profile"] = (
            shown(cmd, self.names, inputs)
            .replace(out.name, "profile")
            .replace(str(prof), spots.prof_file)
        )
        results.hotspots = spots

    # ---- helpers ------------------------------------------------------------------------

    def _publish_cmd(self, inputs: list[Path], out: Path, jobs: int) -> list[str]:
        """Every timed run publishes the same photos anew: `--again`, or a photo already out
        there would be answered without any work. It skips one indexed look-up per photo (the
        earlier release), well under a millisecond against a render of about 100 ms."""
        files = [str(p) for p in inputs]
        return [self.consentreg, "publish", *files, "--purpose", PURPOSE, "--again"] + [
            "--out",
            str(out),
            "--jobs",
            str(jobs),
        ]

    def _vips_cmd(self, inputs: list[Path], out: Path) -> list[str]:
        out.mkdir(parents=True)
        return [self.vips, *map(str, inputs), "-s", str(MAX_PX), "-o", f"{out}/%s.jpg{VIPS_SAVE}"]

    def _settle(self) -> None:
        """Before timed runs: give other jobs on a shared machine a chance to finish."""
        if self.plan.quiet_wait_s > 0:
            self.waits.append(wait_for_quiet(self.plan.quiet_wait_s))

    def _out_dir(self, label: str) -> Path:
        self.out_count += 1
        return self.work / "out" / f"{label}-{self.out_count}"

    def _exif(self, files: list[Path]) -> list[dict[str, object]]:
        text = checked([self.exiftool, "-j", "-a", "-u", "-G1", "-n", "--", *map(str, files)])
        tags: list[dict[str, object]] = json.loads(text)
        return tags

    def _release_checks(self, dirs: list[Path], expected: int, what: str) -> list[Check]:
        wrong_count = [d.name for d in dirs if len(list(d.glob("*.jpg"))) != expected]
        leftovers = [p.name for d in dirs for p in d.iterdir() if p.name.startswith(".")]
        files = [p for d in dirs for p in sorted(d.glob("*.jpg"))]
        too_big = [p.name for p in files if max(_size(p)) > MAX_PX]
        leaks = sorted({k for t in self._exif(files) for k in t if _is_leak(k)})
        edges = sorted({max(_size(p)) for p in files})
        return [
            Check(
                f"{what}: {expected} release(s) per run, no temporary files left",
                not wrong_count and not leftovers,
                f"{len(dirs)} runs, {len(files)} files"
                + (f"; wrong count in {wrong_count}" if wrong_count else "")
                + (f"; left over: {leftovers}" if leftovers else ""),
            ),
            Check(
                f"{what}: long edge <= {MAX_PX} px",
                not too_big,
                f"long edges {edges}" + (f"; too big: {too_big}" if too_big else ""),
            ),
            Check(
                f"{what}: exiftool finds no GPS, thumbnail, EXIF, XMP or ICC",
                not leaks,
                f"{len(files)} files clean" if not leaks else f"found {leaks}",
            ),
        ]


def imports_of_help(
    results: Results, names: dict[str, str], launcher: Launcher, env: dict[str, str]
) -> None:
    """Neither SQLAlchemy nor Pillow may be imported to print `--help` (two independent ways)."""
    py = sys.executable
    probe = (
        "import sys; import consentreg_cli.main; "
        'print("sqlalchemy" in sys.modules, "PIL" in sys.modules)'
    )
    on_help = (
        'import sys; sys.argv = ["consentreg", "--help"]; '
        "from consentreg_cli.main import run; run()"
    )
    first = checked([py, "-c", probe], env)
    timed = launcher.run([py, "-X", "importtime", "-c", on_help], env)
    modules = _importtime(timed.stderr)
    heavy = sorted(
        {m.split(".")[0] for m in modules if m.split(".")[0] in ("sqlalchemy", "PIL", "alembic")}
    )
    ok = first == "False False" and not heavy and timed.returncode == 0
    results.import_check = Check(
        "`--help` imports neither SQLAlchemy nor Pillow",
        ok,
        f"after `import consentreg_cli.main`: sqlalchemy, PIL in sys.modules = {first}; "
        f"`-X importtime` of a full `--help` run: {len(modules)} modules, "
        + (f"heavy: {', '.join(heavy)}" if heavy else "no sqlalchemy/PIL/alembic"),
    )
    results.import_commands = [
        shown([py, "-c", probe], names),
        shown([py, "-X", "importtime", "-c", on_help], names),
    ]
    results.import_top = sorted(modules.items(), key=lambda kv: -kv[1])[:8]


def _importtime(stderr: str) -> dict[str, float]:
    """Top-level modules of `-X importtime` output and their cumulative time in ms; nested
    modules are included with a leading dot-free name too (for the heavy-module test)."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        module = name.strip()
        if name.startswith("  "):  # nested: count it as present, not as a top-level cost
            found.setdefault(module, 0.0)
        else:
            found[module] = int(cumulative) / 1000
    return found


def _require(measured: Run, cmd: list[str]) -> None:
    if measured.returncode != 0:
        raise SystemExit(
            f"timed command failed (exit {measured.returncode}): {' '.join(cmd)}\n"
            f"{measured.stderr[-2000:]}"
        )


def _is_leak(key: str) -> bool:
    group, _, tag = key.partition(":")
    if key == "SourceFile":
        return False
    return group not in _CLEAN_GROUPS or "gps" in tag.lower() or "thumbnail" in tag.lower()


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def _tool(preferred: Path | None, name: str) -> str:
    if preferred is not None and preferred.exists():
        return str(preferred)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: run `make system-deps`")
    return found
