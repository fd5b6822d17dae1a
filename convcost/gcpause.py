"""Pausing Python's cyclic garbage collector while a large, acyclic structure is built.

Each collection of the oldest generation walks every tracked object, and the collector runs
one whenever enough new objects survive: building a spec of 100,000 layers (a million tree
values, then the network) ran dozens of full walks over a growing heap, which made loading and
building superlinear in the number of layers. The trees, networks and reports convcost builds
hold no reference cycles, so nothing is left for the collector to free; reference counting
frees them as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the ``with`` block (left as it was found on exit)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
