"""Progress bars on stderr for long work: shown only on a terminal and for more than one item."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[], None]]:
    """Yields `advance()`, to call once per finished item."""
    with counting_bar(label, total) as advance:
        yield lambda: advance(1)


@contextmanager
def counting_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`, to call with the number of items just finished (a backup's rows, a
    batch at a time)."""
    if total <= 1 or not sys.stderr.isatty():
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
