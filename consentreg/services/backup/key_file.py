"""The person keys file (docs/architecture.md, "Erasure"; docs/shared-server.md, "Backup and
restore"): the wrapped data key of everyone not erased, sealed under a key derived from the
master key, in ONE file beside the backups (`CONSENTREG_BACKUP_KEYS`).

A data backup holds no person key (`person_keys.wrapped_key` is left out), so erasing a person
makes them unreadable in every backup taken before as soon as the key file is rewritten without
their key: every `backup` and every `person erase` rewrites it in place (a new file renamed over
the old one, never kept in generations). A restore takes a data backup and the key file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from pathlib import Path

from sqlalchemy import select

from consentreg.config import file_error
from consentreg.crypto import Keyring, open_person_keys, seal_person_keys
from consentreg.db.models import PersonKey, RegisterIdentity
from consentreg.errors import ConfigError, InvalidInputError
from consentreg.files import sync_folder
from consentreg.services.unit_of_work import Context

FORMAT = 1


def _register_id(ctx: Context) -> str:
    return str(ctx.session.scalar(select(RegisterIdentity.id)) or "")


def live_keys(ctx: Context) -> dict[str, bytes]:
    """The wrapped data key of everyone not erased, by person ID."""
    rows = ctx.session.execute(
        select(PersonKey.person_id, PersonKey.wrapped_key)
        .where(PersonKey.wrapped_key.is_not(None))
        .order_by(PersonKey.person_id)
    )
    return {pid: bytes(key) for pid, key in rows if key is not None}


def write_key_file(ctx: Context, path: Path) -> int:
    """Write the key file at `path` from the register as this transaction sees it, in place of
    the one there (mode 0600, synced, renamed over it); returns the number of keys."""
    keys = live_keys(ctx)
    content = json.dumps(
        {
            "format": FORMAT,
            "written_at": ctx.now.isoformat(),
            "keys": {pid: base64.b64encode(k).decode() for pid, k in keys.items()},
        },
        sort_keys=True,
    ).encode()
    _replace(path, seal_person_keys(ctx.keys, content, register_id=_register_id(ctx)))
    return len(keys)


def _replace(path: Path, data: bytes) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"the folder of the person keys file {path} does not exist")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ConfigError(f"the person keys file {path} is not a regular file")
    tmp = folder / f".{path.name}.{os.getpid()}-{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise file_error(exc, folder=folder, doing=f"write the person keys file {path}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    sync_folder(folder)


def read_key_file(keys: Keyring, path: Path) -> dict[str, bytes]:
    """The wrapped keys a key file holds, by person ID (errors: see `open_person_keys`)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"the person keys file {path} does not exist: a restore needs the key file from"
            " beside the backups (give it with --keys)"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the person keys file {path} ({exc.strerror or type(exc).__name__})"
        ) from None
    _register, content = open_person_keys(keys, data)
    try:
        found = json.loads(content)["keys"]
        return {str(pid): base64.b64decode(k) for pid, k in found.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInputError(f"the person keys file {path} is damaged") from None
