"""check, publish, takedown list|done: the gate's commands (output shape: CONTRACT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .batch import Outcome, expand_inputs, publish_all, read_all
from .output import OPTIONS, emit, message, table
from .runtime import open_register, unit_of_work

takedown_app = typer.Typer(help="Released copies that must come down.", no_args_is_help=True)

Caption = Annotated[
    str | None,
    typer.Option(
        "--caption", help="Text to publish with the photo: a child's full name is refused."
    ),
]
Purpose = Annotated[str, typer.Option("--purpose", help="Purpose (channel) code.")]


def install(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("publish")(publish)
    app.add_typer(takedown_app, name="takedown")


def _report(outcomes: list[Outcome]) -> None:
    lines = []
    for o in outcomes:
        target = f" -> {o.output}" if o.output else ""
        lines.append(f"{o.decision:<9} {o.input}{target}")
        lines += [f"  {r['code']:<25} {r['subject'] or '-':<32} {r['message']}" for r in o.reasons]
    emit({"results": [o.as_json() for o in outcomes]}, lines)
    if not OPTIONS.json and len(outcomes) > 1:
        counts = {
            d: sum(o.decision == d for o in outcomes)
            for d in ("released", "allowed", "refused", "error")
        }
        message(", ".join(f"{n} {d}" for d, n in counts.items() if n))
    decisions = {o.decision for o in outcomes}
    if "refused" in decisions:
        raise typer.Exit(3)
    if "error" in decisions:
        raise typer.Exit(5)


def check(
    files: Annotated[list[Path], typer.Argument(help="Photo files.")],
    purpose: Purpose,
    caption: Caption = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Decide as of this date (start of day) or ISO timestamp; default now."
        ),
    ] = None,
) -> None:
    """Decide whether photos may be published for a purpose; writes nothing. Exit 0 when every
    input is allowed, 3 when one is refused, 5 when one cannot be read.

    Example:

        consentreg check IMG_2041.jpg --purpose facebook --at 2026-12-01
    """
    from consentreg.domain.calendar import parse_at
    from consentreg.services.publishing import check as gate_check

    when = parse_at(at) if at else None
    inputs = read_all(expand_inputs(files))
    outcomes = []
    with open_register() as register, register.work(writer=False) as ctx:
        instant = when or ctx.now
        for item in inputs:
            if item.error is not None:
                outcomes.append(Outcome.failed(item.label, item.error))
                continue
            result = gate_check(
                ctx, input_sha256=item.sha256, purpose=purpose, at=instant, caption=caption
            )
            verb = "allowed" if result.decision.allowed else "refused"
            outcomes.append(Outcome.decided(item.label, result.decision, verb=verb))
    _report(outcomes)


def publish(
    inputs: Annotated[list[Path], typer.Argument(help="Photo files or folders of photos.")],
    purpose: Purpose,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for released copies (neutral names, never overwritten)."
        ),
    ],
    caption: Caption = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Worker processes for the image work (default: the number of cores).",
        ),
    ] = None,
) -> None:
    """Release downscaled, metadata-free copies of photos the register allows for a purpose, or
    refuse with every reason per person; every decision is recorded. Exit 0 when all are
    released, 3 when one is refused, 5 when one cannot be read.

    Example:

        consentreg publish photos/ --purpose facebook --out ready/ --jobs 2
    """
    outcomes = publish_all(
        expand_inputs(inputs), purpose=purpose, out=out, caption=caption, jobs=jobs
    )
    _report(outcomes)


@takedown_app.command("list")
def takedown_list_cmd(purpose: Annotated[str | None, typer.Option("--purpose")] = None) -> None:
    """Releases still online whose subject has since withdrawn or refused.

    Example:

        consentreg takedown list --purpose facebook
    """
    from consentreg.services.publishing import takedown_list

    with unit_of_work(writer=False) as ctx:
        items = takedown_list(ctx, purpose=purpose)
    emit(
        {"takedown": items},
        table(
            ["PUBLICATION", "PURPOSE", "OUTPUT", "RELEASED", "SUBJECTS"],
            [
                (
                    i.publication_id,
                    i.purpose,
                    i.output_name,
                    i.released_at.isoformat(timespec="seconds"),
                    " ".join(i.subject_ids),
                )
                for i in items
            ],
        ),
    )


@takedown_app.command("done")
def takedown_done_cmd(
    publication_id: str,
    note: Annotated[str | None, typer.Option("--note", help="Kept encrypted.")] = None,
) -> None:
    """Record that a released copy has been taken down.

    Example:

        consentreg takedown done 9d41... --note "slettet fra Facebook-siden"
    """
    from consentreg.services.publishing import takedown_done

    with unit_of_work() as ctx:
        takedown_done(ctx, publication_id=publication_id, note=note)
    emit({"publication": publication_id, "taken_down": True}, [])
