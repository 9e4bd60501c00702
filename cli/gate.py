"""check, publish, takedown list|done: the gate's commands (output shape: docs/cli.md)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentreg.i18n import localize, msg

from .language import word
from .output import OPTIONS, clean, emit, message, table
from .progress import progress_bar
from .runtime import names_for, open_register, unit_of_work

if TYPE_CHECKING:
    from consentreg.services.publishing.releases import Outcome, PublishReport

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
    app.command("repair")(repair)
    app.add_typer(takedown_app, name="takedown")


def _as_json(o: Outcome) -> dict[str, object]:
    return {
        "input": o.input,
        "decision": o.decision,
        "output": o.output,
        "publication_id": o.publication_id,
        "reasons": [asdict(r) for r in o.reasons],
    }


def _report(outcomes: list[Outcome], extra: dict[str, object] | None = None) -> None:
    """Each input's answer; then exit 3 if one was refused, 5 if one could not be read."""
    from consentreg.services.names import with_names
    from consentreg.services.publishing.releases import require_all_passed

    names = names_for(
        [r.subject for o in outcomes for r in o.reasons]
        + [r.message for o in outcomes for r in o.reasons]
    )
    lines = []
    for o in outcomes:
        target = f" -> {o.output}" if o.output else ""
        lines.append(f"{word(o.decision):<9} {o.input}{target}")
        lines += [
            f"  {r.code:<25} {with_names(r.subject or '-', names):<32} {with_names(localize(r.message), names)}"
            for r in o.reasons
        ]
    emit({"results": [_as_json(o) for o in outcomes], **(extra or {})}, lines)
    if not OPTIONS.json and len(outcomes) > 1:
        counts = {
            d: sum(o.decision == d for o in outcomes)
            for d in ("released", "allowed", "refused", "error")
        }
        message(", ".join(f"{n} {word(d)}" for d, n in counts.items() if n))
    require_all_passed(outcomes)


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
    from consentreg.services.publishing.releases import check_files

    when = parse_at(at) if at else None
    paths = _gathered(files)
    with unit_of_work(writer=False) as ctx:
        outcomes = check_files(
            ctx, inputs=paths, purpose=purpose, at=when or ctx.now, caption=caption
        )
    _report(outcomes)


def publish(
    inputs: Annotated[list[Path], typer.Argument(help="Photo files or folders of photos.")],
    purpose: Purpose,
    out: Annotated[
        str,
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
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Make a new copy (a publication of its own) of photos already released for "
            "the purpose; without it they are answered already_released.",
        ),
    ] = False,
) -> None:
    """Release downscaled, metadata-free copies of photos the register allows for a purpose, or
    refuse with every reason per person; every decision is recorded. A copy appears in the
    folder only after its release is recorded. A photo already released for the purpose (and
    not taken down) is not released again unless --again: its answer, already_released, names
    the earlier publication. Exit 0 when all are released, 3 when one is refused (or already
    released), 5 when one cannot be read.

    Example:

        consentreg publish photos/ --purpose facebook --out ready/ --jobs 2
    """
    from consentreg.services.publishing.releases import publish as publish_inputs

    paths = _gathered(inputs)
    with progress_bar("publishing", len(paths)) as advance:
        report = publish_inputs(
            open_register(),
            inputs=paths,
            purpose=purpose,
            out=out,
            caption=caption,
            jobs=jobs,
            progress=lambda _outcome: advance(),
            again=again,
        )
    _say_repairs(report)
    _report(report.outcomes, {"repaired": [asdict(r) for r in report.repairs]})


def _gathered(inputs: list[Path]) -> list[Path]:
    """The batch's files; folders' files that are not images are counted and named on stderr;
    a folder without images is refused (exit 2)."""
    from consentreg.services.publishing.releases import gather_inputs

    gathered = gather_inputs(inputs)
    if gathered.skipped:
        names = ", ".join(clean(str(p)) for p in gathered.skipped)
        message(
            msg(
                "skipped {count} file(s) that are not images: {names}",
                count=len(gathered.skipped),
                names=names,
            )
        )
    return gathered.files


def _say_repairs(report: PublishReport) -> None:
    if report.leftovers_removed:
        message(
            msg(
                "removed {count} unfinished file(s) of an interrupted run",
                count=report.leftovers_removed,
            )
        )
    for r in report.repairs:
        message(
            msg(
                "earlier release {publication} ({output}): {result}",
                publication=r.publication_id,
                output=r.output,
                result=r.result,
            )
        )


def repair(
    out: Annotated[
        str | None,
        typer.Option("--out", help="Only the releases for this folder (default: all here)."),
    ] = None,
) -> None:
    """Finish releases a crash interrupted: each release recorded but never reported as written
    into its folder is found there, written again from its original, or recorded as failed (the
    original is gone or changed). Releases for folders this computer does not have are left
    alone. `publish` does the same for its own folder before it starts.

    Example:

        consentreg repair --out ready/
    """
    from consentreg.release_folder import ReleaseFolder
    from consentreg.services.publishing.repair import repair_releases

    with open_register() as register:
        folder = ReleaseFolder.prepare(out) if out is not None else None
        if folder is not None:
            folder.clean_leftovers()
        repairs = repair_releases(register, folder=folder)
    emit(
        {"repaired": [asdict(r) for r in repairs]},
        table(
            ["PUBLICATION", "OUTPUT", "RESULT"],
            [(r.publication_id, r.output, r.result) for r in repairs],
        ),
    )


@takedown_app.command("list")
def takedown_list_cmd(purpose: Annotated[str | None, typer.Option("--purpose")] = None) -> None:
    """Releases still online whose subject has since withdrawn or refused.

    Example:

        consentreg takedown list --purpose facebook
    """
    from consentreg.services.publishing.takedown import takedown_list

    from .consent import takedown_lines

    with unit_of_work(writer=False) as ctx:
        items = takedown_list(ctx, purpose=purpose)
    emit({"takedown": items}, takedown_lines(items))


@takedown_app.command("done")
def takedown_done_cmd(
    publication_id: str,
    note: Annotated[str | None, typer.Option("--note", help="Kept encrypted.")] = None,
) -> None:
    """Record that a released copy has been taken down.

    Example:

        consentreg takedown done 9d41... --note "slettet fra Facebook-siden"
    """
    from consentreg.services.publishing.takedown import takedown_done

    with unit_of_work() as ctx:
        takedown_done(ctx, publication_id=publication_id, note=note)
    emit({"publication": publication_id, "taken_down": True}, [])
