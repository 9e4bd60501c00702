"""`consentreg demo`: the whole story on samples/, as a new user would type it, on an embedded
SQLite register in a folder of its own. Each step prints the command, then its real output.

The sample files tell the story as of one autumn day; the demo imports copies moved to today
(`consentreg_samples.scenario.StoryDates`), so that it tells the same story on any date."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentreg.i18n import msg

from .output import clean


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _step(title: str) -> None:
    _say(f"\n== {title} ==")


def _consentreg(*args: object, quiet: bool = False) -> tuple[int, str]:
    """Run one command in-process through the real entry point; returns (exit code, output).
    stdout and stderr are interleaved in one buffer so the story reads in order."""
    from .main import run

    argv = [str(a) for a in args]
    if not quiet:
        _say("$ consentreg " + " ".join(shlex.quote(clean(a)) for a in argv))
    buffer = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            run(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    out = buffer.getvalue()
    if not quiet:
        sys.stdout.write(out)
        if code:
            _say(f"(exit code {code})")
    return code, out


def _json(*args: object) -> Any:
    from .main import run

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            run(["--json", *[str(a) for a in args]])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
    return json.loads(buffer.getvalue())


def _must(*args: object) -> str:
    code, out = _consentreg(*args)
    if code:
        raise SystemExit(code)
    return out.strip()


def _register_basics(samples: Any) -> None:
    _step("1. A register, units and purposes with their Norwegian notice texts")
    _must("init")
    for row in samples.read_csv(samples.UNITS_CSV):
        extra = ["--parent", row["parent"]] if row["parent"] else []
        _must("unit", "add", row["code"], "--name", row["name"], *extra)
    for row in samples.read_csv(samples.PURPOSES_CSV):
        options: list[object] = [
            "--title",
            row["title"],
            "--notice-file",
            samples.SAMPLES_DIR / row["notice_file"],
        ]
        for column, flag in (
            ("max_px", "--max-px"),
            ("guardians", "--guardians"),
            ("valid_until", "--valid-until"),
            ("valid_days", "--valid-days"),
        ):
            if row[column]:
                options += [flag, row[column]]
        _must("purpose", "add", row["code"], *options)
    _must("purpose", "list")


def _import_people(samples: Any, story: Any, folder: Path) -> None:
    _step("2. People, guardians and consents from CSV (names are stored encrypted)")
    start = samples.school_year_start(story.today).year
    _say(f"The sample files tell the story as of {samples.STORY_TODAY}; the demo tells it as of")
    _say(f"today, {story.today}: consents dated in the school year {start}/{start + 1}, everyone")
    _say(f"as old as in the story (the moved copies are in {folder}).")
    people, guardians, consents = story.write(folder)
    _must("import", "people", people)
    _must("import", "guardians", guardians)
    _must("import", "consents", consents)
    _must("person", "list", "--unit", samples.KINDERGARTEN)
    _must(
        "person", "restrict", f"ref:{samples.PROTECTED_REF}", "--reason", samples.PROTECTED_REASON
    )
    _must(
        "purpose", "revise", samples.REVISED_NOTICE[0], "--notice-file", samples.REVISED_NOTICE[1]
    )


def _register_photos(samples: Any, photo_dir: Path) -> None:
    make_photos = importlib.import_module("consentreg_samples.make_photos").make_photos
    _step("3. Photos with GPS, names in XMP/IPTC, thumbnails, under revealing file names")
    make_photos(photo_dir)
    for photo in samples.PHOTOS:
        args: list[object] = [
            "photo",
            "add",
            photo_dir / photo.file_name,
            "--photographer",
            photo.photographer,
        ]
        args += [a for ref in photo.identifiable for a in ("--subject", f"ref:{ref}")]
        args += ["--unit", photo.unit] if photo.unit else []
        # every tag first, then "complete": a tag change after it clears it (docs/rules.md)
        later = bool(photo.not_identifiable)
        args += ["--complete"] if photo.complete and not later else []
        photo_id = _must(*args)
        for ref in photo.not_identifiable:
            _must("photo", "tag", photo_id, "--subject", f"ref:{ref}", "--not-identifiable")
        if photo.complete and later:
            _must("photo", "complete", photo_id)


def _publish(samples: Any, story: Any, photo_dir: Path, ready: Path) -> None:
    _step("4. Publish everything for Facebook: releases and refusals, per person")
    _consentreg("publish", photo_dir, "--purpose", samples.PUBLISH_PURPOSE, "--out", ready)
    _say(f"\n$ ls {ready}")
    for path in sorted(ready.iterdir()):
        _say(f"{path.name}  {path.stat().st_size} bytes")
    _show_clean(photo_dir / samples.PHOTOS[0].file_name, sorted(ready.iterdir()))
    captioned = next(p for p in samples.PHOTOS if p.caption and "caption_full_name" in p.expected)
    _step("5. A caption may not link a child to their full name")
    _consentreg(
        "check",
        photo_dir / captioned.file_name,
        "--purpose",
        samples.PUBLISH_PURPOSE,
        "--caption",
        captioned.caption,
    )
    turning = next(p for p in samples.PHOTOS if samples.TURNS_15_REF in p.identifiable)
    _step(f"6. From the 15th birthday ({story.turns_15_on}) the pupil decides herself")
    _consentreg(
        "check",
        photo_dir / turning.file_name,
        "--purpose",
        samples.PUBLISH_PURPOSE,
        "--at",
        story.turns_15_on.isoformat(),
    )


def _show_clean(original: Path, releases: list[Path]) -> None:
    """What an independent reader (exiftool) sees in an original and in the releases."""
    import shutil
    import subprocess

    exiftool = shutil.which("exiftool")
    if exiftool is None or not releases:
        _say("(install exiftool to compare the metadata of originals and releases)")
        return
    revealing = re.compile(
        r"GPS|Artist|Owner|Serial|Person|Caption|Comment|Thumbnail|Region|Make\b"
    )
    for path in (original, releases[0]):
        command = [exiftool, "-a", "-G1", "-s", str(path)]  # a fixed program on our own files
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        tags = done.stdout.splitlines()
        hits = [t for t in tags if revealing.search(t)]
        _say(
            f"\n$ exiftool -a -G1 -s {path.name} | grep -E 'GPS|Artist|Person|...'   "
            f"# {len(tags)} tags in all"
        )
        for line in hits[:8] or ["(nothing)"]:
            _say(clean(" ".join(line.split())))
        if len(hits) > 8:
            _say(f"... and {len(hits) - 8} more")


def _withdraw(samples: Any) -> None:
    subject, purpose, consenter = samples.WITHDRAW
    _step("7. A guardian withdraws: the take-down list names every copy to remove")
    subject_id = _json("person", "show", f"ref:{subject}")["id"]
    consenter_id = _json("person", "show", f"ref:{consenter}")["id"]
    grants = [
        c
        for c in _json("consent", "list", "--subject", subject_id, "--purpose", purpose)["consents"]
        if c["kind"] == "grant" and c["consenter_id"] == consenter_id
    ]
    _consentreg("consent", "withdraw", grants[-1]["id"], "--reason", samples.WITHDRAW_REASON)
    _must("takedown", "list")


DEMO_LOGIN = "demo"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int, child: subprocess.Popen[bytes], wait: float) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and child.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.2)
    return False


def _serve(root: Path, seconds: int) -> None:
    """The staff web application on the demo register for `seconds` (or until Ctrl-C), on a
    free port of localhost, with a demo admin login whose password is printed."""
    _step(f"8. The staff web application, for {seconds} seconds (Ctrl-C stops it sooner)")
    password = f"demo-{secrets.token_urlsafe(9)}"
    secret_file = root / "demo-password.txt"
    secret_file.touch(mode=0o600)
    secret_file.write_text(password + "\n", encoding="utf-8")
    _must("user", "add", DEMO_LOGIN, "--role", "admin")
    _must("user", "password", DEMO_LOGIN, "--password-file", secret_file)
    port = _free_port()
    env = {**os.environ, "CONSENTREG_WEB_INSECURE_COOKIES": "1"}  # plain HTTP on localhost
    command = [sys.executable, "-m", "consentreg_cli", "serve", "--port", str(port)]
    child = subprocess.Popen([*command, "--workers", "1"], env=env)  # noqa: S603 - our own program
    try:
        if not _listening(port, child, 30):
            _say("The web application did not start; the demo register is still there.")
            return
        _say(f"Open http://127.0.0.1:{port}/ and log in as {DEMO_LOGIN} with {password}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=seconds)
    except KeyboardInterrupt:
        _say("")
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    _say("The web application has stopped.")


def run_demo(directory: Path | None, *, serve_seconds: int = 0) -> None:
    """Run the story in `directory` (a new temporary folder by default), as of today; then,
    with `serve_seconds`, the staff web application on it for that long."""
    from consentreg.domain.calendar import oslo_day

    samples = importlib.import_module("consentreg_samples.scenario")
    story = samples.StoryDates(oslo_day(datetime.now(UTC)))
    root = (directory or Path(tempfile.mkdtemp(prefix="consentreg-demo-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        from consentreg.errors import InvalidInputError

        raise InvalidInputError(msg("--dir {root} is not empty; give a new folder", root=root))
    os.environ["CONSENTREG_HOME"] = str(root / "home")
    os.environ.pop("CONSENTREG_DB", None)
    os.environ.pop("CONSENTREG_KEY_FILE", None)
    _say(f"consentreg demo in {root} (CONSENTREG_HOME={root / 'home'})")
    _register_basics(samples)
    _import_people(samples, story, root / "samples")
    _register_photos(samples, root / "photos")
    _publish(samples, story, root / "photos", root / "ready")
    _withdraw(samples)
    if serve_seconds > 0:
        _serve(root, serve_seconds)
    _say(f"\nDone. Try: CONSENTREG_HOME={root / 'home'} consentreg takedown list")
