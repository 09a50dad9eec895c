"""Settings of the Python runtime for dothi's long-running processes."""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 10_000
"""Allocations between collections of the youngest generation (Python's default: 700)."""


def tune_garbage_collector() -> None:
    """Fewer and cheaper garbage collections, for a server or worker that has started.

    The objects alive now (modules, metadata, the app) are frozen out of the collector's
    scans, and young collections run less often. Measured on the ingest pipeline, the
    collector took 15 % of the time with Python's defaults and 2 % with these.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, 10)
