"""The command-line contract (CONTRACT.md): exit codes, --json, stdout/stderr, documentation."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from PIL import Image

from cli.main import app
from tests.cli.conftest import Invoke, born_years_ago, school_year_start

NOTICE = "Vi publiserer bilder på Facebook-siden til Solsikken barnehage.\n"


def photo_file(
    path: Path, colour: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (2400, 1600)
) -> Path:
    Image.new("RGB", size, colour).save(path, "JPEG", quality=90, comment=b"Emma Nordmann")
    return path


@pytest.fixture
def scenario(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    assert (
        cli("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice).exit_code
        == 0
    )
    ids = {
        "child": cli(
            "person",
            "add",
            "--name",
            "Emma Nordmann",
            "--born",
            born_years_ago(5),
            "--unit",
            "bhg",
            "--ref",
            "K001",
        ).stdout.strip(),
        "mother": cli(
            "person", "add", "--name", "Åse Nordmann", "--born", "1988-01-01", "--kind", "adult"
        ).stdout.strip(),
    }
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    ids["consent"] = cli(
        "consent",
        "grant",
        ids["child"],
        "--purpose",
        "facebook",
        "--by",
        ids["mother"],
        "--given",
        school_year_start().isoformat(),  # a paper form from the start of this school year
    ).stdout.strip()
    ids["photo_path"] = str(photo_file(tmp_path / "IMG_2041_Emma_Nordmann.jpg"))
    ids["photo"] = cli(
        "photo",
        "add",
        ids["photo_path"],
        "--photographer",
        "Kari Lærer",
        "--subject",
        ids["child"],
        "--complete",
    ).stdout.strip()
    return ids


def test_add_commands_print_the_new_id_alone_or_as_json(cli: Invoke) -> None:
    plain = cli("unit", "add", "bhg", "--name", "Solsikken")
    as_json = cli("--json", "unit", "add", "skole", "--name", "Skolen")
    assert re.fullmatch(r"[0-9a-f]{32}\n", plain.stdout)
    assert set(as_json.json()) == {"id"}


def test_a_consented_photo_is_released_clean_under_a_neutral_name(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "ready"
    result = cli("--json", "publish", scenario["photo_path"], "--purpose", "facebook", "--out", out)
    assert result.exit_code == 0, result.stderr
    (item,) = result.json()["results"]
    assert item["decision"] == "released"
    assert item["reasons"] == []
    released = Path(item["output"])
    assert released.parent == out
    assert os.listdir(out) == [released.name]
    assert "Emma" not in released.name
    assert "IMG" not in released.name
    assert released.name == f"{item['publication_id']}.jpg"
    data = released.read_bytes()
    assert b"Emma" not in data
    with Image.open(released) as im:
        assert max(im.size) == 1280


def test_a_refusal_exits_3_and_lists_every_reason_per_person(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    result = cli(
        "publish",
        scenario["photo_path"],
        "--purpose",
        "facebook",
        "--out",
        tmp_path / "o",
        "--caption",
        "Emma Nordmann på tur",
    )
    assert result.exit_code == 3
    assert "caption_full_name" in result.stdout
    assert f"Emma Nordmann ({scenario['child'][:8]})" in result.stdout  # named for the reader
    assert not list((tmp_path / "o").iterdir())


def test_withdraw_prints_the_take_down_list(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    released = cli(
        "--json",
        "publish",
        scenario["photo_path"],
        "--purpose",
        "facebook",
        "--out",
        tmp_path / "o",
    )
    pub = released.json()["results"][0]["publication_id"]
    result = cli("--json", "consent", "withdraw", scenario["consent"], "--reason", "e-post")
    assert result.exit_code == 0
    assert [i["publication_id"] for i in result.json()["takedown"]] == [pub]
    check = cli("check", scenario["photo_path"], "--purpose", "facebook")
    assert check.exit_code == 3
    assert "consent_withdrawn" in check.stdout
    assert cli("takedown", "done", pub).exit_code == 0
    assert cli("--json", "takedown", "list").json() == {"takedown": []}


def test_one_bad_file_in_a_batch_does_not_stop_the_rest(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Path(scenario["photo_path"]).rename(folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = cli(
        "--json", "publish", folder, "--purpose", "facebook", "--out", tmp_path / "o", "--jobs", "2"
    )
    decisions = {Path(r["input"]).name: r["decision"] for r in result.json()["results"]}
    assert decisions == {"a.jpg": "released", "b.jpg": "refused"}
    assert result.exit_code == 3


def test_after_a_refusal_the_rest_of_a_batch_is_checked_before_it_is_rendered(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs are rendered first and decided when recorded; once one is refused, the rest are
    pre-checked, so a batch of unregistered photos is not rendered for nothing."""
    from consentreg.imaging import rendering

    rendered: list[int] = []
    real = rendering.render_release

    def counting(data: bytes, *, max_px: int) -> Any:
        rendered.append(len(data))
        return real(data, max_px=max_px)

    monkeypatch.setattr(rendering, "render_release", counting)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, colour in enumerate([(1, 2, 3), (4, 5, 6), (7, 8, 9)]):
        photo_file(folder / f"a{i}.jpg", colour, (64, 48))  # never registered: refused
    Path(scenario["photo_path"]).rename(folder / "b.jpg")
    result = cli(
        "--json", "publish", folder, "--purpose", "facebook", "--out", tmp_path / "o", "--jobs", "1"
    )
    decisions = {Path(r["input"]).name: r["decision"] for r in result.json()["results"]}
    assert decisions == {"a0.jpg": "refused", "a1.jpg": "refused", "a2.jpg": "refused"} | {
        "b.jpg": "released"
    }
    assert len(rendered) == 2  # a0 (before anything was refused) and b


