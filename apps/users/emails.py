"""The one spelling of a login email that Coveris stores, matches and throttles on."""


def login_email(value: str) -> str:
    """Trimmed and lower-cased; lookups then compare it exactly.

    Never match emails with a database's case-insensitive lookup: PostgreSQL's ``UPPER()`` folds look-alikes
    together (``'ı'`` and ``'i'``, ``'ſ'`` and ``'s'``), so ``admın@bıg.test`` would sign in as
    ``admin@big.test``, dodge the per-email login throttle, or find two users and fail.
    """
    return value.strip().lower()
