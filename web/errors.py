"""The one place where errors become HTTP statuses and an error page (STYLE.md: errors are
translated in exactly one place per entry point). The library's messages carry IDs and field
names, never personal data, so they are shown as they are, in the page's language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from consentreg.errors import (
    ConsentRegError,
    DatabaseBusyError,
    ImageError,
    InvalidInputError,
    NotFoundError,
    NotPermittedError,
    StaleFormError,
)
from consentreg.i18n import localize_in

from .i18n import gettext as _
from .i18n import language

LOG = logging.getLogger("consentreg.web")

STATUS: list[tuple[type[ConsentRegError], int]] = [
    (StaleFormError, 409),
    (NotPermittedError, 403),
    (NotFoundError, 404),
    (InvalidInputError, 400),
    (DatabaseBusyError, 503),
]


# an uploaded photo that cannot be taken: too large, not an image, damaged (others: 400)
IMAGE_STATUS = {"image_too_large": 413, "image_unsupported": 415}


def status_of(exc: ConsentRegError) -> int:
    if isinstance(exc, ImageError):
        return IMAGE_STATUS.get(exc.code, 400)
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def install(app: Flask) -> None:
    app.register_error_handler(ConsentRegError, _library_error)
    app.register_error_handler(HTTPException, _http_error)


def _titles() -> dict[int, str]:
    return {
        400: _("Something in the form is not right"),
        403: _("You do not have access to this"),
        404: _("Not found"),
        405: _("Not allowed here"),
        409: _("Someone else changed this in the meantime"),
        413: _("The file is too large"),
        415: _("The file is not a photo that can be taken"),
        503: _("The register is busy: try again in a moment"),
        500: _("Something went wrong"),
    }


def page(status: int, detail: str | None) -> Any:
    titles = _titles()
    title = titles.get(status, titles[500] if status >= 500 else titles[400])
    return render_template("error.html", status=status, title=title, detail=detail), status


def _library_error(exc: ConsentRegError) -> Any:
    status = status_of(exc)
    if status == 500:
        LOG.error("%s (%s)", type(exc).__name__, exc)
        return page(500, None)
    if status == 409:
        return page(
            409, _("Nothing was saved. Go back, reload the page to see the change, and try again.")
        )
    if isinstance(exc, ImageError):
        return page(status, _image_detail(status) + " " + _said(exc))
    return page(status, _said(exc))


def _said(exc: ConsentRegError) -> str:
    """The library's message in the page's language (the command line's catalog: the same
    messages, translated once)."""
    return localize_in(exc.args[0] if exc.args else str(exc), language())


def _image_detail(status: int) -> str:
    if status == 413:
        return _("The photo is too large (its file or its pixels). Nothing was registered.")
    if status == 415:
        return _("Only photos (JPEG, PNG, WebP, HEIC) can be taken. Nothing was registered.")
    return _("A file could not be read as a photo (damaged or incomplete). Nothing was registered.")


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    detail = None
    if status == 403 and exc.description in ("csrf", "origin"):
        detail = _("The form had expired or came from another page. Go back, reload and try again.")
    if status == 413:
        detail = _("An upload may be at most 10 MB.")
    return page(status, detail)
