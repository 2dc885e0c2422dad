"""``BoundedDict``: a per-process store of answers worked out once, emptied when full.

Several hot paths keep, per process, what they worked out from client input: verified access tokens by their bytes
(ADR 0031), decoded user snapshots by their bytes and content negotiation's answer by ``Accept`` header (ADR 0051).
The keys come from clients, so each store is bounded; the rule is the same everywhere — when full, start again empty
(a client sending ever new keys costs speed, not memory; a busy worker sees far fewer live keys than the bound). It is
a ``dict``, so reads stay the built-in ``get``/``pop``/``clear``.
"""


class BoundedDict(dict):
    """A ``dict`` holding at most ``max_size`` entries: ``keep`` empties it first when it is full."""

    def __init__(self, max_size: int):
        super().__init__()
        self.max_size = max_size

    def keep(self, key, value) -> None:
        if len(self) >= self.max_size:
            self.clear()
        self[key] = value
