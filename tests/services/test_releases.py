"""Publishing through the library, as every entry point does it: `releases.publish` decides,
records, and only then writes the copy into the output folder; a later run finishes what a crash
interrupted. No CLI here."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from consentreg.db.models import Publication
from consentreg.domain.model import EventKind
from consentreg.errors import OutputError
from consentreg.release_folder import ReleaseFolder
from consentreg.services import consents, people, photos
from consentreg.services.audit.verify import failure_message, verify_log
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import deliveries, releases, repair, takedown
from consentreg.services.publishing import gate as publishing
from consentreg.services.unit_of_work import Register
from tests import builders
from tests.conftest import ContextFactory


def jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1200), (seed * 60 % 256, 90, 160)).save(buf, "JPEG", comment=b"Emma")
    return buf.getvalue()


def now() -> datetime:
    """The real clock: `publish` decides at the instant it runs, as a user's run does."""
    return datetime.now(UTC)


@dataclass
class Gallery:
    """A child whose guardian consented to facebook today; `allowed` photos are tagged and
    complete, `refused` ones are registered but not confirmed complete."""

    inputs: Path
    allowed: list[Path]
    refused: list[Path]


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture
def gallery(unit_of_work: ContextFactory, tmp_path: Path) -> Gallery:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    today = now().date()
    with unit_of_work(now=now()) as ctx:
        builders.purpose(ctx)
        child = builders.person(ctx, "Emma Nordmann", date(today.year - 5, 3, 14).isoformat())
        mother = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult")
        people.add_guardian(ctx, child=child, guardian=mother)
        consents.record_decision(
            ctx, subject=child, purpose="facebook", by=mother, kind=EventKind.GRANT
        )
        allowed: list[Path] = []
        refused: list[Path] = []
        for seed in range(4):
            data = jpeg(seed)
            photos.add_photos(
                ctx,
                files=[PhotoInput(f"IMG_{seed}.jpg", data)],
                photographer="Kari Lærer",
                subjects=[child],
                complete=seed % 2 == 0,
            )
            target = allowed if seed % 2 == 0 else refused
            target.append(_write(inputs, f"IMG_{seed}_Emma_Nordmann.jpg", data))
    return Gallery(inputs, allowed, refused)


def _publications(engine: Engine) -> list[Publication]:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        return list(session.scalars(select(Publication).order_by(Publication.decided_at)))


def _verified(unit_of_work: ContextFactory) -> None:
    with unit_of_work(writer=False, now=now()) as ctx:
        report = verify_log(ctx)
    assert report.ok, failure_message(report)


def test_a_batch_published_through_the_library_releases_only_what_the_gate_allows(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    unit_of_work: ContextFactory,
) -> None:
    out = tmp_path / "ready"
    seen: list[str] = []
    report = releases.publish(
        open_register,
        inputs=[gallery.inputs],
        purpose="facebook",
        out=out,
        jobs=1,
        progress=lambda outcome: seen.append(outcome.decision),
    )
    by_input = {Path(o.input).name: o for o in report.outcomes}
    assert sorted(seen) == ["refused", "refused", "released", "released"]
    for path in gallery.allowed:
        outcome = by_input[path.name]
        assert outcome.decision == "released"
        assert outcome.output is not None
        released = Path(outcome.output)
        assert released.parent == out
        assert "Emma" not in released.name
        assert b"Emma" not in released.read_bytes()
    for path in gallery.refused:
        assert by_input[path.name].decision == "refused"
        assert [r.code for r in by_input[path.name].reasons] == ["tagging_incomplete"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        Path(o.output).name for o in report.outcomes if o.output
    )
    states: dict[str, set[str | None]] = {}
    for p in _publications(engine):
        states.setdefault(p.decision, set()).add(p.delivery)
    assert states == {"released": {"delivered"}, "refused": {None}}
    _verified(unit_of_work)


def test_a_batch_publishes_with_spawned_workers(
    open_register: Register, gallery: Gallery, tmp_path: Path
) -> None:
    report = releases.publish(
        open_register,
        inputs=gallery.allowed,
        purpose="facebook",
        out=tmp_path / "ready",
        jobs=2,
        start_method="spawn",
    )
    assert [o.decision for o in report.outcomes] == ["released", "released"]
    assert all(Path(o.output or "").is_file() for o in report.outcomes)


