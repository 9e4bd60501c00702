"""A register with two units, staff of every role with passwords, and the web application on it
(Flask's test client), on SQLite and PostgreSQL like every service test."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, text

from consentreg.services import access, accounts, people, photos, units
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from consentreg.services.unit_of_work import Register
from tests import builders
from tests.conftest import NOW, ContextFactory
from web.app import create_app
from web.runtime import WebConfig

HOSTILE = "<script>alert(1)</script> Hacker"
PASSWORD = "riktig-hest-batteri-stift"
SECRET = bytes(range(32, 64))


@dataclass
class Clock:
    """The application's clock, moved by the tests (sessions expire, throttling ends)."""

    at: datetime = NOW + timedelta(days=1)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def build_staff_register(unit_of_work: ContextFactory) -> dict[str, str]:
    """Units bhg (Solsikken) and blaa (Blåklokka); Emma in bhg with two guardians who consented
    to facebook; a hostile name in bhg; Per in blaa. Users: ada (admin), rita (registrar of
    bhg), otto (registrar of blaa), aud (auditor), each with PASSWORD."""
    ids: dict[str, str] = {}
    with unit_of_work() as ctx:
        builders.unit(ctx, "bhg")
        ids["blaa_unit"] = units.add_unit(ctx, code="blaa", name="Blåklokka skole")
        builders.purpose(ctx, "facebook")
        builders.purpose(ctx, "yearbook")
        ids["emma"] = builders.person(ctx, "Emma Nordmann", "2021-03-14", unit_code="bhg")
        ids["mor"] = builders.person(ctx, "Kari Nordmann", "1988-05-01", kind="adult")
        ids["far"] = builders.person(ctx, "Ola Nordmann", "1987-02-02", kind="adult")
        for parent in ("mor", "far"):
            people.add_guardian(ctx, child=ids["emma"], guardian=ids[parent])
            builders.grant(ctx, ids["emma"], ids[parent])
        ids["hostile"] = builders.person(ctx, HOSTILE, "2020-05-05", unit_code="bhg")
        ids["per"] = builders.person(ctx, "Per Blå", "2015-01-01", unit_code="blaa")
        access.add_user(ctx, login="ada", role="admin")
    with unit_of_work(actor="ada") as ctx:
        access.add_user(ctx, login="rita", role="registrar", units=["bhg"])
        access.add_user(ctx, login="otto", role="registrar", units=["blaa"])
        access.add_user(ctx, login="aud", role="auditor")
        for login in ("ada", "rita", "otto", "aud"):
            accounts.set_password(ctx, login=login, password=PASSWORD)
    return ids


@pytest.fixture
def staff(unit_of_work: ContextFactory) -> dict[str, str]:
    return build_staff_register(unit_of_work)


@pytest.fixture
def released(staff: dict[str, str], unit_of_work: ContextFactory) -> str:
    """A photo of Emma released for facebook on her guardians' consents: its publication ID."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 80, 160)).save(buf, "JPEG")
    data = buf.getvalue()
    with unit_of_work(actor="ada") as ctx:
        photos.add_photos(
            ctx,
            files=[PhotoInput("IMG_1.jpg", data)],
            photographer="Kari Lærer",
            subjects=[staff["emma"]],
            complete=True,
        )
        rec = gate.record_decision(
            ctx,
            input_sha256=hashlib.sha256(data).hexdigest(),
            purpose="facebook",
            output_sha256="ab" * 32,
            output_size=1,
        )
    return rec.publication_id


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(open_register: Register, staff: dict[str, str], clock: Clock) -> Flask:  # noqa: ARG001
    return create_app(open_register, WebConfig(secret=SECRET, secure_cookies=False, clock=clock))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client: FlaskClient, login: str, password: str = PASSWORD) -> int:
    """Log in through the form as a browser does; the status of the form's answer."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"login": login, "password": password, "csrf_token": token})
    return answer.status_code


def token(client: FlaskClient, path: str = "/") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, one-time token, version, ...) of the page's form that
    posts to `action`, as the browser would send them."""
    found = re.search(
        r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.DOTALL
    )
    assert found, f"the page has no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(1)))


def form_of(client: FlaskClient, page: str, action: str) -> dict[str, str]:
    """Open `page` and take the hidden fields of its form that posts to `action`."""
    answer = client.get(page)
    assert answer.status_code == 200, page
    return hidden_fields(answer.get_data(as_text=True), action)


def last_view(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest recorded view of personal data (`audit.query`): its IDs and payload."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT object_ids, payload FROM audit_events WHERE action = 'audit.query'"
                " ORDER BY seq DESC"
            )
        ).first()
    assert row is not None
    return json.loads(row[0]), json.loads(row[1])
