"""`consentreg serve`: the application under gunicorn, a production WSGI server. Each worker
process opens the register itself (its own engine and connections, its own copy of the keys);
the key and the server's secret stay on this server.

Options come from the command line (host, port, workers) and the environment:
CONSENTREG_WEB_INSECURE_COOKIES=1 drops the cookies' Secure flag (plain HTTP on localhost only),
CONSENTREG_WEB_TRUSTED_PROXIES=N trusts N reverse proxies' X-Forwarded-For/-Proto headers.
"""

from __future__ import annotations

import atexit
import os
from contextlib import ExitStack
from typing import Any

from flask import Flask

from consentreg.config import Settings
from consentreg.errors import InvalidInputError
from consentreg.services.unit_of_work import open_register

from . import secret
from .app import create_app
from .runtime import WebConfig


def web_config(settings: Settings, env: dict[str, str] | None = None) -> WebConfig:
    env = dict(os.environ) if env is None else env
    proxies = env.get("CONSENTREG_WEB_TRUSTED_PROXIES", "0")
    if not proxies.isdigit():
        raise InvalidInputError("CONSENTREG_WEB_TRUSTED_PROXIES must be a number of proxies")
    return WebConfig(
        secret=secret.load_or_create(secret.secret_file(settings)),
        secure_cookies=env.get("CONSENTREG_WEB_INSECURE_COOKIES") != "1",
        trusted_proxies=int(proxies),
    )


def application(settings: Settings, config: WebConfig) -> Flask:
    """The application on the register of `settings`, open until the process ends."""
    stack = ExitStack()
    register = stack.enter_context(open_register(settings))
    atexit.register(stack.close)
    return create_app(register, config)


def check(settings: Settings) -> WebConfig:
    """Open the register once (schema, key) and make the secret, so that a wrong setting fails
    before the server starts rather than in every worker."""
    config = web_config(settings)
    with open_register(settings):
        pass
    return config


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run the server until it is stopped (Ctrl-C, SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    from .access_log import MaskedLogger

    config = check(settings)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 120,
                "accesslog": "-",
                "logger_class": MaskedLogger,  # no guardian's link token in the log (#21)
                "forwarded_allow_ips": "127.0.0.1,::1" if config.trusted_proxies else "",
                "proc_name": "consentreg-web",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return application(settings, config)

    Server().run()
