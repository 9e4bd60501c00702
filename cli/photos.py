"""photo add|tag|untag|complete|show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .output import clean, emit, message, table
from .runtime import unit_of_work

if TYPE_CHECKING:
    from consentreg.services.photos import PhotoInput

photo_app = typer.Typer(help="The photo register: who is in which photo.", no_args_is_help=True)


def install(app: typer.Typer) -> None:
    app.add_typer(photo_app, name="photo")


@photo_app.command("add")
def photo_add(
    files: Annotated[list[Path], typer.Argument(help="Photo files (JPEG, PNG, WebP, HEIC).")],
    photographer: Annotated[
        str, typer.Option("--photographer", help="Creator (copyright); kept encrypted.")
    ],
    subject: Annotated[
        list[str] | None, typer.Option("--subject", help="Person in every photo (repeat).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    complete: Annotated[
        bool, typer.Option("--complete", help="Every identifiable person is tagged.")
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Register the good files even when others cannot be (each is named on stderr).",
        ),
    ] = False,
) -> None:
    """Register photos by the SHA-256 of their bytes (the original is not kept); each is fully
    decoded first. Every file that cannot be registered is named with its reason; then none is
    registered (exit 5, or 2 when the only faults are files already registered), or with
    --skip-bad the others are (exit 5 when a file was unusable). Prints one ID per file.

    Example:

        consentreg photo add IMG_2041.jpg --photographer "Kari Lærer" --subject ref:K001 --complete
    """
    from consentreg.errors import InputsUnreadableError
    from consentreg.services.photos import register_photos

    with unit_of_work() as ctx:
        added = register_photos(
            ctx,
            files=[_read(f) for f in files],
            photographer=photographer,
            subjects=subject or [],
            unit=unit,
            complete=complete,
            skip_bad=skip_bad,
        )
    ids = added.ids
    emit({"ids": ids, "id": ids[0] if len(ids) == 1 else None}, ids)
    for failure in added.failures:
        message(f"not registered: {clean(failure.name)}: {failure.code}: {failure.message}")
    unusable = [f for f in added.failures if f.code.startswith("image_")]
    if unusable:
        raise InputsUnreadableError(f"{len(unusable)} file(s) not registered")


def _read(path: Path) -> PhotoInput:
    """The file's bytes, or the error that kept them from being read (reported with the rest)."""
    from consentreg import imaging
    from consentreg.errors import ImageError
    from consentreg.services.photos import PhotoInput

    try:
        return PhotoInput(path.name, imaging.read_input(path))
    except ImageError as exc:
        return PhotoInput(path.name, b"", error=exc)


@photo_app.command("tag")
def photo_tag(
    photo_id: str,
    subject: Annotated[str, typer.Option("--subject")],
    region: Annotated[
        str | None, typer.Option("--region", help="X,Y,W,H of the face or person.")
    ] = None,
    not_identifiable: Annotated[
        bool,
        typer.Option(
            "--not-identifiable", help="In the photo but not recognisable: needs no consent."
        ),
    ] = False,
) -> None:
    """Tag a person in a photo.

    Example:

        consentreg photo tag 7c1e... --subject ref:K002 --region 120,80,200,240
    """
    from consentreg.services.photos import tag_photo

    with unit_of_work() as ctx:
        tag_photo(
            ctx,
            photo_id=photo_id,
            subject=subject,
            region=region,
            identifiable=not not_identifiable,
        )
    emit({"photo": photo_id, "tagged": subject}, [])


@photo_app.command("untag")
def photo_untag(photo_id: str, subject: Annotated[str, typer.Option("--subject")]) -> None:
    """Remove a tag.

    Example:

        consentreg photo untag 7c1e... --subject ref:K002
    """
    from consentreg.services.photos import untag_photo

    with unit_of_work() as ctx:
        untag_photo(ctx, photo_id=photo_id, subject=subject)
    emit({"photo": photo_id, "untagged": subject}, [])


@photo_app.command("complete")
def photo_complete(photo_id: str) -> None:
    """Confirm that every identifiable person in the photo is tagged (required to publish).

    Example:

        consentreg photo complete 7c1e...
    """
    from consentreg.services.photos import complete_photo

    with unit_of_work() as ctx:
        complete_photo(ctx, photo_id=photo_id)
    emit({"photo": photo_id, "complete": True}, [])


@photo_app.command("show")
def photo_show(
    photo: Annotated[str, typer.Argument(help="Photo ID, or a file to look up by its bytes.")],
) -> None:
    """Show a photo's register entry and tags.

    Example:

        consentreg photo show IMG_2041.jpg
    """
    from consentreg import imaging
    from consentreg.services.photos import show_photo

    path = Path(photo)
    data = imaging.read_input(path) if path.is_file() else None
    with unit_of_work(writer=False) as ctx:
        view = show_photo(ctx, photo_id=None if data is not None else photo, data=data)
    lines = [
        f"id            {view.id}",
        f"sha256        {view.sha256}",
        f"format        {view.format} {view.width}x{view.height}",
        f"unit          {view.unit or '-'}",
        f"photographer  {clean(view.photographer)}",
        f"original name {clean(view.original_name)}",
        f"complete      {'yes' if view.complete else 'no'}",
    ]
    lines += (
        table(
            ["  TAGGED", "IDENTIFIABLE", "REGION"],
            [
                (f"  {t.person_id}", "yes" if t.identifiable else "no", t.region or "")
                for t in view.tags
            ],
        )
        if view.tags
        else ["  (no one tagged)"]
    )
    emit(view, lines)
