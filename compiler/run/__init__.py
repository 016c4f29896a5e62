"""``osmo run``: execute a compiled Argo manifest on this machine with Argo's semantics.

Stage package; it reads only the manifest the compiler emits (the bytes ``osmo compile`` prints), never the
IR or the raw document. Modules, in the order data flows through them:

- ``manifest``   refuses what the runner does not support (naming the field) and indexes the templates;
- ``expr``       the subset of expr-lang that ``depends`` and ``retryStrategy.expression`` use;
- ``depends``    Argo's bare-name expansion of ``depends`` / ``dependencies`` and its task results;
- ``template``   Argo's ``{{...}}`` substitution (fasttemplate over the template's JSON);
- ``dag``        scheduling: phases, failFast, daemons, retries, deadlines;
- ``artifacts``  input/output artifacts, raw files, ``from`` references, ``--storage`` URLs;
- ``pod``        one attempt of a container template: init containers, main, sidecars;
- ``backends``   where a container runs: ``process`` (mount namespace + chroot) or ``container`` (podman/docker);
- ``dns``        a stub DNS server for the group ``{{host:}}`` names (process backend);
- ``summary``    the run directory and ``summary.json``;  ``command`` the user-facing command.

Argo semantics follow argoproj/argo-workflows v4.1.2; docs/run.md cites the controller files.
"""
