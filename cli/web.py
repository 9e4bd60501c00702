"""serve: the staff web application (docs/web.md)."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from .runtime import settings


def install(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Worker processes (each 4 threads).")
    ] = 2,
) -> None:
    """Run the staff web application on this register with gunicorn, until stopped. The key
    stays on this server; staff log in with the password `consentreg user password` gave them.
    Cookies are Secure: put it behind a reverse proxy with TLS (docs/web.md).

    Example:

        consentreg serve --host 127.0.0.1 --port 8000
    """
    server = importlib.import_module("consentreg_web.server")
    server.serve(settings(), host=host, port=port, workers=workers)
