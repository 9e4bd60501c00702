"""Where things live: home folder, database URL, key files (CONTRACT.md, environment table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    key_file: Path

    @property
    def signing_key_file(self) -> Path:
        return self.key_file.with_name("signing.key")

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a file-based SQLite URL, else None."""
        prefix = "sqlite:///"
        path = self.db_url[len(prefix) :] if self.db_url.startswith(prefix) else ""
        return Path(path) if path and path != ":memory:" else None


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("consentreg", appauthor=False))


def load_settings(*, db_url: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from flags first, then the environment, then the defaults."""
    env = os.environ if env is None else env
    home = Path(env["CONSENTREG_HOME"]) if env.get("CONSENTREG_HOME") else default_home()
    url = db_url or env.get("CONSENTREG_DB") or f"sqlite:///{home / 'consentreg.db'}"
    key_file = (
        Path(env["CONSENTREG_KEY_FILE"]) if env.get("CONSENTREG_KEY_FILE") else home / "master.key"
    )
    return Settings(home=home.absolute(), db_url=url, key_file=key_file.absolute())
