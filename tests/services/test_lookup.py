"""IDs a person can type (issue #18, item 3): a whole ID, or a unique prefix of at least six
characters; several matches are a clear error, never a guess."""

from __future__ import annotations

import pytest

from consentreg.db.models import Person
from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services import consents, people
from consentreg.services.lookup import by_id
from tests import builders
from tests.conftest import ContextFactory


def test_a_person_is_found_by_a_unique_prefix_of_six_characters_or_more(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        pid = builders.person(ctx, "Emma Nordmann", "2021-03-14")
        assert people.resolve_person(ctx, pid[:6]).id == pid
        assert people.resolve_person(ctx, pid[:6].upper()).id == pid
        assert people.resolve_person(ctx, pid).id == pid


@pytest.mark.parametrize("length", [1, 5])
def test_a_prefix_shorter_than_six_characters_finds_nothing(
    unit_of_work: ContextFactory, length: int
) -> None:
    with unit_of_work() as ctx:
        pid = builders.person(ctx, "Emma Nordmann", "2021-03-14")
        with pytest.raises(NotFoundError, match="unknown person"):
            people.resolve_person(ctx, pid[:length])


def test_a_prefix_that_two_ids_share_is_ambiguous(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        for n in range(2):
            ctx.session.add(
                Person(id=f"abcdef{n:026x}", kind="adult", protected=False, name_ct=b"x",
                       born_ct=b"y", created_at=ctx.now, created_by="tester")
            )  # fmt: skip
        ctx.session.flush()
        with pytest.raises(InvalidInputError, match="ambiguous.*give more characters"):
            by_id(ctx, Person, "abcdef", what="person")
        assert by_id(ctx, Person, "abcdef" + "0" * 25 + "1", what="person").id.endswith("1")


def test_a_consent_is_withdrawn_by_a_prefix_and_its_take_down_list_found(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother,) = builders.family(ctx, guardians=1)
        grant = consents.record_decision(
            ctx, subject=child, purpose="facebook", by=mother, kind=EventKind.GRANT
        )
    with unit_of_work() as ctx:
        done = consents.withdraw_consent(ctx, consent_id=grant[:8])
    assert done.takedown == []
    with unit_of_work() as ctx:
        kinds = [c.kind for c in consents.list_consents(ctx, subject=child)]
    assert sorted(kinds) == ["grant", "withdrawal"]
