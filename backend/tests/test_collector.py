"""``collector_paused`` (ADR 0052): no cyclic collection inside the block, the cycles it left freed when it ends, and
the collector's previous setting back afterwards — also when the block fails."""

import gc
import weakref

import pytest

from backend.collector import collector_paused


class _Node:
    """An object that can be part of a reference cycle (and be weakly referenced)."""


def _cycle() -> weakref.ref:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_cycles_made_inside_outlive_collections_and_are_freed_when_the_block_ends():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        cycle = _cycle()
        kept = [_Node() for _ in range(20_000)]  # many times the youngest generation's threshold of allocations
        assert cycle() is not None  # not collected: only reference counting ran
        del kept
    assert cycle() is None  # the full collection at the end found it
    assert gc.isenabled()


def test_the_collector_is_back_after_a_failure_and_stays_off_if_it_was_off():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("batch failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
