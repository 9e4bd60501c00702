"""Tagging (docs/rules.md, "Tagging (R2)" and "Protected identity (R9)"): any tag change after
"complete" clears it and the tagger confirms again; a protected person refuses the photo even
when tagged as not identifiable."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from consentreg.errors import InvalidInputError
from consentreg.services import people, photos
from consentreg.services.audit.verify import failure_message, verify_log
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from tests import builders
from tests.conftest import NOW, ContextFactory


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 30)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def photo(unit_of_work: ContextFactory) -> dict[str, str]:
    """A complete photo of a consented child, registered with its first tag."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother,) = builders.family(ctx, guardians=1)
        builders.grant(ctx, child, mother)
        other = builders.person(ctx, "Ola Nordmann", "2020-05-05")
        (pid,) = photos.add_photos(
            ctx,
            files=[PhotoInput("IMG_1.jpg", _jpeg())],
            photographer="Kari Lærer",
            subjects=[child],
            complete=True,
        )
    return {"photo": pid, "child": child, "other": other}


def _codes(unit_of_work: ContextFactory) -> list[str]:
    with unit_of_work(writer=False) as ctx:
        found = gate.check(
            ctx, input_sha256=hashlib.sha256(_jpeg()).hexdigest(), purpose="facebook", at=NOW
        )
    return [r.code.value for r in found.decision.reasons]


def test_a_photo_registered_complete_with_its_tags_stays_complete(
    unit_of_work: ContextFactory, photo: dict[str, str]
) -> None:
    assert _codes(unit_of_work) == []


def test_a_tag_added_after_complete_clears_it_until_the_tagger_confirms_again(
    unit_of_work: ContextFactory, photo: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        photos.tag_photo(ctx, photo_id=photo["photo"], subject=photo["other"], identifiable=False)
    assert _codes(unit_of_work) == ["tagging_incomplete"]
    with unit_of_work() as ctx:
        photos.complete_photo(ctx, photo_id=photo["photo"])
    assert _codes(unit_of_work) == []
    with unit_of_work() as ctx, pytest.raises(InvalidInputError, match="no tag changed since"):
        photos.complete_photo(ctx, photo_id=photo["photo"])


def test_an_untag_after_complete_clears_it_too(
    unit_of_work: ContextFactory, photo: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        photos.untag_photo(ctx, photo_id=photo["photo"], subject=photo["child"])
    assert _codes(unit_of_work) == ["tagging_incomplete"]
    with unit_of_work() as ctx:
        report = verify_log(ctx)
    assert report.ok, failure_message(report)


def test_a_protected_person_tagged_not_identifiable_still_refuses(
    unit_of_work: ContextFactory, photo: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        people.set_protected(ctx, photo["other"], protected=True, reason="fortrolig adresse")
        photos.tag_photo(ctx, photo_id=photo["photo"], subject=photo["other"], identifiable=False)
        photos.complete_photo(ctx, photo_id=photo["photo"])
    assert _codes(unit_of_work) == ["protected_identity"]
