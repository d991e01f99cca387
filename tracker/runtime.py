"""Process-wide settings for a long batch run (called by entry points, never by library code)."""

from __future__ import annotations

import gc

#: container allocations between young-generation collections (CPython's default is 700)
YOUNG_GC_THRESHOLD = 100_000


def tune_gc_for_batch_work() -> None:
    """Make the cyclic GC cheap for a sync's allocation pattern.

    What start-up loaded lives as long as the process: ``gc.freeze()`` keeps the collector
    from rescanning it. A sync then builds pages of tens of thousands of short-lived,
    acyclic payload objects (dicts, records, row tuples): with the default young threshold
    each page triggers hundreds of collections that traverse the page still in use, about
    a tenth of a Bulk backfill's CPU time. Freed by reference counting anyway, such objects
    need the collector only for cycles, which a higher threshold merely delays.
    """
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), middle, old)