def test_an_unreadable_input_is_an_image_error_with_exit_5(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(Path(scenario["photo_path"]).read_bytes()[:500])
    result = cli("photo", "add", broken, "--photographer", "Kari")
    assert result.exit_code == 5
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    missing = cli("--json", "check", tmp_path / "missing.jpg", "--purpose", "facebook")
    assert missing.exit_code == 5
    assert missing.json()["results"][0]["decision"] == "error"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("person", "add", "--name", "Ola", "--born", "2021-02-30"), 2),
        (("consent", "grant", "ref:K001", "--purpose", "nope", "--by", "ref:K001"), 2),
        (("consent", "withdraw", "0" * 32), 4),
        (("person", "show", "ref:K999"), 4),
        (("photo", "show", "0" * 32), 4),
        (("check", "x.jpg"), 2),
    ],
)
def test_errors_have_their_exit_codes_and_one_line_on_stderr(
    cli: Invoke, scenario: dict[str, str], args: tuple[str, ...], code: int
) -> None:
    result = cli(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "2021-02-30" not in result.stderr


def test_errors_in_json_mode_are_one_json_document(cli: Invoke) -> None:
    result = cli("--json", "consent", "withdraw", "0" * 32)
    assert result.exit_code == 4
    assert result.json()["error"]["exit_code"] == 4


def test_a_schema_behind_head_exits_6(cli: Invoke, db_url: str) -> None:
    from sqlalchemy import text

    from consentreg.db.engine import make_engine

    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    engine.dispose()
    result = cli("unit", "list")
    assert result.exit_code == 6
    assert "consentreg db upgrade" in result.stderr
    assert cli("db", "check").exit_code == 6


def test_a_key_file_readable_by_others_is_refused(cli: Invoke, home: Path) -> None:
    (home / "master.key").chmod(0o644)
    result = cli("unit", "list")
    assert result.exit_code == 2
    assert "chmod 600" in result.stderr


def test_init_is_idempotent_and_creates_private_key_files(cli: Invoke, home: Path) -> None:
    key = (home / "master.key").read_bytes()
    assert cli("init").exit_code == 0
    assert (home / "master.key").read_bytes() == key
    assert (home / "master.key").stat().st_mode & 0o077 == 0
    assert (home / "signing.key").stat().st_mode & 0o077 == 0


def test_registered_names_are_nowhere_in_the_home_folder(
    cli: Invoke, scenario: dict[str, str], home: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "skjema.txt"
    evidence.write_text("Signert av Åse Nordmann for Emma Nordmann\n", encoding="utf-8")
    assert (
        cli(
            "consent",
            "grant",
            scenario["child"],
            "--purpose",
            "facebook",
            "--by",
            scenario["mother"],
            "--evidence",
            evidence,
        ).exit_code
        == 0
    )
    cli("person", "restrict", scenario["child"], "--reason", "Emma bor på sperret adresse")
    assert cli("person", "list", "--name", "nordmann").stdout.count("Nordmann") == 2
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for name in ("Emma", "Nordmann", "Kari", "Lærer", "IMG_2041"):
                assert name.encode() not in data, f"{name} found in {path.name}"


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


COMMANDS = _commands(typer.main.get_command(app))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example_and_is_in_the_readme(
    path: tuple[str, ...], command: Any
) -> None:
    assert command.help
    assert "Example:" in command.help
    example = command.help.split("Example:")[1]
    assert f"consentreg {' '.join(path)}" in example
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"consentreg {' '.join(path)}" in readme


def test_help_does_not_import_the_database_or_imaging_libraries() -> None:
    code = (
        "import sys; import cli.main; "
        "print(sorted(m for m in ('sqlalchemy', 'PIL', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_control_characters_in_file_names_are_not_printed(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    hostile = tmp_path / "evil\x1b[2Jname.jpg"
    hostile.write_bytes(io.BytesIO(b"x").getvalue())
    result = cli("check", hostile, "--purpose", "facebook")
    assert "\x1b" not in result.stdout + result.stderr
