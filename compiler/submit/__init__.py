"""``osmo submit``: compile, post the Workflow to the Argo Server (hera), follow it."""
