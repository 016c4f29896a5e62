"""A failed task of a split workflow cancels exactly its downstream, across parts (issue 17; ``parts.py``).

Unsplit, a DAG task of ``main`` runs iff its ``depends`` holds: Argo expands each bare name ``X`` to
``X.Succeeded || X.Skipped || X.Daemoned`` (main's tasks have no ``continueOn``) and makes the task
**Omitted** otherwise; ``failFast: false`` lets every task that does not depend on a failure run. Split,
a task cannot name a task of another child Workflow, so whether each cross-part producer "went well"
has to travel: producer part -> parent -> consumer part.

- **export** (producer part): for every task ``X`` that a later part depends on, a task
  ``osmo-ok-X`` (``depends: X``, the very expansion the consumer's ``depends`` had) runs the DAG
  ``osmo-export``, whose only task runs the suspend template ``osmo-ok`` (``duration: "0"``, no pod)
  with an output parameter ``globalName: osmo-ok-X``. So ``status.outputs.parameters`` of the child
  lists ``osmo-ok-X`` iff ``X`` went well, whatever phase the child ends in.
- **parent** (``parts.py``): the part's resource template waits for the child to finish in any phase
  and reads ``{.status.outputs.parameters[*].name}`` (the names, space-separated) into its output
  ``ok``; a part task that reads from others passes their ``ok`` lists, joined, to its child as the
  workflow parameter ``osmo-ok``; a task ``part-N-check`` runs only when child N did not succeed and
  fails: a resource ``get`` of that child with ``failureCondition: status.phase in (Failed, Error)``.
  The parent ends Failed when any child did, with one small pod per failed child.
- **gates** (consumer part): for every producer ``X`` of another part, a task ``osmo-after-X`` runs
  ``osmo-noop`` (suspend, no pod) with ``when: {{='osmo-ok-X' in split(workflow.parameters['osmo-ok'],
  ' ')}}``: Succeeded when ``X`` went well, else Skipped. The consumer's ``depends`` names
  ``osmo-after-X.Succeeded`` instead of ``X``, so it runs, or is Omitted, exactly as unsplit, and its
  own downstream follows from its phase as before. A task that does not depend on the failure runs.

Why so, read in Argo v4.1.2's source (commit 16a52d6), and run on the lab's Argo v4.0.7
(tests/e2e/test_constructs.py::test_a_split_workflow_cancels_exactly_the_failed_tasks_downstream):

- a DAG that Failed/Errored returns before its outputs are computed and before its tasks' outputs go
  global (``workflow/controller/dag.go`` :373-380 vs :382-411), so the part's own ``main`` cannot export
  ``{{tasks.X.status}}`` as a DAG output when it matters (it failed). The tasks of a DAG that *succeeds*
  have their outputs added to ``status.outputs`` (:411, ``addOutputsToGlobalScope``): ``osmo-export``
  is that DAG, and it succeeds whenever it runs;
- a suspend node gets its output parameters, ``globalName`` included, from the (substituted) template
  when created (``operator.go`` :2978 ``addRawOutputFields``, :4059) and their values from
  ``valueFrom.default`` when its duration is over (:4007-4008, ``util.go`` :503); ``AddParamToGlobalScope``
  (``util.go`` :610) appends ``{name: globalName, value}`` to ``status.outputs.parameters``;
- the child's ``status.nodes`` are no substitute: the controller gzips them into ``status.compressedNodes``
  when the Workflow passes 1 MiB (``workflow/packer/packer.go`` :63-96) or offloads them to a database,
  which a child holding a part of up to 75% of the limit soon does; ``status.outputs`` stays;
- a resource template saves its output parameters only after its success condition held: a matched
  ``failureCondition`` returns an error first (``cmd/argoexec/commands/resource.go`` :82-90,
  ``workflow/executor/resource.go`` :279-306, :308-356), hence success on any finished phase and a
  separate check task;
- ``when`` is substituted first (``dag.go`` :785-808; ``{{=...}}`` runs expr-lang over the global
  parameters, expanded into nested maps: ``util/template/expression_template.go``,
  ``util/expr/env/env.go``) and the result ``true``/``false`` goes to govaluate (``steps.go`` :384); false
  makes the node Skipped with ``when 'false' evaluated false`` (``dag.go`` :660), short whatever the list
  holds. A bare name counts Skipped as success, hence ``.Succeeded`` on the gate; a false ``depends`` makes
  the consumer Omitted (``dag.go`` :597).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ..restart import NOOP_TEMPLATE

OK_PARAM = "osmo-ok"  # the workflow parameter of a part: the osmo-ok-X names its upstream parts exported
EXPORT_TEMPLATE = "osmo-export"
MARK_TEMPLATE = "osmo-ok"
NOOP = str(NOOP_TEMPLATE["name"])
NAME_PARAM = "name"


@dataclass(frozen=True)
class Names:
    """Names of the compiler's own tasks (prefixes) and templates in a part, chosen so that no task or template
    of the workflow has them (OSMO does not reserve ``osmo-``); ``osmo-noop`` is shared with ``restart.py``."""

    ok: str = "osmo-ok-"
    after: str = "osmo-after-"
    export: str = EXPORT_TEMPLATE
    mark: str = MARK_TEMPLATE
    noop: str = NOOP

    @classmethod
    def free(cls, task_names: Iterable[str], templates: dict[str, dict]) -> Names:
        names = list(task_names)

        def prefix(value: str) -> str:
            while any(n.startswith(value) for n in names):
                value = "osmo-" + value
            return value

        def template(value: str, same: dict | None = None) -> str:
            while value in templates and templates[value] != {**(same or {}), "name": value}:
                value = "osmo-" + value
            return value

        noop = {k: v for k, v in NOOP_TEMPLATE.items() if k != "name"}
        return cls(
            prefix(cls.ok), prefix(cls.after), template(EXPORT_TEMPLATE), template(MARK_TEMPLATE), template(NOOP, noop)
        )

    def marker(self, producer: str) -> dict:
        """The producer part's task that exports ``producer``'s success as the global output ``osmo-ok-X``."""
        return {
            "name": self.ok + producer,
            "template": self.export,
            "depends": producer,
            "arguments": {"parameters": [{"name": NAME_PARAM, "value": self.ok + producer}]},
        }

    def gate(self, producer: str) -> dict:
        """The consumer part's task that succeeds iff ``producer`` (another part) went well, else is Skipped."""
        return {
            "name": self.after + producer,
            "template": self.noop,
            "when": f"{{{{='{self.ok}{producer}' in split(workflow.parameters['{OK_PARAM}'], ' ')}}}}",
        }

    def gated(self, producer: str) -> str:
        """The term a consumer's ``depends`` has instead of ``producer``."""
        return f"{self.after}{producer}.Succeeded"

    def templates(self) -> list[dict]:
        """``osmo-export`` (a DAG that always succeeds, so its task's output goes global) and ``osmo-ok``."""
        value = {"name": NAME_PARAM, "value": f"{{{{inputs.parameters.{NAME_PARAM}}}}}"}
        export = {
            "name": self.export,
            "inputs": {"parameters": [{"name": NAME_PARAM}]},
            "dag": {"tasks": [{"name": "ok", "template": self.mark, "arguments": {"parameters": [value]}}]},
        }
        output = {"name": "ok", "globalName": value["value"], "valueFrom": {"supplied": {}, "default": "ok"}}
        mark = {
            "name": self.mark,
            "inputs": {"parameters": [{"name": NAME_PARAM}]},
            "suspend": {"duration": "0"},
            "outputs": {"parameters": [output]},
        }
        return [export, mark]

    def noop_template(self) -> dict:
        return {**NOOP_TEMPLATE, "name": self.noop}

    def template_bytes(self) -> int:
        """What the flow templates add to a part at most (all three, and the ``osmo-ok`` workflow parameter)."""
        return sum(_compact(t) + 1 for t in [*self.templates(), self.noop_template()]) + 40

    # Bytes each adds to a part, as compact JSON (packing.py packs with them; the result is measured anyway).
    def marker_bytes(self, producer: str) -> int:
        return _compact(self.marker(producer)) + 1

    def gate_bytes(self, producer: str) -> int:
        return _compact(self.gate(producer)) + 1

    def edge_bytes(self, producer: str) -> int:
        """A consumer's ``depends`` grows by this for each cross-part producer (``X`` -> ``osmo-after-X.Succeeded``,
        and `` && `` when the producer was the only name)."""
        return len(self.gated(producer)) - len(producer) + len(" && ")


def _compact(value: dict) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
