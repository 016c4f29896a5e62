"""Stage 5, the Argo emitter: IR in, Argo manifest (plain dicts) out.

It reads only ``ir`` (never the raw document, never a check): ``emit`` lays out the
Workflow, ``state`` holds what one emit shares (and its diagnostics), ``container``
builds each task's leaf template, ``features`` adds the per-task OSMO features,
``storage`` maps storage URLs, ``groups`` the nested DAG of a group, ``share`` merges
templates of the same shape, ``size`` measures the result against Argo's limit.
"""

from .emit import emit
from .size import MAX_WORKFLOW_BYTES, size_diagnostics

__all__ = ["MAX_WORKFLOW_BYTES", "emit", "size_diagnostics"]
