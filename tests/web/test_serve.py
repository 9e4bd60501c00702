"""`consentreg serve` as an operator runs it: gunicorn on a port of localhost, the register's key
and the cookie secret (made on first start, mode 0600) on the server, a login that works."""

from __future__ import annotations

import getpass
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.cli.conftest import in_process

PASSWORD = "et-langt-passord-for-serve"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - localhost
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("serve did not answer within 20 s")


def test_serve_runs_the_application_under_gunicorn_on_the_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CONSENTREG_HOME", str(home))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    monkeypatch.delenv("CONSENTREG_KEY_FILE", raising=False)
    cli = in_process(capsys)
    assert cli("init").exit_code == 0
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    login = getpass.getuser()  # init made the OS login the first admin
    assert cli("user", "password", login, "--password-file", secret).exit_code == 0
    port = _free_port()
    env = {**os.environ, "CONSENTREG_WEB_INSECURE_COOKIES": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "consentreg_cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/login", proc)
        assert (home / "web.secret").stat().st_mode & 0o777 == 0o600
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(base + "/login") as page:
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert token
        form = {"login": login, "password": PASSWORD, "csrf_token": token.group(1)}
        data = urllib.parse.urlencode(form).encode()
        with opener.open(base + "/login", data=data) as start:
            assert start.url == base + "/"
            assert "Dine enheter" in start.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
