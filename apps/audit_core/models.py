"""The abstract base of every hash-chained, append-only audit table (see ``apps.audit_core.chain``)."""

from django.db import models

from apps.audit_core.db import AppendOnlyModel


class ChainedModel(AppendOnlyModel):
    """An append-only row whose ``hash`` covers its content and the previous row's hash (per table).

    Subclasses say what the hash covers by overriding ``chain_payload``; by default every concrete field but
    the id and the two hash columns. Every concrete subclass is verified by ``manage.py verify_audit_chain``.
    """

    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        abstract = True

    def chain_payload(self) -> dict:
        """The content the row's hash covers (besides its table name and ``prev_hash``)."""
        skip = {"id", "prev_hash", "hash"}
        return {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields if f.attname not in skip}
