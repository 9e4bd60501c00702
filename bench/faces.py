"""How well face detection finds faces (R17): recall, false positives and time per photo on a
labelled set, written to bench/results/faces.md (BENCHMARKS.md includes it).

The labelled set (bench/faces_manifest.json) has two halves:
- composed scenes from scikit-image's public-domain data: the `lfw_subset` faces (100 faces,
  100 non-face patches, 25x25 grey) pasted as group photos, as small faces at children's scale
  in a large frame, rotated (a child lying down, a tilted head), and as a printed poster on a
  wall; the `astronaut`; scenes without faces (the package's other photos, the lfw non-face
  patches as a collage). They are rebuilt here, deterministically, from the manifest's recipe;
  the boxes are where the faces were pasted.
- the real photos of ../shared/corpus (camera samples), each looked at and labelled by hand:
  boxes of the faces a person would count (a face turned away is none; a printed face on a
  poster or advertisement is one: the gate counts it). A painting and an anime drawing are
  left out as ambiguous.

A detection matches a labelled face as a tag's region covers a face (docs/rules.md, "Faces"):
the smaller box at least half inside the other, or IoU at least 0.3, one to one.

    python bench/faces.py                   # measure, print, write bench/results/faces.md
    python bench/faces.py --write-manifest  # rebuild the composed half's boxes (after a change)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consentreg.domain.faces import Box, FaceTag, cover  # noqa: E402
from consentreg.imaging import faces  # noqa: E402

MANIFEST = ROOT / "bench" / "faces_manifest.json"
REPORT = ROOT / "bench" / "results" / "faces.md"
CORPUS = ROOT.parent / "shared" / "corpus"


def _skimage_file(name: str) -> Path:
    for file in importlib.metadata.files("scikit-image") or ():
        if file.name == name and file.parent.name == "data":
            return Path(str(file.locate()))
    raise FileNotFoundError(name)


def _lfw() -> Any:
    return np.load(_skimage_file("lfw_subset.npy"))


def _lfw_patch(index: int, size: int) -> Image.Image:
    grey = (_lfw()[index] * 255).astype("uint8")
    return Image.fromarray(grey).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _scene(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A plain outdoor scene: sky, ground, a few blocks (no faces)."""
    w, h = size
    image = Image.new("RGB", size, (rng.randint(120, 170), rng.randint(160, 200), 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, h * 2 // 3, w, h), fill=(60, rng.randint(120, 160), 60))
    for _ in range(4):
        x, y = rng.randint(0, w - 100), rng.randint(h // 3, h * 2 // 3)
        draw.rectangle(
            (x, y, x + rng.randint(60, 300), y + rng.randint(40, 200)), fill=(150, 90, 60)
        )
    return image


def _body(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    x, y, w, h = box
    colour = (rng.randint(30, 220), rng.randint(30, 220), rng.randint(30, 220))
    draw.rounded_rectangle((x - w // 3, y + h, x + w + w // 3, y + 4 * h), w // 4, fill=colour)


def compose(recipe: dict[str, Any]) -> tuple[Image.Image, list[Box]]:
    """A composed image and the boxes of the faces in it."""
    kind, seed = str(recipe["kind"]), int(str(recipe["seed"]))
    rng = random.Random(seed)  # noqa: S311 - layout, not secrets
    if kind == "group":
        return _group(rng, int(str(recipe["faces"])), int(str(recipe["size"])), (1600, 1000))
    if kind == "small":
        return _group(rng, int(str(recipe["faces"])), int(str(recipe["size"])), (3000, 2000))
    if kind == "rotated":
        return _rotated(rng, int(str(recipe["angle"])))
    if kind == "astronaut":
        with Image.open(_skimage_file("astronaut.png")) as im:
            return im.convert("RGB"), [(168, 60, 115, 125)]
    if kind == "camera":
        with Image.open(_skimage_file("camera.png")) as im:
            return im.convert("RGB"), [(200, 115, 80, 85)]
    if kind == "poster":
        return _poster(rng)
    if kind == "skimage":
        with Image.open(_skimage_file(str(recipe["file"]))) as im:
            return im.convert("RGB"), []
    if kind == "patches":
        return _patches(rng)
    raise ValueError(kind)


def _group(
    rng: random.Random, count: int, size: int, frame: tuple[int, int]
) -> tuple[Image.Image, list[Box]]:
    image = _scene(frame, rng)
    draw = ImageDraw.Draw(image)
    cols = max(1, int((count * frame[0] / frame[1]) ** 0.5 + 0.5))
    rows = -(-count // cols)
    cell_w, cell_h = frame[0] // cols, frame[1] // (rows + 1)
    boxes: list[Box] = []
    for n, index in enumerate(rng.sample(range(100), count)):
        side = rng.randint(int(size * 0.8), int(size * 1.2))
        col, row = n % cols, n // cols
        x = col * cell_w + rng.randint(0, max(0, cell_w - side))
        y = row * cell_h + rng.randint(0, max(0, cell_h - side - side // 2))
        box = (x, y, side, side)
        _body(draw, box, rng)
        image.paste(_lfw_patch(index, side), (x, y))
        boxes.append(box)
    return image, boxes


def _rotated(rng: random.Random, angle: int) -> tuple[Image.Image, list[Box]]:
    image = _scene((1200, 900), rng)
    boxes: list[Box] = []
    for n, index in enumerate(rng.sample(range(100), 3)):
        patch = _lfw_patch(index, 140).rotate(angle, expand=True, fillcolor=(200, 170, 150))
        x, y = 100 + n * 350, 300
        image.paste(patch, (x, y))
        boxes.append((x, y, patch.size[0], patch.size[1]))
    return image, boxes


def _poster(rng: random.Random) -> tuple[Image.Image, list[Box]]:
    """A wall with a poster of a face (printed: the gate counts it) and nobody else."""
    image = Image.new("RGB", (1400, 1000), (200, 190, 170))
    draw = ImageDraw.Draw(image)
    draw.rectangle((380, 120, 1020, 900), fill=(250, 250, 245), outline=(20, 20, 20), width=6)
    with Image.open(_skimage_file("astronaut.png")) as im:
        head = im.convert("RGB").crop((120, 0, 360, 300))
    image.paste(head, (580, 200))
    for line in range(5):
        draw.rectangle(
            (440, 560 + 60 * line, 960 - rng.randint(0, 200), 585 + 60 * line), fill=(30, 30, 30)
        )
    return image, [(580 + 168 - 120, 200 + 60, 115, 125)]


def _patches(rng: random.Random) -> tuple[Image.Image, list[Box]]:
    """The 100 lfw non-face patches (no faces) on one scene."""
    image = _scene((1500, 1000), rng)
    for n, index in enumerate(range(100, 200)):
        image.paste(_lfw_patch(index, 80), (30 + (n % 14) * 105, 30 + (n // 14) * 120))
    return image, []


RECIPES: list[dict[str, Any]] = [
    *(
        {"kind": "group", "faces": n, "size": s, "seed": n * 10 + s}
        for n, s in [(3, 160), (5, 130), (8, 110), (12, 90), (20, 70)]
    ),
    *(
        {"kind": "small", "faces": n, "size": s, "seed": 1000 + s}
        for n, s in [(12, 60), (15, 44), (20, 32), (20, 24)]
    ),
    *({"kind": "rotated", "angle": a, "seed": 2000 + a} for a in (20, -30, 45, 90)),
    {"kind": "astronaut", "seed": 0},
    {"kind": "camera", "seed": 0},
    {"kind": "poster", "seed": 7},
    *(
        {"kind": "skimage", "file": f, "seed": 0}
        for f in [
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "horse.png",
            "motorcycle_left.png",
            "hubble_deep_field.jpg",
            "page.png",
            "text.png",
            "coins.png",
            "brick.png",
            "grass.png",
            "gravel.png",
            "retina.jpg",
            "ihc.png",
            "moon.png",
            "logo.png",
            "color.png",
        ]
    ),
    {"kind": "patches", "seed": 3},
]


@dataclass
class Result:
    name: str
    group: str
    labelled: int
    found: int
    matched: int
    seconds: float


def _match(labelled: list[Box], found: list[Box]) -> int:
    tags = [FaceTag(str(i), box) for i, box in enumerate(labelled)]
    return sum(1 for who in cover(found, tags).covered_by if who is not None)


def _entries() -> list[dict[str, Any]]:
    return list(json.loads(MANIFEST.read_text(encoding="utf-8"))["images"])


def _data(entry: dict[str, Any]) -> tuple[bytes, list[Box]]:
    boxes: list[Box] = [(b[0], b[1], b[2], b[3]) for b in entry["faces"]]
    if "corpus" in entry:
        return (CORPUS / str(entry["corpus"])).read_bytes(), boxes
    image, built = compose(entry["recipe"])
    if built != boxes:
        raise SystemExit(f"{entry['name']}: the recipe no longer builds the manifest's boxes")
    return _png(image), boxes


def measure() -> list[Result]:
    detector = faces.load_detector()
    results = []
    for entry in _entries():
        data, labelled = _data(entry)
        faces.detect_faces(data, detector)  # warm: the decoder and the interpreter
        times = []
        for _ in range(3):
            start = time.perf_counter()
            scan = faces.detect_faces(data, detector)
            times.append(time.perf_counter() - start)
        found = [(f.x, f.y, f.w, f.h) for f in scan.faces]
        results.append(
            Result(
                str(entry["name"]),
                str(entry["group"]),
                len(labelled),
                len(found),
                _match(labelled, found),
                statistics.median(times),
            )
        )
    return results


def report(results: list[Result]) -> str:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    rows = []
    for group, items in [*groups.items(), ("all", results)]:
        labelled = sum(r.labelled for r in items)
        matched = sum(r.matched for r in items)
        false = sum(r.found - r.matched for r in items)
        recall = f"{matched / labelled:.1%}" if labelled else "-"
        no_face = [r for r in items if r.labelled == 0]
        clean = f"{sum(1 for r in no_face if r.found == 0)} of {len(no_face)}" if no_face else "-"
        times = sorted(r.seconds for r in items)
        rows.append(
            f"| {group} | {len(items)} | {labelled} | {matched} | {recall} | {false} | {clean} "
            f"| {statistics.median(times) * 1000:.0f} | {times[-1] * 1000:.0f} |"
        )
    misses = [
        f"| {r.name} | {r.labelled} | {r.matched} | {r.found - r.matched} |"
        for r in results
        if r.matched < r.labelled or r.found > r.matched
    ]
    return "\n".join(
        [
            "## Face detection (R17): recall, false positives, time",
            "",
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `bench/faces.py` on "
            f"{platform.machine()}, Python {platform.python_version()}, detector "
            f"`{faces.load_detector().name}` (score >= {faces.MIN_SCORE}), one thread. The labelled "
            "set is bench/faces_manifest.json. A detection matches a labelled face when the smaller "
            "box is at least half inside the other or their IoU is at least 0.3 (one to one).",
            "",
            "Detection runs once per photo, at `photo add`, and these are its times (the median "
            "of 3 runs, detector loaded); `check` and `publish` only compare the stored boxes "
            "with the tags (about 0.1 ms per photo), so publish's ratio to vipsthumbnail does "
            "not include them.",
            "",
            "| set | images | faces labelled | found | recall | false positives | no-face images clean "
            "| median ms/image | max ms/image |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Images with a miss or a false positive:",
            "",
            "| image | faces labelled | found | false positives |",
            "|---|---|---|---|",
            *misses,
            "",
        ]
    )


def write_manifest() -> None:
    """The composed half rebuilt from RECIPES; the corpus half kept as labelled by hand."""
    kept = [e for e in _entries() if "corpus" in e] if MANIFEST.exists() else []
    composed = []
    for recipe in RECIPES:
        _, boxes = compose(recipe)
        name = "-".join(str(recipe[k]) for k in recipe if k != "seed")
        group = {
            "skimage": "no faces",
            "patches": "no faces",
            "small": "small faces",
            "rotated": "rotated",
            "poster": "printed faces",
        }.get(str(recipe["kind"]), "faces")
        if recipe["kind"] == "group":
            group = "group photos"
        composed.append({"name": name, "group": group, "recipe": recipe, "faces": boxes})
    document = {"images": [*composed, *kept]}
    MANIFEST.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-manifest", action="store_true")
    args = parser.parse_args()
    if args.write_manifest:
        write_manifest()
        return
    text = report(measure())
    REPORT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
