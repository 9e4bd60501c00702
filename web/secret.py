"""The server's secret, which signs session cookies: a file of 32 random bytes beside the key
file (`web.secret`, mode 0600), made on the first `consentreg serve`. Several instances behind one
load balancer share it as they share the key file; replacing it ends every session."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from consentreg.config import Settings, file_error
from consentreg.errors import ConfigError

SECRET_BYTES = 32


def secret_file(settings: Settings) -> Path:
    return settings.key_file.with_name("web.secret")


def load_or_create(path: Path) -> bytes:
    """The secret in `path`, made (mode 0600, never over an existing file) when it is missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise file_error(exc, folder=path.parent, doing="create the web secret") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))
        fh.flush()
        os.fsync(fh.fileno())
    return _read(path)


def _read(path: Path) -> bytes:
    info = path.stat()
    if info.st_mode & 0o077:
        raise ConfigError(f"{path} can be read by others: chmod 600 {path}")
    data = path.read_bytes()
    if len(data) != SECRET_BYTES:
        raise ConfigError(f"{path} is not a web secret of {SECRET_BYTES} bytes")
    return data
