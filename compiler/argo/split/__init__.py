"""Workflows past Argo's object-size limit: ``packing`` cuts the compiled workflow into parts (stored
WorkflowTemplates) small enough to store; ``parts`` builds the parent that runs them as child Workflows;
``crossing`` carries a dependency, an output and a failure from one part to another, task by task."""

from .packing import needs_split, split_manifest, split_report

__all__ = ["needs_split", "split_manifest", "split_report"]
