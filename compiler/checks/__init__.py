"""Stages 2-3: every rule that reads the raw (rendered, parsed) document.

``schema`` (structure, with ``schema_fast`` for valid documents), ``semantic`` and
``semantic_groups`` (OSMO's rules across fields), ``secrets`` (plain-text secrets),
``target`` (what the cluster profile and Argo make of each task's features).
Nothing after these stages reads the raw document: the IR is built from it once.
"""
