"""Releases a crash interrupted, finished: each release committed but not reported as arrived
is found in its folder, written again from its original (when the original still renders to
exactly the recorded bytes), or recorded as failed (void: on no take-down list)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from consentreg.errors import ImageError
from consentreg.release_folder import ReleaseFolder
from consentreg.services.unit_of_work import Register

if TYPE_CHECKING:
    from consentreg.imaging import Rendition
    from consentreg.services.publishing.deliveries import PendingRelease


@dataclass(frozen=True)
class Repair:
    """What became of a release whose file had not been reported as arrived: `delivered` (it
    was there), `rewritten` (written again from the original) or `failed` (original gone or
    changed: the release is void)."""

    publication_id: str
    output: str
    result: str


def repair_releases(register: Register, *, folder: ReleaseFolder | None = None) -> list[Repair]:
    """Finish every release committed but not reported as arrived (a run was killed between
    the commit and the file), or only those for `folder`. Releases for a folder this computer
    does not have (another PC's) are left for that PC."""
    from consentreg.services.access import require
    from consentreg.services.publishing.deliveries import (
        mark_delivered,
        mark_failed,
        pending_releases,
    )

    with register.work(writer=False) as ctx:
        require(ctx, "publication.delivery")
        pending = pending_releases(ctx)
    repairs = []
    for item in pending:
        if item.output_dir is None or not Path(item.output_dir).is_dir():
            continue
        if folder is not None and Path(item.output_dir) != folder.path:
            continue
        target = folder or ReleaseFolder(Path(item.output_dir), item.output_dir)
        result = _redeliver(register, item, target)
        with register.work(writer=True) as ctx:
            if result == "failed":
                mark_failed(ctx, publication_id=item.publication_id, reason="original_unavailable")
            else:
                mark_delivered(ctx, publication_ids=[item.publication_id])
        repairs.append(
            Repair(item.publication_id, os.path.join(target.shown, item.output_name), result)
        )
    return repairs


def _redeliver(register: Register, item: PendingRelease, folder: ReleaseFolder) -> str:
    """`delivered` if the file is there, `rewritten` if the original still renders to exactly
    the recorded bytes, else `failed`."""
    if folder.holds(item.output_name, item.output_sha256):
        return "delivered"
    rendition = _render_again(register, item)
    if rendition is None or rendition.sha256 != item.output_sha256:
        return "failed"
    folder.deliver(item.output_name, rendition.data)
    return "rewritten"


def _render_again(register: Register, item: PendingRelease) -> Rendition | None:
    from consentreg.imaging.reading import read_input
    from consentreg.imaging.rendering import render_release
    from consentreg.services.purposes import purpose_by_code

    if item.input_path is None:
        return None
    try:
        data = read_input(Path(item.input_path))
    except ImageError:
        return None
    if hashlib.sha256(data).hexdigest() != item.input_sha256:
        return None  # the original has changed since it was published
    with register.work(writer=False) as ctx:
        max_px = purpose_by_code(ctx, item.purpose).max_px
    try:
        return render_release(data, max_px=max_px)
    except ImageError:
        return None
