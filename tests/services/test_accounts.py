"""Staff accounts in the service layer, on both engines: who may set passwords, throttling by
address as well as by login, and sessions that end when the epoch moves or the role goes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consentreg.errors import InvalidInputError, NotPermittedError
from consentreg.services import access, accounts
from tests.conftest import NOW, ContextFactory

PASSWORD = "et-langt-passord-her"


@pytest.fixture
def logins(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        access.add_user(ctx, login="ada", role="admin")
    with unit_of_work(actor="ada") as ctx:
        access.add_user(ctx, login="pia", role="publisher")
        access.add_user(ctx, login="aud", role="auditor")
        for login in ("ada", "pia", "aud"):
            accounts.set_password(ctx, login=login, password=PASSWORD)


def _try(
    unit_of_work: ContextFactory,
    login: str,
    password: str,
    address: str = "10.0.0.1",
    at: timedelta = timedelta(),
) -> accounts.LoginOutcome:
    with unit_of_work(now=NOW + at) as ctx:
        return accounts.log_in(ctx, login=login, password=password, address=address)


def test_only_an_admin_sets_passwords_and_they_must_be_long_enough(
    unit_of_work: ContextFactory, logins: None
) -> None:
    with pytest.raises(NotPermittedError), unit_of_work(actor="pia") as ctx:
        accounts.set_password(ctx, login="pia", password="et-annet-langt-passord")
    with pytest.raises(InvalidInputError, match="shorter"), unit_of_work(actor="ada") as ctx:
        accounts.set_password(ctx, login="pia", password="kort")
    with pytest.raises(InvalidInputError, match="control"), unit_of_work(actor="ada") as ctx:
        accounts.set_password(ctx, login="pia", password="et-langt-passord\n")


def test_the_right_password_gives_a_session_with_the_logins_roles(
    unit_of_work: ContextFactory, logins: None
) -> None:
    outcome = _try(unit_of_work, "pia", PASSWORD)
    assert outcome.session == accounts.StaffSession("pia", 1, ["publisher"])
    assert _try(unit_of_work, "pia", PASSWORD + "x").refused == "wrong"
    assert _try(unit_of_work, "nobody", PASSWORD).refused == "wrong"


def test_twenty_failures_from_one_address_refuse_every_login_from_it_for_a_while(
    unit_of_work: ContextFactory, logins: None
) -> None:
    for n in range(accounts.FAILURES_PER_ADDRESS):
        assert _try(unit_of_work, f"gjett{n}", "feil").refused == "wrong"
    assert _try(unit_of_work, "pia", PASSWORD).refused == "throttled"
    assert _try(unit_of_work, "pia", PASSWORD, address="10.0.0.2").session is not None
    later = accounts.THROTTLE_WINDOW + timedelta(seconds=1)
    assert _try(unit_of_work, "pia", PASSWORD, at=later).session is not None


def test_a_session_ends_when_the_epoch_moves_or_the_last_role_goes(
    unit_of_work: ContextFactory, logins: None
) -> None:
    with unit_of_work(actor="pia") as ctx:
        assert accounts.session_for(ctx, login="pia", epoch=1) is not None
        assert accounts.end_sessions(ctx, login="pia") == 2
        assert accounts.session_for(ctx, login="pia", epoch=1) is None
    with pytest.raises(NotPermittedError), unit_of_work(actor="pia") as ctx:
        accounts.end_sessions(ctx, login="ada")  # someone else's: an admin's action
    with pytest.raises(NotPermittedError), unit_of_work(actor="aud") as ctx:
        accounts.end_sessions(ctx, login="aud")  # an auditor's login writes nothing
    with unit_of_work(actor="ada") as ctx:
        accounts.end_sessions(ctx, login="aud")
        access.remove_user(ctx, login="pia")
    with unit_of_work(actor="ada") as ctx:
        assert accounts.session_for(ctx, login="pia", epoch=2) is None
    assert _try(unit_of_work, "pia", PASSWORD).refused == "wrong"
