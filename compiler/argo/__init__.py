"""Stage 5, the Argo emitter: IR in, Argo manifest (plain dicts) out.

It reads only ``ir`` (never the raw document): ``emit`` lays out the Workflow,
``container`` builds each task's leaf template, ``features`` adds the per-task
OSMO features, ``groups`` the nested DAG of a group, ``share`` merges templates of
the same shape, ``size`` measures the result against Argo's limit.
"""

from .emit import EmitOptions, emit
from .size import MAX_WORKFLOW_BYTES, size_diagnostics

__all__ = ["MAX_WORKFLOW_BYTES", "EmitOptions", "emit", "size_diagnostics"]
