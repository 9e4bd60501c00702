"""Tables as the CLI prints them (cli/output.py): every column but the last padded to its widest
cell, header included, two spaces apart, each line's end stripped. `widths` and `padded` let
`audit consents` pad slices read in different processes to one table's widths."""

from __future__ import annotations

from cli.output import aligned, padded, widths

HEADERS = ("ID", "CODE", "NOTE")


def _by_hand(headers: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    """The rule spelled out, one cell at a time."""
    table = [list(headers), *rows]
    wide = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell.ljust(wide[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def test_columns_are_padded_to_their_widest_cell_and_lines_stripped() -> None:
    rows = [["a1", "x", "first"], ["b22222", "%s %d 100%", "  spaced  "], ["c", "", ""]]
    assert aligned(HEADERS, rows) == _by_hand(HEADERS, rows)
    assert aligned(HEADERS, rows) == [
        "ID      CODE        NOTE",
        "a1      x           first",
        "b22222  %s %d 100%    spaced",
        "c",
    ]


def test_cells_given_as_tuples_or_lists_and_wide_characters_align_alike() -> None:
    rows = [("æøå", "Ω", "ok"), ["ü", "🙂", ""]]
    assert aligned(HEADERS, rows) == _by_hand(HEADERS, [list(r) for r in rows])


def test_an_empty_table_is_its_header() -> None:
    assert aligned(HEADERS, []) == ["ID  CODE  NOTE"]


def test_slices_padded_to_the_widest_of_their_widths_make_the_whole_table() -> None:
    first = [["a", "short", "x"], ["b", "s", "y"]]
    second = [["c", "a much longer code", "z"]]
    table = [max(w) for w in zip(widths(HEADERS, first), widths(HEADERS, second), strict=True)]
    joined = padded(table, [HEADERS]) + padded(table, first) + padded(table, second)
    assert joined == aligned(HEADERS, first + second)
    assert widths(HEADERS, first) == [2, 5]  # the last column is never padded
