"""``osmo submit``: compile, post the Workflow to the Argo Server (hera), follow it.

command.py runs it (options, compile, --name/namespace, the steps in order) over connection.py (ARGO_*
settings), server.py (hera calls, error translation), follow.py (--wait) and errors.py (SubmitError, scrub).
"""
