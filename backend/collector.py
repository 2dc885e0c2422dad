"""``collector_paused()``: no cyclic garbage collection inside a bulk load's batch, one full collection after it.

CPython frees an object when its last reference goes (reference counting); the cyclic collector only finds groups
of objects that refer to each other and nothing else does. It runs whenever allocations outnumber deallocations by
its threshold, and every so often it walks every tracked object the process holds. A bulk load allocates millions of
objects that stay alive until its batch commits, so the collector keeps walking them and finds almost nothing:
``seed_demo`` at 10,000 employees spent about 4 s of its 16.5 s of Python CPU in it (23 full collections, 3.5 s),
and the peak memory was the same with it off (about 294 MB either way; docs/benchmarks.md, "seed_demo: ADR 0052").
So a batch runs with the collector off and ends with one full collection, which frees whatever cycles the batch left;
the collector is on again afterwards (unless it was off before). Reference counting goes on as always.
"""

import contextlib
import gc


@contextlib.contextmanager
def collector_paused():
    """The cyclic garbage collector off inside the block; one full collection and the previous setting after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()
