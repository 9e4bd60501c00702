"""The Flask application: its configuration, the register it works on and the security headers
of every response."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from consentreg.services.unit_of_work import Register

from . import (
    admin_routes,
    audit_routes,
    errors,
    guardian_routes,
    i18n,
    person_routes,
    photo_routes,
    round_routes,
    routes,
    sessions,
)
from .runtime import WebConfig, config

# every response: nothing inline, nothing from elsewhere, never in a frame
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers send Origin: null
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# the modules whose routes are the blueprint `routes.pages`
ROUTE_MODULES = (routes, person_routes, admin_routes, photo_routes, audit_routes)
MAX_FORM_BYTES = 11 * 1024 * 1024  # an evidence upload of 10 MB and the form around it


def create_app(register: Register, config: WebConfig) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret,
        SESSION_COOKIE_NAME="__Host-consentreg" if config.secure_cookies else "consentreg",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=config.absolute,
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        MAX_FORM_PARTS=50,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["consentreg"] = (register, config)
    i18n.install(app)
    sessions.install(app)
    errors.install(app)
    app.register_blueprint(routes.pages)
    app.register_blueprint(guardian_routes.guardian)
    app.register_blueprint(round_routes.rounds)
    app.after_request(_security_headers)
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )
    return app


def _security_headers(response: Any) -> Any:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if config().secure_cookies:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # pages hold personal data
    return response
