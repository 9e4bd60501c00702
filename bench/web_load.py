"""Web benchmark (issue #20, item 6): the staff web application under gunicorn on localhost
(`consentreg serve`, as an operator starts it) against a municipality-sized register on SQLite.

    .venv/bin/python bench/web_load.py [--people 100000] [--sessions 50] [--rounds 10]
    make bench-web

1. Pages one at a time: the 95th percentile of each page type's answer time, seen by one
   browser-like client (httpx) logged in with the role the page is for. Targets: 300 ms per
   page, 500 ms for a unit's overview.
2. A bounded load: `--sessions` staff sessions at once (threads, one httpx client each), each
   logged in as the registrar of a unit, doing `--rounds` rounds of: a person's page, the consent
   form, posting a consent through the form (each session its own people), the person's page
   again; and one unit overview each. Checked afterwards: no answer other than the expected
   one, and no lost write: the register holds exactly one consent event more per accepted post,
   and `audit verify` still passes.

The register (children, adults, guardianships and one consent per guardian and purpose, as
bench/scale.py builds it through the CSV imports, plus staff logins with passwords) takes minutes
to build on two cores, so it is built once into `--cache` and copied for each run; the report
says when the copy was built. Writes bench/results/web.md (merged into BENCHMARKS.md by
bench/run.py) and prints it. Not a test: nothing here fails the build.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/web_load.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.scale import PURPOSES, UNITS, Register, write_csvs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "benk-passord-lang-nok"  # noqa: S105 - a throwaway register's
UNIT = "u3"  # the unit the single-client pages look at
PAGE_TARGET_S = 0.300
OVERVIEW_TARGET_S = 0.500
SAMPLES = 20  # per page type, fewer when a page is slow (SAMPLE_BUDGET_S)
SAMPLE_BUDGET_S = 60.0
READY = "READY"


# --- the register, built once ------------------------------------------------------------------


def build(home: Path, people: int) -> None:
    """A register as bench/scale.py builds it (its CSVs and imports), with staff logins."""
    with tempfile.TemporaryDirectory(prefix="web-load-csv-") as tmp:
        csvs = Path(tmp)
        write_csvs(csvs, people)
        notice = csvs / "notice.txt"
        notice.write_text("Vi publiserer bilder på denne kanalen.\n", encoding="utf-8")
        reg = Register(home, None, csvs / "pycache")
        reg.run("init")
        for u in range(UNITS):
            reg.run("unit", "add", f"u{u}", "--name", f"Enhet {u}")
        for purpose in PURPOSES:
            reg.run("purpose", "add", purpose, "--title", purpose, "--notice-file", notice)
        for kind in ("people", "guardians", "consents"):
            started = time.perf_counter()
            reg.run("import", kind, csvs / f"{kind}.csv")
            print(f"  import {kind}: {time.perf_counter() - started:.0f} s", flush=True)
        secret = csvs / "password.txt"
        secret.write_text(PASSWORD + "\n", encoding="utf-8")
        logins: dict[str, tuple[str, ...]] = {"bench-admin": ("admin",), "bench-aud": ("auditor",)}
        logins |= {f"reg{u}": ("registrar", "--unit", f"u{u}") for u in range(UNITS)}
        for login, role in logins.items():
            reg.run("user", "add", login, "--role", *role)
            reg.run("user", "password", login, "--password-file", secret)


def cached_register(cache: Path, people: int) -> Path:
    """The cached register's home, built first when missing."""
    home = cache / f"web-{people}" / "home"
    if not (home.parent / READY).exists():
        shutil.rmtree(home.parent, ignore_errors=True)
        home.mkdir(parents=True)
        print(f"building a {people:,}-person register in {home} (once)", flush=True)
        started = time.perf_counter()
        build(home, people)
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.perf_counter() - started:.0f} s"
        (home.parent / READY).write_text(stamp + "\n", encoding="utf-8")
    return home


def database(home: Path) -> Path:
    return home / "consentreg.db"


