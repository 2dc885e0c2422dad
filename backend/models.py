"""The ``backend`` app's models: the audit checkpoints (defined with the rest of the audit machinery)."""

from backend.audit.models import Checkpoint

__all__ = ["Checkpoint"]
