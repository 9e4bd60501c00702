"""A unit's overview in pages, through Flask's test client on SQLite and PostgreSQL: people in
the order of their names, a page at a time, each page's view recorded naming only the people
it shows; a page out of range is a clear 400."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests import builders
from tests.conftest import ContextFactory
from tests.web.conftest import last_view, log_in


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/people/[0-9a-f]+">([^<]+)</a></th>', html)


def test_a_large_unit_is_shown_a_page_at_a_time_by_name(
    client: FlaskClient,
    engine: Engine,
    staff: dict[str, str],
    unit_of_work: ContextFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("consentreg.services.staff.OVERVIEW_PAGE", 2)
    with unit_of_work(actor="ada") as ctx:
        builders.person(ctx, "Åse Ålvik", "2021-01-01", unit_code="bhg")
        builders.person(ctx, "Anna Aas", "2021-01-02", unit_code="bhg")
    log_in(client, "rita")
    first = client.get("/units/bhg").get_data(as_text=True)
    assert _names(first) == ["&lt;script&gt;alert(1)&lt;/script&gt; Hacker", "Anna Aas"]
    assert "Side 1 av 2, 4 personer i alt" in first
    assert 'href="/units/bhg?page=2"' in first
    ids, payload = last_view(engine)
    assert payload["page"] == 1
    assert len(ids["subjects"]) == 2
    assert staff["emma"] not in ids["subjects"]
    second = client.get("/units/bhg?page=2").get_data(as_text=True)
    assert _names(second) == ["Emma Nordmann", "Åse Ålvik"]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    for bad in ("3", "0", "x"):
        answer = client.get(f"/units/bhg?page={bad}")
        assert answer.status_code == 400, bad
        assert "siden må være fra 1 til 2" in answer.get_data(as_text=True)


def test_a_small_unit_is_one_page_without_page_links(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    log_in(client, "rita")
    page = client.get("/units/bhg").get_data(as_text=True)
    assert len(_names(page)) == 2
    assert staff["emma"] in page
    assert "Side 1" not in page
