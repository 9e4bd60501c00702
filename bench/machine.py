"""What the numbers were measured on: CPU, cores, memory, OS, file system, tool versions."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import PIL
from PIL import features


def describe(work: Path, consentreg: str) -> dict[str, str]:
    jpeg = features.version("libjpeg_turbo")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpuinfo("model name") or platform.processor() or "unknown",
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "memory": _meminfo(),
        "OS": f"{_os_release()}, kernel {platform.release()}",
        "work folder file system": _filesystem(work),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Pillow": f"{PIL.__version__} (libjpeg-turbo {jpeg or 'not used'})",
        "consentreg": _version([consentreg, "--version"]),
        "vipsthumbnail": _version(["vipsthumbnail", "--version"]),
        "exiftool": _version(["exiftool", "-ver"]),
    }


def _cpuinfo(key: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return ""


def _meminfo() -> str:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]  # MemTotal: N kB
    except (OSError, IndexError):
        return "unknown"
    return f"{int(first.split()[1]) / 1024**2:.1f} GiB"


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _filesystem(path: Path) -> str:
    """The type of the mount holding `path` (fsync costs differ: tmpfs vs a disk)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        inside = len(parts) >= 3 and (resolved + "/").startswith(parts[1].rstrip("/") + "/")
        if inside and len(parts[1]) >= len(best):
            best, kind = parts[1], f"{parts[2]} ({parts[0]} on {parts[1]})"
    return kind


def _version(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
        return "not installed"
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "?"
