"""`consentreg import people --update [--dry-run]` through the real entry point: what it says
it would change, that a dry run writes nothing, and exit 2 for a ref nobody has."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, born_years_ago


@pytest.fixture
def files(cli: Invoke, tmp_path: Path) -> dict[str, Path]:
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    born = born_years_ago(5)
    first = tmp_path / "people.csv"
    first.write_text(
        f"ref,name,born,kind,unit\nK001,Emma Sæther,{born},child,bhg\n"
        f"K002,Jonas Berg,{born},child,bhg\n",
        encoding="utf-8",
    )
    assert cli("import", "people", str(first)).exit_code == 0
    corrected = tmp_path / "rettet.csv"
    corrected.write_text(
        f"ref,name,born,kind,unit\nK001,Emma Sæther-Hansen,{born},child,bhg\n"
        f"K002,Jonas Berg,{born},child,bhg\n",
        encoding="utf-8",
    )
    return {"first": first, "corrected": corrected}


def test_the_file_imported_again_without_update_fails_and_with_update_corrects(
    cli: Invoke, files: dict[str, Path]
) -> None:
    again = cli("import", "people", str(files["corrected"]))
    assert again.exit_code == 2
    assert "line 2, column ref: is already used" in again.stderr
    dry = cli("import", "people", "--update", "--dry-run", str(files["corrected"]))
    assert dry.exit_code == 0, dry.stderr
    assert "1 people would be corrected; nothing was written, 1 rows unchanged" in dry.stderr
    assert "line 2  ref K001" in dry.stdout
    assert dry.stdout.strip().endswith("name")
    assert "Emma" not in dry.stdout
    assert cli("--json", "person", "show", "ref:K001").json()["name"] == "Emma Sæther"
    done = cli("--json", "import", "people", "--update", str(files["corrected"])).json()
    assert (done["dry_run"], done["checked"], done["unchanged"]) == (False, 2, 1)
    assert [(c["line"], c["ref"], c["fields"]) for c in done["corrected"]] == [
        (2, "K001", ["name"])
    ]
    assert cli("--json", "person", "show", "ref:K001").json()["name"] == "Emma Sæther-Hansen"
    history = cli("--json", "audit", "subject", "ref:K001").json()
    assert [c["fields"] for c in history["corrections"]] == [["name"]]
    assert cli("audit", "verify").exit_code == 0


def test_an_update_row_whose_ref_does_not_exist_is_exit_2_and_writes_nothing(
    cli: Invoke, files: dict[str, Path], tmp_path: Path
) -> None:
    content = files["corrected"].read_text(encoding="utf-8") + "K404,Ny Person,2020-01-01,,\n"
    path = tmp_path / "ukjent.csv"
    path.write_text(content, encoding="utf-8")
    result = cli("import", "people", "--update", str(path))
    assert result.exit_code == 2
    assert "line 4, column ref: no person has this ref" in result.stderr
    assert cli("--json", "person", "show", "ref:K001").json()["name"] == "Emma Sæther"
    assert "Ny Person" not in result.stderr