def test_no_byte_of_a_refused_photo_reaches_the_output_folder_even_while_it_is_decided(
    open_register: Register, gallery: Gallery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder is looked at from inside the writer transaction that decides each input:
    nothing of that input may be there yet (the old pipeline wrote it first)."""
    out = tmp_path / "ready"
    seen_while_deciding: list[list[str]] = []
    record = publishing.record_decision

    def watching(*args: object, **kwargs: object) -> publishing.Recorded:
        seen_while_deciding.append(sorted(p.name for p in out.iterdir()))
        return record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publishing, "record_decision", watching)
    report = releases.publish(
        open_register, inputs=gallery.refused, purpose="facebook", out=out, jobs=1
    )
    assert [o.decision for o in report.outcomes] == ["refused", "refused"]
    assert seen_while_deciding == [[], []]
    assert list(out.iterdir()) == []


def _pending_release(unit_of_work: ContextFactory, path: Path, out: Path) -> str:
    """A release committed as a killed run leaves it: recorded, its file never written."""
    from consentreg.imaging.rendering import render_file

    sha256, rendition = render_file(str(path), 1280)
    with unit_of_work(now=now()) as ctx:
        recorded = publishing.record_decision(
            ctx,
            input_sha256=sha256,
            purpose="facebook",
            output_sha256=rendition.sha256,
            output_size=len(rendition.data),
            output_dir=str(out),
            input_path=str(path),
        )
    assert recorded.output_name is not None
    return recorded.publication_id


def test_a_release_whose_file_never_arrived_is_written_again_by_the_next_run(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    unit_of_work: ContextFactory,
) -> None:
    out = tmp_path / "ready"
    out.mkdir()
    pid = _pending_release(unit_of_work, gallery.allowed[0], out)
    (out / ".consentreg-999999999-0123456789abcdef0123456789abcdef.tmp").write_bytes(b"half")

    report = releases.publish(
        open_register, inputs=gallery.refused[:1], purpose="facebook", out=out, jobs=1
    )
    assert report.leftovers_removed == 1
    assert [(r.publication_id, r.result) for r in report.repairs] == [(pid, "rewritten")]
    (pub,) = [p for p in _publications(engine) if p.id == pid]
    assert pub.delivery == "delivered"
    written = out / (pub.output_name or "")
    assert hashlib.sha256(written.read_bytes()).hexdigest() == pub.output_sha256
    assert sorted(p.name for p in out.iterdir()) == [written.name]
    _verified(unit_of_work)


def test_a_release_whose_original_is_gone_is_marked_failed_and_needs_no_take_down(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    unit_of_work: ContextFactory,
) -> None:
    out = tmp_path / "ready"
    out.mkdir()
    original = gallery.allowed[0]
    pid = _pending_release(unit_of_work, original, out)
    original.unlink()

    repairs = repair.repair_releases(open_register)
    assert [(r.publication_id, r.result) for r in repairs] == [(pid, "failed")]
    (pub,) = [p for p in _publications(engine) if p.id == pid]
    assert pub.delivery == "failed"
    assert list(out.iterdir()) == []
    with unit_of_work(writer=False, now=now()) as ctx:
        assert takedown.takedown_list(ctx) == []
    _verified(unit_of_work)


def test_a_pending_release_whose_file_is_there_is_recorded_as_delivered(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    unit_of_work: ContextFactory,
) -> None:
    """A run killed after the file got its name, before it was recorded as delivered."""
    from consentreg.imaging.rendering import render_file

    out = tmp_path / "ready"
    out.mkdir()
    pid = _pending_release(unit_of_work, gallery.allowed[0], out)
    (pub,) = [p for p in _publications(engine) if p.id == pid]
    copy = render_file(str(gallery.allowed[0]), 1280)[1].data
    (out / (pub.output_name or "")).write_bytes(copy)
    gallery.allowed[0].unlink()  # not needed: the copy is already there
    assert [r.result for r in repair.repair_releases(open_register)] == ["delivered"]
    _verified(unit_of_work)


def test_a_release_for_another_computers_folder_is_left_for_that_computer(
    open_register: Register, gallery: Gallery, tmp_path: Path, unit_of_work: ContextFactory
) -> None:
    _pending_release(unit_of_work, gallery.allowed[0], tmp_path / "not-on-this-pc")
    assert repair.repair_releases(open_register) == []
    with unit_of_work(writer=False, now=now()) as ctx:
        assert len(deliveries.pending_releases(ctx)) == 1


def test_a_folder_that_cannot_take_the_copy_stops_the_batch_with_the_release_voided(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(self: ReleaseFolder, name: str, data: bytes) -> Path:
        raise OutputError(f"--out {self.shown} cannot take the released copy (No space left)")

    monkeypatch.setattr(ReleaseFolder, "deliver", full)
    with pytest.raises(OutputError, match="No space left.*0 released before it"):
        releases.publish(
            open_register, inputs=gallery.allowed, purpose="facebook", out=tmp_path / "o", jobs=1
        )
    (pub,) = _publications(engine)
    assert (pub.decision, pub.delivery) == ("released", "failed")


def test_a_leftover_of_a_process_still_running_is_kept(tmp_path: Path) -> None:
    folder = ReleaseFolder.prepare(tmp_path / "ready")
    mine = folder.path / f".consentreg-{os.getppid()}-{'a' * 32}.tmp"
    dead = folder.path / f".consentreg-999999999-{'b' * 32}.tmp"
    old_style = folder.path / f".consentreg-{'c' * 32}.tmp"
    somebody_elses = folder.path / "notes.tmp"
    for path in (mine, dead, old_style, somebody_elses):
        path.write_bytes(b"x")
    assert sorted(folder.clean_leftovers()) == sorted([dead.name, old_style.name])
    assert sorted(p.name for p in folder.path.iterdir()) == sorted([mine.name, "notes.tmp"])
    # hours old by the file system's clock: its process ID may have been reused since
    stamp = mine.stat().st_mtime - 2 * 3600
    os.utime(mine, (stamp, stamp))
    assert ReleaseFolder.prepare(folder.path).clean_leftovers() == [mine.name]


def test_a_release_never_replaces_a_file_of_the_same_name(tmp_path: Path) -> None:
    folder = ReleaseFolder.prepare(tmp_path)
    (tmp_path / "abc.jpg").write_bytes(b"someone else's")
    with pytest.raises(OutputError, match="already holds another file named abc.jpg"):
        folder.deliver("abc.jpg", b"release")
    assert (tmp_path / "abc.jpg").read_bytes() == b"someone else's"
    assert folder.deliver("abc.jpg", b"someone else's") == tmp_path / "abc.jpg"  # same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.jpg"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda _base: "", "--out is empty"),
        (lambda base: str(base / "file.txt" / "sub"), "not a folder|cannot be created"),
        (lambda base: str(base / "file.txt"), "is not a folder"),
        (lambda base: str(base / "link" / "sub"), "passes through the symbolic link"),
        (lambda base: str(base / "link"), "passes through the symbolic link"),
    ],
    ids=["empty", "under-a-file", "a-file", "symlinked-parent", "symlinked-folder"],
)
def test_an_unusable_output_folder_is_refused_before_anything_is_decided(
    tmp_path: Path, make: object, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OutputError, match=message):
        ReleaseFolder.prepare(make(tmp_path))  # type: ignore[operator]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == []


def test_an_unknown_purpose_is_refused_before_the_output_folder_is_made(
    open_register: Register, gallery: Gallery, tmp_path: Path
) -> None:
    from consentreg.errors import InvalidInputError, NotFoundError

    with pytest.raises((InvalidInputError, NotFoundError)):
        releases.publish(open_register, inputs=gallery.allowed, purpose="nope", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_caption_with_a_control_character_is_refused_before_anything_is_recorded(
    open_register: Register, gallery: Gallery, tmp_path: Path, engine: Engine
) -> None:
    from consentreg.errors import InvalidInputError

    out = tmp_path / "ready"
    with pytest.raises(InvalidInputError, match="--caption"):
        releases.publish(
            open_register, inputs=gallery.allowed, purpose="facebook", out=out, caption="Tur\x00"
        )
    assert _publications(engine) == []
    assert not out.exists()


def test_an_input_whose_name_is_not_utf8_is_published_and_shown_with_a_replacement_character(
    open_register: Register, gallery: Gallery, tmp_path: Path
) -> None:
    latin1 = Path(os.fsdecode(bytes(tmp_path) + b"/IMG_\xe6ble.jpg"))  # an old camera's name
    latin1.write_bytes(gallery.allowed[0].read_bytes())
    report = releases.publish(
        open_register, inputs=[latin1], purpose="facebook", out=tmp_path / "ready", jobs=1
    )
    (outcome,) = report.outcomes
    assert outcome.decision == "released"
    assert outcome.input.endswith("IMG_\ufffdble.jpg")


def _takedown_after_withdrawal(unit_of_work: ContextFactory) -> list[str]:
    """Withdraw the gallery's one grant; the publication IDs on its take-down list."""
    from consentreg.db.models import ConsentEvent

    with unit_of_work(now=now()) as ctx:
        grant = ctx.session.scalars(select(ConsentEvent)).one()
        withdrawal = consents.withdraw_consent(ctx, consent_id=grant.id)
    return sorted(i.publication_id for i in withdrawal.takedown)


def test_a_folder_published_twice_releases_each_photo_once_and_names_the_earlier_release(
    open_register: Register,
    gallery: Gallery,
    tmp_path: Path,
    engine: Engine,
    unit_of_work: ContextFactory,
) -> None:
    out = tmp_path / "ready"
    first = releases.publish(
        open_register, inputs=[gallery.inputs], purpose="facebook", out=out, jobs=1
    )
    files, rows = sorted(out.iterdir()), len(_publications(engine))
    second = releases.publish(
        open_register, inputs=[gallery.inputs], purpose="facebook", out=out, jobs=1
    )
    earlier = {o.input: o.publication_id or "" for o in first.outcomes if o.decision == "released"}
    assert len(earlier) == len(gallery.allowed)
    for outcome in second.outcomes:
        if outcome.input in earlier:
            assert outcome.decision == "refused"
            assert outcome.output is None
            assert outcome.publication_id == earlier[outcome.input]
            (reason,) = outcome.reasons
            assert reason.code == "already_released"
            assert earlier[outcome.input] in reason.message
        else:
            assert [r.code for r in outcome.reasons] == ["tagging_incomplete"]
    assert sorted(out.iterdir()) == files
    # the refusals of the incomplete photos are recorded again; the releases are not repeated
    assert len(_publications(engine)) == rows + len(gallery.refused)
    assert _takedown_after_withdrawal(unit_of_work) == sorted(earlier.values())
    _verified(unit_of_work)


def test_publish_again_makes_a_new_copy_recorded_as_a_publication_of_its_own(
    open_register: Register, gallery: Gallery, tmp_path: Path, unit_of_work: ContextFactory
) -> None:
    out = tmp_path / "ready"
    (first,) = releases.publish(
        open_register, inputs=gallery.allowed[:1], purpose="facebook", out=out, jobs=1
    ).outcomes
    (again,) = releases.publish(
        open_register, inputs=gallery.allowed[:1], purpose="facebook", out=out, jobs=1, again=True
    ).outcomes
    assert again.decision == "released"
    assert again.publication_id != first.publication_id
    assert len(list(out.iterdir())) == 2
    assert _takedown_after_withdrawal(unit_of_work) == sorted(
        [first.publication_id or "", again.publication_id or ""]
    )
    _verified(unit_of_work)


def test_the_same_photo_twice_in_one_batch_is_released_once(
    open_register: Register, gallery: Gallery, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(gallery.allowed[0].read_bytes())
    out = tmp_path / "ready"
    outcomes = releases.publish(
        open_register, inputs=[gallery.allowed[0], copy], purpose="facebook", out=out, jobs=2
    ).outcomes
    assert [o.decision for o in outcomes] == ["released", "refused"]
    assert outcomes[1].reasons[0].code == "already_released"
    assert len(list(out.iterdir())) == 1


def test_a_photo_taken_down_or_whose_delivery_failed_is_released_again(
    open_register: Register, gallery: Gallery, tmp_path: Path, unit_of_work: ContextFactory
) -> None:
    out = tmp_path / "ready"
    taken, failed = gallery.allowed
    (first,) = releases.publish(
        open_register, inputs=[taken], purpose="facebook", out=out, jobs=1
    ).outcomes
    void = _pending_release(unit_of_work, failed, tmp_path / "elsewhere")
    with unit_of_work(now=now()) as ctx:
        takedown.takedown_done(ctx, publication_id=first.publication_id or "")
        deliveries.mark_failed(ctx, publication_id=void, reason="output_not_written")
    outcomes = releases.publish(
        open_register, inputs=[taken, failed], purpose="facebook", out=out, jobs=1
    ).outcomes
    assert [o.decision for o in outcomes] == ["released", "released"]
    assert outcomes[0].publication_id != first.publication_id


def test_a_refused_photo_is_refused_for_its_reasons_even_when_released_before(
    open_register: Register, gallery: Gallery, tmp_path: Path, unit_of_work: ContextFactory
) -> None:
    """A withdrawal after the release: the answer is the withdrawal, not already_released, and
    the earlier copy stays on the take-down list."""
    out = tmp_path / "ready"
    (first,) = releases.publish(
        open_register, inputs=gallery.allowed[:1], purpose="facebook", out=out, jobs=1
    ).outcomes
    assert _takedown_after_withdrawal(unit_of_work) == [first.publication_id]
    (second,) = releases.publish(
        open_register, inputs=gallery.allowed[:1], purpose="facebook", out=out, jobs=1
    ).outcomes
    assert second.decision == "refused"
    assert [r.code for r in second.reasons] == ["consent_withdrawn"]
