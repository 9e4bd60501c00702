"""photo add|tag|untag|complete|show|detect|faces."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consentreg.i18n import _, msg

from .output import clean, emit, message, table
from .runtime import unit_of_work

if TYPE_CHECKING:
    from consentreg.services.photos import PhotoInput, PhotoView

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
        message(
            msg(
                "not registered: {value}: {failure_code}: {failure_message}",
                value=clean(failure.name),
                failure_code=failure.code,
                failure_message=failure.message,
            )
        )
    if added.unchecked:
        message(
            msg(
                "warning: face detection is not installed: the faces of {n_added_unchecked} photo(s) were not checked and the gate refuses them (faces_unchecked) until `consentreg photo detect FILE` has looked",
                n_added_unchecked=len(added.unchecked),
            )
        )
    unusable = [f for f in added.failures if f.code.startswith("image_")]
    if unusable:
        raise InputsUnreadableError(
            msg("{n_unusable} file(s) not registered", n_unusable=len(unusable))
        )


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
        _row(_("id"), view.id),
        _row(_("sha256"), view.sha256),
        _row(_("format"), f"{view.format} {view.width}x{view.height}"),
        _row(_("unit"), view.unit or "-"),
        _row(_("photographer"), clean(view.photographer)),
        _row(_("original name"), clean(view.original_name)),
        _row(_("complete"), _("yes") if view.complete else _("no")),
    ]
    lines += (
        table(
            ["  TAGGED", "IDENTIFIABLE", "REGION"],
            [
                (f"  {t.person_id}", _("yes") if t.identifiable else _("no"), t.region or "")
                for t in view.tags
            ],
        )
        if view.tags
        else ["  " + _("(no one tagged)")]
    )
    emit(view, lines + _face_lines(view))


def _row(label: str, value: object) -> str:
    """A line of `photo show`: the label (translated) in a column of its own."""
    return f"{label:<13} {value}"


def _face_lines(view: PhotoView) -> list[str]:
    if view.faces is None:
        return [_row(_("faces"), _("not checked (consentreg photo detect FILE)"))]
    found = _("{n} found ({detector})").format(n=len(view.faces), detector=view.face_detector)
    head = [_row(_("faces"), found)]
    if not view.faces:
        return head
    rows = [
        (f"  {f.number}", ",".join(map(str, f.box)), f"{f.score:.2f}", f.covered_by or "-")
        for f in view.faces
    ]
    lines = head + table(["  FACE", "BOX X,Y,W,H", "SCORE", "COVERED BY"], rows)
    uncovered = sum(1 for f in view.faces if f.covered_by is None)
    if uncovered:
        lines.append(
            "  "
            + _(
                "{uncovered} face(s) no tag's region covers; tags without a region account for "
                "{by_count}"
            ).format(uncovered=uncovered, by_count=view.faces_by_count)
        )
    return lines


@photo_app.command("detect")
def photo_detect(
    files: Annotated[list[Path], typer.Argument(help="Files of registered photos.")],
) -> None:
    """Find and store the faces of registered photos whose faces were never checked (registered
    before face detection, or where it was not installed). The register keeps no pixels, so the
    photos are given by their files. A photo already checked is left as it is.

    Example:

        consentreg photo detect IMG_2041.jpg IMG_2042.jpg
    """
    from consentreg.services.faces import detect_photos

    with unit_of_work() as ctx:
        done = detect_photos(ctx, files=[_read(f) for f in files])
    lines = [
        f"{d.photo_id}  "
        + (_("{n} face(s)") if d.done else _("{n} face(s) (already checked)")).format(n=d.faces)
        + f"  {clean(d.name)}"
        for d in done
    ]
    emit({"photos": done}, lines)


@photo_app.command("faces")
def photo_faces(
    photo: Annotated[str, typer.Argument(help="Photo ID, or the photo's file.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The preview to write (a new file).")],
    image: Annotated[
        Path | None,
        typer.Option("--image", help="The photo's file to draw on, when PHOTO is an ID."),
    ] = None,
) -> None:
    """Write a preview (JPEG, mode 0600, never over an existing file) of the photo with the faces
    found drawn and numbered: green with the covering tag's person ID prefix, red with "?" where
    no tag's region covers the face. No names are drawn. The register keeps no pixels: give the
    photo's file (as PHOTO or --image) to draw on it, else the boxes are drawn on a grey frame.

    Example:

        consentreg photo faces IMG_2041.jpg -o faces-2041.jpg
    """
    from consentreg import imaging
    from consentreg.services.faces import write_preview

    path = Path(photo)
    source = path if path.is_file() else image
    data = imaging.read_input(source) if source is not None else None
    by_id = None if path.is_file() else photo
    with unit_of_work(writer=False) as ctx:
        preview = write_preview(ctx, photo=by_id, data=data, out=out)
    if not preview.drawn_on_photo:
        message("the register keeps no pixels: boxes drawn on a grey frame (--image FILE)")
    faces = preview.faces or []
    no_tag = _("? no tag covers it")
    lines = [str(preview.path)] + [
        f"  {f.number}  {','.join(map(str, f.box))}  {f.covered_by or no_tag}" for f in faces
    ]
    emit({"photo": preview.photo_id, "output": str(preview.path), "faces": faces}, lines)
