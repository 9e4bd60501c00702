"""`audit verify` and `audit checkpoint` as one library call each. The consent events' part of
the verification (three in four events) runs in a helper process started before the register is
opened, beside this process's chain walk; with a single core it runs here, after it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from consentreg.parallel import forked
from consentreg.services.unit_of_work import open_register, unit_of_work

if TYPE_CHECKING:
    from consentreg.config import Settings
    from consentreg.crypto import Signer
    from consentreg.services.audit.checkpoint import VerifierKey
    from consentreg.services.audit.verify import (
        CheckpointView,
        ConsentsPart,
        ExternalCheckpoint,
        PartResult,
        VerifyReport,
    )
    from consentreg.services.unit_of_work import Context


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def _consents_elsewhere(
    settings: Settings, start_method: str | None
) -> Iterator[ConsentsPart | None]:
    if _cores() < 2:
        yield None
        return
    with forked(1, _consents_part, start_method=start_method) as helpers:

        def start(through: int) -> Callable[[], PartResult | None]:
            answers = helpers.run([(settings, through)])
            return lambda: answers()[0]

        yield start


def _consents_part(task: tuple[Settings, int]) -> PartResult | None:
    from consentreg.services.audit.verify import verify_consent_events

    settings, through = task
    with unit_of_work(settings, writer=False) as ctx:
        return verify_consent_events(ctx, through=through)


def verify_register(
    settings: Settings,
    *,
    key: VerifierKey | None = None,
    external: Sequence[ExternalCheckpoint] = (),
    start_method: str | None = None,
) -> VerifyReport:
    """The chain, every table against the events, every checkpoint (against `key` when an auditor
    pins one, else the register's trusted keys) and the newest witnessed one: one snapshot, read
    without holding up a writer. Findings are in the report (`ok` false), never raised."""
    with (
        _consents_elsewhere(settings, start_method) as consents,
        unit_of_work(settings, writer=False) as ctx,
    ):
        return verify_in(
            ctx, witness_dir=settings.witness_dir, key=key, external=external, consents=consents
        )


def verify_in(
    ctx: Context,
    *,
    witness_dir: Path | None,
    key: VerifierKey | None = None,
    external: Sequence[ExternalCheckpoint] = (),
    consents: ConsentsPart | None = None,
) -> VerifyReport:
    """`verify_register` in a unit of work the caller opened (the web application's request:
    one process, no helper forked from a threaded server): `audit.read`, then the whole check."""
    from consentreg.services.access import require
    from consentreg.services.audit.verify import verify_log

    require(ctx, "audit.read")
    files = [*external, *_witnessed(ctx, witness_dir)]
    keys = [key] if key is not None else None
    return verify_log(ctx, keys=keys, external=files, consents=consents)


def _witnessed(ctx: Context, witness_dir: Path | None) -> list[ExternalCheckpoint]:
    from consentreg.services.audit import witness
    from consentreg.services.audit.verify import ExternalCheckpoint
    from consentreg.services.register_identity import register_id

    if witness_dir is None:
        return []
    found = witness.newest(witness_dir, register_id(ctx))
    return [ExternalCheckpoint(f"witnessed {found[0]}", found[1])] if found else []


def checkpoint_register(
    settings: Settings, *, signer: Signer | None = None, start_method: str | None = None
) -> CheckpointView:
    """Sign and store a checkpoint of the verified log with this PC's signing key (or `signer`),
    then leave a copy in the witness folder when one is configured; AuditVerificationError when
    the log does not verify."""
    from consentreg.crypto import Signer
    from consentreg.services.audit import witness
    from consentreg.services.audit.verify import create_checkpoint
    from consentreg.services.register_identity import register_id

    with _consents_elsewhere(settings, start_method) as consents, open_register(settings) as reg:
        key = signer or Signer.load(reg.settings.signing_key_file)
        with reg.work() as ctx:
            view = create_checkpoint(ctx, signer=key, consents=consents)
            register = register_id(ctx)
        if settings.witness_dir is not None:  # after the commit: never a note the log lacks
            path = witness.witness(
                settings.witness_dir,
                register,
                size=view.size,
                checkpoint_id=view.id,
                note=view.note,
            )
            view = replace(view, witnessed=str(path))
        return view
