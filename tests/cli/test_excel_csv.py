"""CSV files as Norwegian Excel saves them: `;` between columns, dd.mm.yyyy dates, Windows-1252
text, bokmål headings and values; `import template` prints what Excel opens; `--dry-run`
checks a file and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke, born_years_ago


def _excel(path: Path, lines: list[str]) -> Path:
    path.write_bytes("\r\n".join(lines).encode("cp1252") + b"\r\n")
    return path


def _dotted(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}.{month}.{year}"


def test_a_norwegian_excel_file_imports_as_saved(cli: Invoke, tmp_path: Path) -> None:
    assert cli("unit", "add", "solsikken", "--name", "Solsikken").exit_code == 0
    people = _excel(
        tmp_path / "personer.csv",
        [
            "Referanse;Navn;Fødselsdato;Type;Avdeling",
            f"K1;Åse Ørnes;{_dotted(born_years_ago(4))};barn;solsikken",
            "F1;Pål Ærlig;02.05.1988;voksen;",
        ],
    )
    checked = cli("--json", "import", "people", "--dry-run", people)
    assert checked.exit_code == 0, checked.stderr
    assert checked.json() == {"imported": 0, "checked": 2, "dry_run": True}
    assert "nothing was written" in checked.stderr
    assert cli("--json", "person", "list").json()["people"] == []
    assert cli("import", "people", people).exit_code == 0
    listed = {p["ref"]: p for p in cli("--json", "person", "list").json()["people"]}
    assert listed["K1"]["name"] == "Åse Ørnes"
    assert listed["K1"]["kind"] == "child"
    assert listed["K1"]["born"] == born_years_ago(4)
    assert listed["F1"]["kind"] == "adult"
    guardians = _excel(
        tmp_path / "foresatte.csv", ["barn_ref\tforesatt_ref\tforeldreansvar", "K1\tF1\tja"]
    )
    assert cli("import", "guardians", guardians).exit_code == 0


def test_bad_excel_input_names_line_and_column_and_writes_nothing(
    cli: Invoke, tmp_path: Path
) -> None:
    cases = {
        "date.csv": (
            "ref;navn;fødselsdato\r\nK1;Ola N;31.02.2020\r\n".encode("cp1252"),
            "line 2, column born: is not a date",
        ),
        "byte.csv": (b"ref;navn;f\xf8dselsdato\r\nK1;Ola\x81;2020-01-01\r\n", "line 2: byte 0x81"),
        "utf16.csv": ("ref,name,born\n".encode("utf-16"), "UTF-16"),
        "twice.csv": (b"ref;navn;name;born\r\n", "repeated name"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = cli("import", "people", path)
        assert result.exit_code == 2, (name, result.stderr)
        assert expected in result.stderr, (name, result.stderr)
    assert cli("--json", "person", "list").json()["people"] == []


def test_the_template_opens_in_excel_and_reads_back(cli: Invoke, tmp_path: Path) -> None:
    result = cli("import", "template", "people")
    assert result.exit_code == 0
    assert result.stdout == "\ufeffreferanse;navn;fødselsdato;type;avdeling\r\n"
    assert (
        json.loads(cli("--json", "import", "template", "consents").stdout)["columns"][1] == "formål"
    )
    empty = tmp_path / "personer.csv"
    empty.write_text(result.stdout, encoding="utf-8")
    assert cli("--json", "import", "people", empty).json()["imported"] == 0
    assert cli("import", "template", "photos").exit_code == 2
