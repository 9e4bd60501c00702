"""gunicorn's access log without the guardians' link tokens (issue #21): a path under /svar/
is logged as /svar/… in the request line, the path and the referrer, so the log never holds
a working link."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_TOKEN = re.compile(r"/svar/[^/\s?\"#]+")


def masked(value: Any) -> Any:
    return _TOKEN.sub("/svar/…", value) if isinstance(value, str) else value


class MaskedLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: masked(value) for key, value in found.items()}
