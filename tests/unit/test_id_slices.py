"""`audit consents` splits the people into slices by id for its parallel readers: every id, of
whatever form, must fall in exactly one slice, and the slices must follow each other in order."""

from __future__ import annotations

import uuid

import pytest

from consentreg.services.audit.standing import IdSlice, id_slice

IDS = sorted(
    [uuid.uuid4().hex for _ in range(500)]
    + ["", "0", "00000000", "7fffffff", "80000000", "80000000" + "0" * 24, "ffffffff", "zz", "~"]
)


def _holds(ids: IdSlice, value: str) -> bool:
    low, high = ids
    return (low is None or value >= low) and (high is None or value < high)


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7, 16])
def test_every_id_falls_in_exactly_one_slice_and_the_slices_are_in_order(parts: int) -> None:
    slices = [id_slice(part, parts) for part in range(parts)]
    owners = [[k for k, ids in enumerate(slices) if _holds(ids, value)] for value in IDS]
    assert all(len(owner) == 1 for owner in owners)
    assert [owner[0] for owner in owners] == sorted(owner[0] for owner in owners)


def test_random_ids_spread_about_evenly_over_the_slices() -> None:
    counts = [sum(_holds(id_slice(k, 4), v) for v in IDS) for k in range(4)]
    assert min(counts) > 75  # 500 random ids: about 125 each


@pytest.mark.parametrize(("part", "parts"), [(-1, 2), (2, 2), (0, 0)])
def test_a_slice_outside_the_range_is_a_bug(part: int, parts: int) -> None:
    with pytest.raises(ValueError, match="part"):
        id_slice(part, parts)
