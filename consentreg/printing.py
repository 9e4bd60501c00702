"""An HTML page printed to PDF by the system's Chromium (headless): the access report's PDF form.
Chromium is a program of the machine, not a Python package; without it the PDF is refused with
what to do instead (print the HTML from a browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from consentreg.errors import ConfigError, StorageError
from consentreg.i18n import msg

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 90


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "a PDF needs Chromium on this machine (apt-get install chromium): or write --format html"
        " and print it from a browser"
    )


def html_to_pdf(html: str) -> bytes:
    """The page as PDF bytes (A4, Chromium's print of it)."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="consentreg-print-") as folder:
        page, pdf = Path(folder) / "page.html", Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        os.chmod(page, 0o600)
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses its sandbox as root
        try:
            # the command is ours: the browser found on PATH and files in our own folder
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StorageError(
                msg("Chromium could not print the page ({kind})", kind=type(exc).__name__)
            ) from None
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise StorageError("Chromium did not write the PDF: try --format html")
        return pdf.read_bytes()
