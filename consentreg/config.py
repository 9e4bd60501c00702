"""Where things live: home folder, database URL, key files (docs/cli.md, "Environment and global options")."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from consentreg.errors import ConfigError, ConsentRegError, ReadOnlyRegisterError, StorageError
from consentreg.i18n import msg


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    key_file: Path
    # a folder the database's owner cannot rewrite (another share): `audit checkpoint` leaves a
    # copy of each checkpoint there and `audit verify` checks the newest
    witness_dir: Path | None = None
    # the person keys file (`CONSENTREG_BACKUP_KEYS`): beside the backups, rewritten in place by
    # every backup and every erasure (docs/architecture.md, "Erasure")
    backup_keys: Path | None = None

    @property
    def backup_keys_file(self) -> Path:
        return self.backup_keys or self.home / "person-keys.crkeys"

    @property
    def signing_key_file(self) -> Path:
        return self.key_file.with_name("signing.key")

    @property
    def evidence_dir(self) -> Path:
        """Where releases before schema revision 0007 kept evidence files; `init` and
        `db upgrade` move them into the database (consentreg.services.evidence_files)."""
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
    witness = (
        Path(env["CONSENTREG_WITNESS_DIR"]).absolute()
        if env.get("CONSENTREG_WITNESS_DIR")
        else None
    )
    backup_keys = (
        Path(env["CONSENTREG_BACKUP_KEYS"]).absolute()
        if env.get("CONSENTREG_BACKUP_KEYS")
        else None
    )
    return Settings(
        home=home.absolute(),
        db_url=url,
        key_file=key_file.absolute(),
        witness_dir=witness,
        backup_keys=backup_keys,
    )


def file_error(exc: OSError, *, folder: Path, doing: str) -> ConsentRegError:
    """The consentreg error for a failed write of one of the register's own files: `doing` says
    what was being done ("create the key file"), `folder` where. The system's reason, never a
    file's content."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(
            msg(
                "cannot {doing}: the file system holding {folder} is full; nothing was written: free some space and try again",
                doing=doing,
                folder=folder,
            )
        )
    if exc.errno == errno.EROFS:
        return ReadOnlyRegisterError(
            msg(
                "cannot {doing}: {folder} is on a read-only file system; nothing was written",
                doing=doing,
                folder=folder,
            )
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ConfigError(
            msg(
                "cannot {doing}: this user may not write in {folder} ({reason})",
                doing=doing,
                folder=folder,
                reason=reason,
            )
        )
    return StorageError(
        msg(
            "cannot {doing} in {folder} ({reason}); nothing was written",
            doing=doing,
            folder=folder,
            reason=reason,
        )
    )


def ensure_home(settings: Settings) -> None:
    """Create the home folder (mode 0700) if it is missing."""
    try:
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise ConfigError(
            msg("CONSENTREG_HOME {settings_home} is not a folder", settings_home=settings.home)
        ) from None
    except OSError as exc:
        raise file_error(exc, folder=settings.home.parent, doing="create the home folder") from None
    if not settings.home.is_dir():
        raise ConfigError(
            msg("CONSENTREG_HOME {settings_home} is not a folder", settings_home=settings.home)
        )
