"""Audit machinery every app may use: append-only tables, the hash chain, signed checkpoints, the app role's grants.

Plumbing like the rest of ``backend``: it imports no domain app, so every app may depend on it without a cycle. Its
one model, ``Checkpoint``, belongs to the ``backend`` app (``backend/models.py``) and keeps its table name.
"""
