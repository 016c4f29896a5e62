"""The state of one emit: what every part of the emitter shares, in one object.

``emit.emit`` makes one :class:`Emitter` per workflow and hands it to ``groups``,
``container`` and ``features``: the options and the resolved profile and pool, the
workflow's task-to-group map and the tasks whose output is read, the templates
emitted so far, and the diagnostics. The emitter reports a problem where it takes
the decision that causes it (a convention assumed for lack of a profile entry, a
policy that refuses a task, a timeout it clamps...), at the IR node's ``source``
path, so each rule exists once and is located like any other stage's.
"""

from __future__ import annotations

import json

from .. import ir
from ..diagnostics import Diagnostic, JsonPath
from ..options import CompileOptions
from ..profile import Profile

PROFILE_HINT = "say it in a cluster profile (osmo profile init; see docs/profile.md)"


class Emitter:
    """One workflow being emitted: shared read-only context, the templates so far, and the diagnostics."""

    def __init__(self, workflow: ir.Workflow, options: CompileOptions, profile: Profile):
        self.workflow = workflow
        self.options = options
        self.profile = profile
        self.pool = options.pool_name(profile)
        self.repository = options.artifact_repository(profile)  # validated by the pipeline before loading
        self.consumed = {item.task for task in workflow.tasks for item in task.inputs}  # tasks whose output is read
        # Final outputs (nobody reads them) are kept only where a repository is known to exist (runtime-audit-2 N5):
        # without one, Argo's wait container fails every task that exports an artifact.
        self.keep_outputs = bool(self.repository or profile.task_output_layout or profile.default_artifact_repository)
        self.group_of = {t.k8s_name: g for g in workflow.groups for t in g.tasks}
        self.templates: list[dict] = []  # in manifest order, after ``main``
        self.retried: dict[str, ir.Task] = {}  # tasks whose own template keeps a retryStrategy (RESCHEDULE)
        self._shared: dict[str, str] = {}  # content of a flat task's template -> its name (identical tasks share it)
        self.diagnostics: list[Diagnostic] = []
        self._assumed: set[tuple[str, str]] = set()

    # -- templates

    def add_template(self, template: dict, *, once: bool = False) -> None:
        """Add a named template; ``once``: unless one of that name is there already (``osmo-hosts``)."""
        if not (once and any(t["name"] == template["name"] for t in self.templates)):
            self.templates.append(template)

    def shared_template(self, name: str, template: dict) -> str:
        """Add ``template`` as ``name`` unless an identical one exists; return the name to use."""
        key = json.dumps(template, sort_keys=True)
        if key not in self._shared:
            self._shared[key] = name
            self.add_template({"name": name, **template})
        return self._shared[key]

    # -- decisions several features share

    def platform(self, resources: ir.Resources) -> str | None:
        """A task's platform: its resource profile's, else the pool's defaultPlatform."""
        if resources.platform is not None:
            return resources.platform
        pool = self.profile.pool(self.pool)
        return pool.get("defaultPlatform") if pool else None

    # -- diagnostics

    def report(self, code: str, message: str, path: JsonPath, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, path=path, hint=hint))

    def assume(self, kind: str, name: str, message: str, path: JsonPath, hint: str | None = None) -> None:
        """P610: a convention used for lack of a profile entry, reported once per (kind, name)."""
        if self.first(kind, name):
            self.report("P610", message, path, hint or PROFILE_HINT)

    def first(self, kind: str, name: str) -> bool:
        """True the first time (kind, name) is asked about: for what is reported once per workflow."""
        if (kind, name) in self._assumed:
            return False
        self._assumed.add((kind, name))
        return True
