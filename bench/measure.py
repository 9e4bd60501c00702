"""Timing one command as a whole process tree: wall time until the command exits, CPU time
(user + system) of every process of it, and peak RSS, from the kernel's rusage.

Commands run from a small launcher process (`python bench/measure.py --serve`) started before
the harness builds its 50-megapixel inputs: a child started with vfork (as `subprocess` does)
inherits its parent's peak RSS as the floor of its own `ru_maxrss`. The launcher is a child
subreaper (Linux), so processes that outlive the command (multiprocessing's forkserver and its
workers) are re-parented to it and reaped after the command: their CPU time counts too."""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

_PR_SET_CHILD_SUBREAPER = 36
_ORPHAN_WAIT_S = 10.0
_POLL_S = 0.002
_SAFE = re.compile(r"[\w/.,:=+*-]*")  # needs no quotes (a `*` is meant as a glob)
_DOUBLE_QUOTE_UNSAFE = re.compile(r'["\\`$]')


@dataclass(frozen=True)
class Plan:
    photos: int
    reps: int
    single_reps: int
    help_reps: int
    memory_reps: int
    jobs: int
    quick: bool
    quiet_wait_s: float = 30.0  # before timed runs, wait up to this long for a quiet machine


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # user + system of the command and every descendant
    rss_kib: int  # peak RSS of the command's own process (ru_maxrss)
    returncode: int
    stdout: str
    stderr: str
    background_cpu_s: float  # CPU time used by other processes on the machine meanwhile
    polled_hwm_kib: int = 0  # VmHWM of the command's process read from /proc (if polled)


@dataclass
class Series:
    """Repeated runs of one command (warm-up runs are not kept)."""

    command: str  # as shown in the report
    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    @property
    def median_s(self) -> float:
        return statistics.median(self.walls)

    @property
    def min_s(self) -> float:
        return min(self.walls)

    @property
    def max_s(self) -> float:
        return max(self.walls)

    @property
    def cpu_median_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def rss_mib(self) -> float:
        """Median over the runs of the command process's peak RSS."""
        return statistics.median(r.rss_kib for r in self.runs) / 1024

    @property
    def max_rss_mib(self) -> float:
        return max(r.rss_kib for r in self.runs) / 1024

    @property
    def background_cpu_s(self) -> float:
        return statistics.median(r.background_cpu_s for r in self.runs)

    @property
    def failures(self) -> list[Run]:
        return [r for r in self.runs if r.returncode != 0]


@dataclass(frozen=True)
class Check:
    """A pass/fail fact about the outputs or the set-up, with what was found."""

    name: str
    ok: bool
    detail: str


class Launcher:
    """The measuring process (see the module doc); use as a context manager."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = self._receive()
        self.subreaper: bool = hello["subreaper"]
        self.floor_kib: int = hello["rss_kib"]

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait()

    def run(self, cmd: list[str], env: dict[str, str] | None = None, *, poll: bool = False) -> Run:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"cmd": cmd, "env": env, "poll": poll}) + "\n")
        self._proc.stdin.flush()
        return Run(**self._receive())

    def _receive(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise SystemExit("the measuring process bench/measure.py --serve died")
        answer: dict[str, Any] = json.loads(line)
        return answer


def serve(requests: IO[str], answers: IO[str]) -> None:
    """The launcher's loop: one JSON request per line in, one JSON Run per line out."""
    subreaper = _become_subreaper()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answers.write(json.dumps({"subreaper": subreaper, "rss_kib": own}) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        measured = measure(request["cmd"], request["env"], poll=request["poll"])
        answers.write(json.dumps(asdict(measured)) + "\n")
        answers.flush()


def measure(cmd: list[str], env: dict[str, str] | None, *, poll: bool = False) -> Run:
    """Run `cmd` to completion from this process; measure it and what it leaves behind."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy_before = machine_busy_s()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        status, usage, hwm = _wait(proc.pid, poll)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        for orphan in _reap_orphans():  # their ru_maxrss is not kept: it starts from ours
            cpu += orphan.ru_utime + orphan.ru_stime
        background = max(0.0, machine_busy_s() - busy_before - cpu)
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            cpu_s=cpu,
            rss_kib=usage.ru_maxrss,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            background_cpu_s=background,
            polled_hwm_kib=hwm,
        )


def _wait(pid: int, poll: bool) -> tuple[int, resource.struct_rusage, int]:
    """wait4 for `pid`; with `poll`, read its VmHWM from /proc every 2 ms meanwhile."""
    if not poll:
        _, status, usage = os.wait4(pid, 0)
        return status, usage, 0
    hwm = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, hwm
        hwm = max(hwm, _vm_hwm_kib(pid))
        time.sleep(_POLL_S)


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def wait_for_quiet(limit_s: float, *, quiet: float = 0.15, sample_s: float = 0.5) -> float:
    """Wait (at most `limit_s`) until other processes use under `quiet` CPU seconds per second;
    return how long that took, or -1 when the machine stayed busy."""
    start = time.monotonic()
    while True:
        before = machine_busy_s()
        time.sleep(sample_s)
        if (machine_busy_s() - before) / sample_s < quiet:
            return time.monotonic() - start
        if time.monotonic() - start > limit_s:
            return -1.0


def machine_busy_s() -> float:
    """CPU seconds all processes have used since boot (/proc/stat; 0 where unavailable)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = sum(fields[i] for i in (0, 1, 2, 5, 6) if i < len(fields))  # not idle, wait, steal
    return busy / os.sysconf("SC_CLK_TCK")


def _become_subreaper() -> bool:
    """Make orphaned descendants our children, so that their rusage can be collected."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans() -> list[resource.struct_rusage]:
    """Wait for re-parented descendants until none is left (bounded; see module doc)."""
    usages: list[resource.struct_rusage] = []
    deadline = time.monotonic() + _ORPHAN_WAIT_S
    while True:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return usages
        if pid:
            usages.append(usage)
        elif time.monotonic() > deadline:
            return usages
        else:
            time.sleep(0.005)


def checked(cmd: list[str], env: dict[str, str] | None = None) -> str:
    """Run a set-up command; fail the benchmark with its stderr when it fails."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(
            f"set-up command failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stderr}"
        )
    return proc.stdout.strip()


def shown(cmd: list[str], names: dict[str, str], files: list[Path] | None = None) -> str:
    """A command as it can be typed in the report: long paths replaced by short names (such as
    `$WORK`), and `files`, when they are a whole folder, by that folder's glob."""
    args = list(cmd)
    if files and len(files) > 1 and str(files[0]) in args:
        start = args.index(str(files[0]))
        args[start : start + len(files)] = [f"{files[0].parent}/*{files[0].suffix}"]
    words = []
    for arg in args:
        for long, short in names.items():
            arg = arg.replace(long, short)
        bare = arg.replace("$WORK", "")
        if arg and _SAFE.fullmatch(bare):
            words.append(arg)
        elif "$WORK" in arg and not _DOUBLE_QUOTE_UNSAFE.search(bare):
            words.append(f'"{arg}"')
        else:
            words.append(shlex.quote(arg))
    return " ".join(words)


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    serve(sys.stdin, sys.stdout)
