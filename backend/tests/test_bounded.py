"""``BoundedDict``: at most ``max_size`` entries, emptied when full, otherwise a plain dict."""

from backend.bounded import BoundedDict


def test_it_keeps_up_to_its_bound_then_starts_again_empty():
    store = BoundedDict(3)
    for key in "abc":
        store.keep(key, key.upper())
    assert store == {"a": "A", "b": "B", "c": "C"}  # full, nothing dropped before the bound
    store.keep("c", "C2")  # full: a fourth key or a replaced one empties it first
    assert store == {"c": "C2"}
    store.keep("d", "D")
    assert store == {"c": "C2", "d": "D"}
    assert store.get("d") == "D"
    assert store.get("z") is None


def test_the_bound_can_be_changed_on_the_store():
    store = BoundedDict(100)
    store.max_size = 1
    store.keep("a", 1)
    store.keep("b", 2)
    assert store == {"b": 2}