def count(home: Path, sql: str, *args: object) -> int:
    with sqlite3.connect(f"file:{database(home)}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def children_of(home: Path, unit: str) -> list[str]:
    sql = (
        "SELECT p.id FROM people p JOIN units u ON u.id = p.unit_id"
        " WHERE u.code = ? AND p.kind = 'child' ORDER BY p.id"
    )
    with sqlite3.connect(f"file:{database(home)}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute(sql, (unit,))]


def a_grant_of(home: Path, person: str) -> str:
    sql = "SELECT id FROM consent_events WHERE subject_id = ? AND kind = 'grant' LIMIT 1"
    with sqlite3.connect(f"file:{database(home)}?mode=ro", uri=True) as conn:
        return str(conn.execute(sql, (person,)).fetchone()[0])


# --- the server ---------------------------------------------------------------------------------


class Server:
    """`consentreg serve` on a free port of localhost, plain HTTP (insecure cookies)."""

    def __init__(self, home: Path, workers: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "CONSENTREG_DB"}
        env |= {"CONSENTREG_HOME": str(home), "CONSENTREG_WEB_INSECURE_COOKIES": "1"}
        command = [BIN / "consentreg", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [*map(str, command), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise SystemExit("the server did not answer within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- a browser-like client ----------------------------------------------------------------------

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action`."""
    found = re.search(
        r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S
    )
    if not found:
        raise SystemExit(f"no form posting to {action}")
    return dict(_HIDDEN.findall(found.group(1)))


def session(base: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=300, follow_redirects=False)
    form = hidden(client.get("/login").text, "/login")
    answer = client.post("/login", data={**form, "login": login, "password": PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"{login} could not log in: {answer.status_code}")
    return client


def timed(call: Callable[[], httpx.Response], expect: int = 200) -> tuple[float, int]:
    started = time.perf_counter()
    answer = call()
    seconds = time.perf_counter() - started
    if answer.status_code != expect:
        raise SystemExit(f"{answer.request.url.path}: {answer.status_code} (expected {expect})")
    return seconds, len(answer.content)


# --- 1. pages one at a time ---------------------------------------------------------------------


@dataclass
class PageRow:
    page: str
    who: str
    target_s: float | None
    seconds: list[float]
    size: int
    failed: str | None = None  # why the page stopped answering

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, round(0.95 * len(ordered) + 0.5) - 1)]

    def line(self) -> str:
        median = statistics.median(self.seconds)
        if self.target_s is None:
            target, verdict = "", "—"
        else:
            target = f"≤ {self.target_s * 1000:.0f} ms"
            verdict = "met" if self.p95 <= self.target_s else "**MISSED**"
        if self.failed:
            verdict += f" (then failed: {self.failed})"
        return (
            f"| {self.page} | {self.who} | {len(self.seconds)} | {median * 1000:.0f} ms "
            f"| {self.p95 * 1000:.0f} ms | {target} | {verdict} | {self.size // 1024} KiB |"
        )


def pages_one_at_a_time(base: str, home: Path) -> list[PageRow]:
    children = children_of(home, UNIT)
    registrar, admin, auditor = (
        session(base, login) for login in ("reg3", "bench-admin", "bench-aud")
    )
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    kinds: list[tuple[str, str, httpx.Client, float | None, Callable[[str], str]]] = [
        ("login page", "anyone", httpx.Client(base_url=base), PAGE_TARGET_S, lambda _: "/login"),
        ("start page", "registrar", registrar, PAGE_TARGET_S, lambda _: "/"),
        (
            f"unit overview ({len(children):,} children)",
            "registrar",
            registrar,
            OVERVIEW_TARGET_S,
            lambda _: f"/units/{UNIT}",
        ),
        ("person", "registrar", registrar, PAGE_TARGET_S, lambda c: f"/people/{c}"),
        (
            "consent form",
            "registrar",
            registrar,
            PAGE_TARGET_S,
            lambda c: f"/people/{c}/consents/new",
        ),
        ("correct form", "registrar", registrar, PAGE_TARGET_S, lambda c: f"/people/{c}/edit"),
        (
            "withdraw form",
            "registrar",
            registrar,
            PAGE_TARGET_S,
            lambda c: f"/consents/{a_grant_of(home, c)}/withdraw",
        ),
        ("take-down list", "admin", admin, PAGE_TARGET_S, lambda _: "/takedown"),
        ("users", "admin", admin, PAGE_TARGET_S, lambda _: "/users"),
        ("person history", "auditor", auditor, PAGE_TARGET_S, lambda c: f"/people/{c}/history"),
        ("audit start", "auditor", auditor, PAGE_TARGET_S, lambda _: "/audit"),
        (
            "audit consents, one unit, all purposes",
            "auditor",
            auditor,
            PAGE_TARGET_S,
            lambda _: f"/audit/consents?unit={UNIT}&date={today}&time=23:59",
        ),
        ("audit publications", "auditor", auditor, PAGE_TARGET_S, lambda _: "/audit/publications"),
        ("audit verify (the form)", "auditor", auditor, PAGE_TARGET_S, lambda _: "/audit/verify"),
        (
            "access report (HTML)",
            "auditor",
            auditor,
            PAGE_TARGET_S,
            lambda c: f"/people/{c}/access-report",
        ),
    ]
    rows = []
    for index, (name, who, client, target, path) in enumerate(kinds):
        seconds: list[float] = []
        size, spent = 0, 0.0
        client.get(path(children[index]))  # warm: the worker's first use of a template
        failed = None
        while len(seconds) < SAMPLES and (spent < SAMPLE_BUDGET_S or len(seconds) < 3):
            child = children[(index * SAMPLES + len(seconds) + 1) % len(children)]
            try:
                took, size = timed(partial(client.get, path(child)))
            except (httpx.HTTPError, SystemExit) as exc:  # a worker killed at its timeout
                failed = f"{type(exc).__name__}: {exc}"[:120]
                break
            seconds.append(took)
            spent += took
        rows.append(PageRow(name, who, target, seconds or [float("inf")], size, failed))
        print(rows[-1].line(), flush=True)
    form = hidden(auditor.get("/audit/verify").text, "/audit/verify")
    took, size = timed(lambda: auditor.post("/audit/verify", data=form))
    rows.append(PageRow("audit verify (posted: the whole check)", "auditor", None, [took], size))
    print(rows[-1].line(), flush=True)
    return rows


# --- 2. the bounded load ------------------------------------------------------------------------


@dataclass
class Load:
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    accepted: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, answer: httpx.Response, took: float, expect: int) -> bool:
        with self.lock:
            self.statuses[f"{kind} {answer.status_code}"] += 1
            self.seconds.setdefault(kind, []).append(took)
            if answer.status_code != expect:
                self.errors.append(f"{kind}: {answer.status_code}")
                return False
            return True


def _staff(base: str, number: int, rounds: int, people: list[str], load: Load) -> None:
    unit = number % UNITS
    client = session(base, f"reg{unit}")

    def get(kind: str, path: str) -> httpx.Response:
        started = time.perf_counter()
        answer = client.get(path)
        load.note(kind, answer, time.perf_counter() - started, 200)
        return answer

    get("unit overview", f"/units/u{unit}")
    for r in range(rounds):
        person = people[r]
        get("person", f"/people/{person}")
        form_page = get("consent form", f"/people/{person}/consents/new").text
        action = f"/people/{person}/consents"
        consenters = re.findall(r'name="by" value="([0-9a-f]{32})"', form_page)
        fields = {
            **hidden(form_page, action),
            "purpose": PURPOSES[r % len(PURPOSES)],
            "by": consenters[1],  # the first guardian (the child itself comes first)
            "decision": "grant",
            "method": "paper",
            "given": datetime.now(UTC).strftime("%Y-%m-%d"),
        }
        started = time.perf_counter()
        answer = client.post(action, data=fields)
        if load.note("consent posted", answer, time.perf_counter() - started, 302):
            with load.lock:
                load.accepted += 1
        get("person after", f"/people/{person}")
    client.close()


def bounded_load(base: str, home: Path, sessions: int, rounds: int) -> tuple[Load, float]:
    """Each session its own people: the registrar of unit u(n mod 20), its children from
    the unit's list, none shared with another session (two would refuse each other's stale
    forms, 409, which is right but not what is measured here)."""
    by_unit = {u: children_of(home, f"u{u}") for u in range(UNITS)}
    load = Load()
    threads = []
    for n in range(sessions):
        mine = by_unit[n % UNITS][(n // UNITS) * rounds : (n // UNITS + 1) * rounds]
        threads.append(threading.Thread(target=_staff, args=(base, n, rounds, mine, load)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return load, time.perf_counter() - started


# --- the report ---------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered) + 0.5) - 1)]


def report(
    args: argparse.Namespace,
    built: str,
    pages: list[PageRow],
    load: Load,
    wall: float,
    events: tuple[int, int],
    verify: tuple[float, bool],
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    before, after = events
    lost = before + load.accepted - after
    lines = [
        "## Web application under load (issue #20, item 6)",
        "",
        f"Measured {when} by `bench/web_load.py --people {args.people} --sessions {args.sessions}"
        f" --rounds {args.rounds}` on this machine ({os.cpu_count()} cores, shared with other "
        "work): `consentreg serve` (gunicorn, gthread, "
        f"{args.workers} workers × 4 threads) on localhost over plain HTTP, on SQLite. The register:"
        f" {args.people:,} people (half children in {UNITS} units, half adults), 4 guardians per"
        " child, one consent per guardian and purpose (5 purposes), built through the CSV imports"
        f" as bench/scale.py builds it, once, {built}, and copied for this run.",
        "",
        "### 1. Pages one at a time",
        "",
        f"One client, one request at a time, up to {SAMPLES} requests per page type (fewer when a"
        f" page takes long: at most about {SAMPLE_BUDGET_S:.0f} s of requests, at least 3), a"
        " different person each time; after one warm-up request. Time from sending the request"
        " to the last byte of the answer.",
        "",
        "| page | as | requests | median | p95 | target | verdict | size |",
        "|---|---|---|---|---|---|---|---|",
        *(row.line() for row in pages),
        "",
        f"### 2. {args.sessions} staff sessions at once",
        "",
        f"{args.sessions} threads, each its own session (a registrar of unit u(n mod {UNITS})),"
        f" each doing one unit overview, then {args.rounds} rounds of: a person's page, the"
        " consent form, posting one consent (a grant by a guardian) through it, the person's page"
        f" again; each session its own people. Wall time {wall:.1f} s.",
        "",
        "| request | count | median | p95 | max |",
        "|---|---|---|---|---|",
    ]
    for kind, values in load.seconds.items():
        lines.append(
            f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} ms "
            f"| {_percentile(values, 0.95) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"
        )
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(load.statuses.items()))
    verify_s, verify_ok = verify
    lines += [
        "",
        f"Answers: {answers}. Unexpected answers: {len(load.errors)}"
        + (f" ({', '.join(sorted(set(load.errors)))})" if load.errors else "")
        + ".",
        f"Consent events: {before:,} before, {after:,} after, {load.accepted} posts accepted:"
        + (" no write lost." if lost == 0 else f" **{lost} writes lost**."),
        f"`consentreg audit verify` afterwards: {'passes' if verify_ok else '**FAILS**'}"
        f" ({verify_s:.1f} s).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "consentreg-bench"
    parser.add_argument("--cache", type=Path, default=cache)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web.md")
    args = parser.parse_args(argv)
    cached = cached_register(args.cache, args.people)
    built = (cached.parent / READY).read_text(encoding="utf-8").strip()
    with tempfile.TemporaryDirectory(prefix="web-load-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(cached, home)
        # a cache built by an older version: brought to this version's schema first
        Register(home, None, Path(tmp) / "pycache").run("db", "upgrade")
        server = Server(home, args.workers)
        try:
            pages = pages_one_at_a_time(server.base, home)
            before = count(home, "SELECT count(*) FROM consent_events")
            load, wall = bounded_load(server.base, home, args.sessions, args.rounds)
            after = count(home, "SELECT count(*) FROM consent_events")
        finally:
            server.stop()
        reg = Register(home, None, Path(tmp) / "pycache")
        verify_s, said = reg.run("audit", "verify", check=False)
        verify_ok = "chain intact" in said
    text = report(args, built, pages, load, wall, (before, after), (verify_s, verify_ok))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
