"""The abstract base of every hash-chained, append-only audit table (see ``backend.audit.chain``)."""

from django.db import DEFAULT_DB_ALIAS, models, transaction

from backend.audit.db import AppendOnlyModel, AppendOnlyQuerySet, append_only_triggers
from backend.bulk_copy import copy_insert
from backend.instances import FastLoading


class ChainedQuerySet(AppendOnlyQuerySet):
    """``bulk_create`` chains the new rows in list order (one lock, one read of the last hash) and writes them with
    ``COPY`` on PostgreSQL (``backend.bulk_copy``), each row sealed as it is sent."""

    def bulk_create(self, objs, batch_size=None, **kwargs):
        from backend.audit import chain

        objs = list(objs)
        if not objs or all(obj.hash for obj in objs):
            return super().bulk_create(objs, batch_size=batch_size, **kwargs)
        with transaction.atomic(using=self.db):
            seal = chain.chain_sealer(self.model)
            if kwargs or self.db != DEFAULT_DB_ALIAS:
                for obj in objs:
                    seal(obj)
                created = super().bulk_create(objs, batch_size=batch_size, **kwargs)
            else:
                # COPY on PostgreSQL (ids taken in list order under the chain lock), else bulk_create (ADR 0032); each
                # row sealed as it is sent, so the server stores rows while Python hashes the next ones (ADR 0043).
                created = copy_insert(self.model, objs, batch_size=batch_size, prepare=seal)
            chain.check_id_order(self.model, created)
        return created


class ChainedModel(FastLoading, AppendOnlyModel):
    """An append-only row whose ``hash`` covers its content and the previous row's hash (per table).

    Every insert is chained, whoever makes it: ``save()`` and ``objects.bulk_create`` take the table's chain lock,
    read the last hash and seal the row (``backend.audit.chain``), so services need no special call. Subclasses
    may narrow what the hash covers by overriding ``chain_payload``; by default every concrete field but the id
    and the two hash columns, null values left out (so a nullable column added later keeps old rows valid).
    Every concrete subclass is verified by ``manage.py verify_audit_chain`` and ``/api/audit/verify/``.
    """

    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, unique=True)

    objects = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def chain_payload(self) -> dict:
        """The content the row's hash covers (besides its table name and ``prev_hash``)."""
        from backend.audit.chain import default_payload

        return default_payload(self)

    def save(self, *args, **kwargs):
        if self._state.adding and not self.hash:
            from backend.audit import chain

            with transaction.atomic(using=kwargs.get("using")):
                chain.seal_many(type(self), [self])
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)


class Checkpoint(AppendOnlyModel):
    """A signed statement of every chained table's length and head at one moment (``backend.audit.checkpoints``).

    ``tables`` maps each table to ``{"rows", "head_id", "head_hash"}``; ``signature`` is HMAC-SHA256 over the
    canonical JSON of ``created_at`` and ``tables`` with the key named ``key_id``. Append-only like the logs.
    """

    created_at = models.DateTimeField()
    tables = models.JSONField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)

    class Meta:
        # The table kept the name it had when the model lived in the ``audit_core`` app (backend/migrations/0001).
        db_table = "audit_core_checkpoint"
        ordering = ["id"]
        triggers = append_only_triggers()

    def __str__(self) -> str:
        return f"checkpoint {self.pk} @ {self.created_at:%Y-%m-%d %H:%M:%S}"
