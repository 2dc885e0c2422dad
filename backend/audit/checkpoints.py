"""Signed checkpoints and digests: incremental verification of every hash-chained table.

A checkpoint records, per chained table, how many rows the chain had (``rows``), its last row (``head_id``) and that
row's hash (``head_hash``), signed with HMAC-SHA256 under a key from the environment (``AUDIT_DIGEST_KEYS``). Taking
one walks only the rows appended since the previous checkpoint, checking that they continue its head: the cost is
proportional to the new rows, never to the whole log.

An auditor keeps a digest (``GET /api/audit/digest/``, the signed checkpoint). Verifying against it later
(``POST /api/audit/verify/``) proves, per table, that its head row is still there with the same hash, and that every
row after it chains on from it. A chain is a commitment: changing any row up to that head, even while recomputing
every hash after it, changes the head hash, so a rewrite after the digest is caught whatever else the attacker
recomputed. What a bounded check does not do is re-hash every old row; an edit that did *not* recompute the chain is
found by the full walk, ``manage.py verify_audit_chain`` (run it from a schedule, not per request).

Keys: ``AUDIT_DIGEST_KEYS`` is ``id:secret[,id:secret...]``; the first signs, all verify, so rotation is: prepend a
new key, keep the old ones as long as digests signed with them must verify, then drop them. Unset, one key derived
from ``SECRET_KEY`` (id ``secret-key``) is used; production should set its own.
"""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from backend.audit.chain import ChainReport, chain_verify_rows, chained_log_models, lock_chain
from backend.audit.models import Checkpoint


class DigestError(ValueError):
    """A digest that is malformed, or not signed by any key we hold."""


def signing_keys() -> dict[str, bytes]:
    """Key id → secret, the signing key first."""
    raw = getattr(settings, "AUDIT_DIGEST_KEYS", "")
    if not raw:
        derived = hashlib.sha256(b"coveris-audit-digest:" + settings.SECRET_KEY.encode()).digest()
        return {"secret-key": derived}
    keys = {}
    for part in raw.split(","):
        key_id, sep, secret = part.strip().partition(":")
        if not sep or not key_id or len(secret) < 32:
            raise ImproperlyConfigured("AUDIT_DIGEST_KEYS must be id:secret[,id:secret...], secrets of 32+ characters.")
        keys[key_id] = secret.encode()
    return keys


def _message(created_at: str, tables: dict) -> bytes:
    return json.dumps({"created_at": created_at, "tables": tables}, sort_keys=True, separators=(",", ":")).encode()


def sign(created_at: str, tables: dict, key_id: str | None = None) -> tuple[str, str]:
    keys = signing_keys()
    key_id = key_id or next(iter(keys))
    return key_id, hmac.new(keys[key_id], _message(created_at, tables), hashlib.sha256).hexdigest()


def digest_of(checkpoint: Checkpoint) -> dict:
    """The signed digest an auditor keeps: exactly what was signed, plus the key id and the signature."""
    return {
        "checkpoint": checkpoint.pk,
        "created_at": checkpoint.created_at.astimezone(datetime.UTC).isoformat(),
        "tables": checkpoint.tables,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def digest_check_signature(digest) -> dict:
    """The digest's tables, once its signature checks out; ``DigestError`` otherwise."""
    if not isinstance(digest, dict):
        raise DigestError("A digest is an object as GET /api/audit/digest/ returned it.")
    created_at, tables, key_id, signature = (digest.get(k) for k in ("created_at", "tables", "key_id", "signature"))
    if not isinstance(created_at, str) or not isinstance(tables, dict) or not isinstance(signature, str):
        raise DigestError("A digest needs created_at, tables, key_id and signature.")
    keys = signing_keys()
    if key_id not in keys:
        raise DigestError("The digest was signed with a key this deployment does not hold.")
    expected = hmac.new(keys[key_id], _message(created_at, tables), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise DigestError("The digest's signature does not match its content.")
    for table, head in tables.items():
        if not (
            isinstance(head, dict) and isinstance(head.get("rows"), int) and isinstance(head.get("head_hash"), str)
        ):
            raise DigestError(f"The digest's entry for {table} is malformed.")
    return tables


def _models_by_table() -> dict:
    return {m._meta.db_table: m for m in chained_log_models()}


def _hash_field(model) -> str:
    return "pgh_hash" if getattr(model, "chain_in_db", False) else "hash"


def last_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def verify_since(tables: dict | None, *, limit: int | None = None) -> list[dict]:
    """Per chained table: the rows after ``tables[table]``'s head (or from the start) checked to chain on from it,
    at most ``limit`` rows per table. A head that is no longer there with the same hash is reported as broken.
    Each report says how many rows it ``checked``: the work done."""
    tables = tables or {}
    reports = []
    for table, model in _models_by_table().items():
        head = tables.get(table) or {"rows": 0, "head_id": None, "head_hash": ""}
        if head["head_id"] is not None:
            stored = model.objects.filter(pk=head["head_id"]).values_list(_hash_field(model), flat=True).first()
            if stored != head["head_hash"]:
                problem = "the head row of the digest is gone" if stored is None else "the head row's hash changed"
                report = ChainReport(table, 0, False, head["head_id"], f"{problem}: the chain was rewritten")
                reports.append({**report.as_dict(), "rows": head["rows"], "head": head})
                continue
        report = chain_verify_rows(model, after_pk=head["head_id"], after_hash=head["head_hash"], limit=limit)
        reports.append(
            {**report.as_dict(), "rows": head["rows"], "head": head, "last": (report.last_id, report.last_hash)}
        )
    return reports


def checkpoint_take() -> tuple[Checkpoint | None, list[dict]]:
    """Verify every table since the last checkpoint and, when all is intact, sign and store a new checkpoint.

    Returns ``(checkpoint, reports)``; the checkpoint is None when a chain is broken (nothing is signed then).
    """
    with transaction.atomic():
        lock_chain(Checkpoint)
        previous = last_checkpoint()
        reports = verify_since(previous.tables if previous else None)
        if not all(r["ok"] for r in reports):
            return None, reports
        tables = {}
        for report in reports:
            last_id, last_hash = report["last"]
            tables[report["table"]] = {
                "rows": report["head"]["rows"] + report["checked"],
                "head_id": last_id,
                "head_hash": last_hash,
            }
        created_at = timezone.now().astimezone(datetime.UTC).isoformat()
        key_id, signature = sign(created_at, tables)
        checkpoint = Checkpoint.objects.create(
            created_at=datetime.datetime.fromisoformat(created_at), tables=tables, key_id=key_id, signature=signature
        )
    return checkpoint, reports
