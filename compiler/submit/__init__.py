"""``osmo submit`` and the commands that follow a submitted workflow (``list``, ``query``, ``logs``, ``cancel``).

command.py runs submit (options, compile, --name/namespace, the steps in order) over connection.py (ARGO_*
settings), server.py (hera calls, error translation), follow.py (--wait) and errors.py (SubmitError, scrub).
workflows.py runs list/query/cancel, logs.py the log stream, nodes.py maps Argo's node tree to OSMO tasks.
"""
