"""Work that holds hundreds of thousands of objects at once: the cyclic garbage collector paused.

Reading and replaying a whole audit log, or a municipality's register as of an instant, builds
millions of rows, tuples and strings. CPython's collector re-scans every object still alive at
each full collection. Nothing built there forms reference cycles (reference counting frees it
all), so the collector is paused for the work and back on afterwards.

Stdlib only, and cheap to import: a command pauses the collector before it imports SQLAlchemy
and the services, whose import alone runs many collections.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (and back on after it, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
