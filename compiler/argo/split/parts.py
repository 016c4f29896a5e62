"""The documents of a split workflow (``packing.py`` decides which DAG tasks go in which part).

- **a part** is a ``WorkflowTemplate``: the part's slice of ``main`` (``failFast: false`` as
  before) and every template it uses, copied; the original spec's other fields
  (``serviceAccountName``, ``artifactRepositoryRef``, ``podMetadata``...) are kept. Its name is
  ``<workflow>-<hash of its spec>``: recompiling the same workflow gives the same names (submit
  finds them stored and leaves them), and a changed part gets a new name, so a run of the old
  version still finds its own parts.
- **the parent** is the ``Workflow`` (same metadata as the unsplit one). Its DAG has one task
  per part, ``part-N``, that ``depends`` on the parts it reads from, and runs the ``osmo-part``
  resource template: create a ``Workflow`` with ``workflowTemplateRef`` to the part (owner-
  referenced to the parent, so deleting the parent deletes its children), wait until the child's
  ``status.phase`` is Succeeded, Failed or Error, and read its phase, name and the names of its
  global outputs. Every part runs; inside it, a task whose producer in another part did not go
  well is Omitted, exactly as unsplit (``crossing.py``: markers, gates, ``osmo-ok``). A task
  ``part-N-check`` fails when child N did not succeed, so the parent ends Failed.
- **across parts**: a task of one part cannot name a task of another (``{{tasks.x...}}``), so
  the child gets the parent's name as parameter ``osmo-parent`` and
  the producer writes its ``output`` artifact under the key ``osmo/<parent>/<task>/output.tgz``
  in the artifact repository (a key-only location: Argo fills in the repository's bucket and
  credentials); the consumer's DAG task reads the same key instead of ``from:``. The
  dependency itself is kept by the order of the parts and by the consumer's gate. A producer
  whose output already has a key (a profile's ``taskOutputLayout``) keeps it and the consumer
  reads that key.
- ``{{workflow.name}}`` (OSMO's ``{{workflow_id}}``) in a part means the parent's name, as it
  did before the split, except where it must be the child's own: the pod-affinity selector of a
  group and the group's ``osmo-hosts`` Service (a group always runs whole in one child).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

import yaml

from ...vocabulary import CHECK_TEMPLATE, MANAGED_BY, MANAGED_BY_LABEL, PARENT_LABEL, PART_TEMPLATE, PARTS_LABEL
from ..container import API_VERSION
from ..groups import HOSTS_TEMPLATE
from ..size import ENTRYPOINT
from . import crossing

PARENT_PARAM = "osmo-parent"
PARENT_NAME = "{{workflow.parameters.osmo-parent}}"
TASK_PARAM = "osmo-task"
FINISHED = ("Succeeded", "Failed", "Error")  # a Workflow's phases once it ended
KEY_PREFIX = "osmo"
# Artifact locations whose ``key`` names the object in the repository (Argo's key-only artifacts).
LOCATIONS = ("s3", "gcs", "oss", "azure", "hdfs", "artifactory")
# The parent always passes osmo-parent; the default only keeps the stored template valid on its own.
UNSET = "osmo-parent-not-set"
NAME_MAX = 63  # a WorkflowTemplate's name is a label value
_HASH_LEN = 10
FROM_RE = re.compile(r"^\{\{tasks\.([A-Za-z0-9][-A-Za-z0-9]*)\.outputs\.artifacts\.([-A-Za-z0-9_]+)\}\}$")
_PARAM_RE = re.compile(r"\{\{inputs\.parameters\.([-A-Za-z0-9_]+)\}\}")
_TOKEN_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TASK_NAME = "{{tasks.name}}"  # a template local: the DAG task that runs the template


def depends(task: dict) -> list[str]:
    """Names in ``depends``: the emitter writes a conjunction of bare names (``a && b``)."""
    text = task.get("depends")
    return [n.strip() for n in text.split("&&")] if text else []


def closure(name: str, templates: dict[str, dict]) -> list[str]:
    """``name`` and the templates its DAG calls, at any depth (a group's members, ``osmo-hosts``)."""
    out: list[str] = []
    stack, seen = [name], set()
    while stack:
        current = stack.pop()
        if current in seen or current not in templates:
            continue
        seen.add(current)
        out.append(current)
        stack += [t["template"] for t in (templates[current].get("dag") or {}).get("tasks") or ()]
    return out


def part_name(base: str, spec: dict) -> str:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    head = base[: NAME_MAX - _HASH_LEN - 1].rstrip("-.")
    return f"{head}-{digest[:_HASH_LEN]}"


def build(manifest: dict, chunks: list[list[dict]]) -> list[dict]:
    """The part ``WorkflowTemplate``s (one per chunk of ``main``'s DAG tasks, in order) and the parent."""
    spec = manifest["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    part_of = {task["name"]: p for p, chunk in enumerate(chunks) for task in chunk}
    memo: dict[str, list[str]] = {}
    part_tasks = [[_renamed(task) for task in chunk] for chunk in chunks]
    part_templates: list[dict[str, dict]] = []
    for chunk in chunks:
        used: set[str] = set()
        for task in chunk:
            if task["template"] not in memo:
                memo[task["template"]] = closure(task["template"], templates)
            used.update(memo[task["template"]])
        part_templates.append({n: _renamed_template(t) for n, t in templates.items() if n in used})

    upstream_parts: list[set[int]] = [set() for _ in chunks]
    producers: dict[str, tuple[int, str]] = {}  # OSMO task whose output crosses -> (its part, its task in main)
    reads: list[tuple[dict, str]] = []  # (argument artifact of a consumer, producer task)
    flow = crossing.Names.free(part_of, templates)
    exports: list[dict[str, None]] = [{} for _ in chunks]  # per part, its tasks a later part depends on (in order)
    gates: list[dict[str, None]] = [{} for _ in chunks]  # per part, the producers in other parts it depends on
    for p, tasks in enumerate(part_tasks):
        for task in tasks:
            names = depends(task)
            cross = [n for n in names if part_of.get(n, p) != p]
            if cross:  # each waits on its gate, which passes iff the producer went well (crossing.py)
                upstream_parts[p].update(part_of[n] for n in cross)
                task["depends"] = " && ".join(n if n not in cross else flow.gated(n) for n in names)
                for name in cross:
                    exports[part_of[name]][name] = None
                    gates[p][name] = None
            for artifact in (task.get("arguments") or {}).get("artifacts") or ():
                match = FROM_RE.match(str(artifact.get("from", "")))
                if match and part_of.get(match[1], p) != p:
                    producer = match[1] if match[2] == "output" else match[2]  # a group re-exports as <task>
                    producers.setdefault(producer, (part_of[match[1]], match[1]))
                    reads.append((artifact, producer))

    keys = _Producers(part_tasks, part_templates)
    for producer, (q, main_task) in producers.items():
        keys.export(producer, q, main_task)
    for artifact, producer in reads:
        location, key = keys.keys[producer]
        name = artifact["name"]
        rest = {k: v for k, v in artifact.items() if k not in ("name", "from")}
        artifact.clear()
        artifact.update({"name": name, location: {"key": key}, **rest})

    base = (manifest["metadata"].get("generateName") or manifest["metadata"].get("name") or "osmo").rstrip("-.")
    documents = []
    for p, tasks in enumerate(part_tasks):
        tasks = [*(flow.gate(x) for x in gates[p]), *tasks, *(flow.marker(x) for x in exports[p])]
        main = {**templates[ENTRYPOINT], "dag": {**templates[ENTRYPOINT]["dag"], "tasks": tasks}}
        own = [t for n, t in part_templates[p].items() if n != ENTRYPOINT]
        if exports[p]:
            own += flow.templates()
        if gates[p] and flow.noop not in part_templates[p]:
            own.append(flow.noop_template())
        part_spec = {
            "entrypoint": ENTRYPOINT,
            "arguments": {
                "parameters": [{"name": PARENT_PARAM, "value": UNSET}, {"name": crossing.OK_PARAM, "value": ""}]
            },
            **{k: v for k, v in spec.items() if k not in ("entrypoint", "templates", "arguments")},
            "templates": [main, *own],
        }
        labels = (spec.get("podMetadata") or {}).get("labels")
        if labels:  # the workflow's labels on the child Workflow too (runtime-audit-2 N13): Argo copies no
            # WorkflowTemplate metadata to a Workflow created from it, but applies spec.workflowMetadata when the
            # child starts (operator.go updateWorkflowMetadata :609-631, called at :4547; v4.0.7 :558, :4363)
            metadata_spec = copy.deepcopy(spec.get("workflowMetadata") or {})
            metadata_spec["labels"] = {**(metadata_spec.get("labels") or {}), **labels}
            part_spec = {k: v for k, v in part_spec.items() if k != "templates"}
            part_spec["workflowMetadata"] = metadata_spec
            part_spec["templates"] = [main, *own]
        metadata: dict = {"name": part_name(base, part_spec)}
        if manifest["metadata"].get("namespace"):
            metadata["namespace"] = manifest["metadata"]["namespace"]
        metadata["labels"] = dict(manifest["metadata"].get("labels") or {})
        documents.append(
            {"apiVersion": API_VERSION, "kind": "WorkflowTemplate", "metadata": metadata, "spec": part_spec}
        )
    documents.append(_parent(manifest, documents, upstream_parts))
    return documents


class _Producers:
    """Where each producer of a cross-part artifact writes it: (location type, key), by editing its part."""

    def __init__(self, part_tasks: list[list[dict]], part_templates: list[dict[str, dict]]):
        self.part_tasks, self.part_templates = part_tasks, part_templates
        self.keys: dict[str, tuple[str, str]] = {}
        self._callers: dict[int, dict[str, list[dict]]] = {}
        self._by_name = {task["name"]: task for tasks in part_tasks for task in tasks}
        self._parametrised: set[tuple[int, str]] = set()

    def callers(self, p: int) -> dict[str, list[dict]]:
        """DAG tasks of part ``p`` (in ``main`` and in its groups' DAGs) by the template they call."""
        if p not in self._callers:
            out: dict[str, list[dict]] = {}
            for task in self.part_tasks[p]:
                out.setdefault(task["template"], []).append(task)
            for template in self.part_templates[p].values():
                for task in (template.get("dag") or {}).get("tasks") or ():
                    out.setdefault(task["template"], []).append(task)
            self._callers[p] = out
        return self._callers[p]

    def export(self, producer: str, p: int, main_task: str) -> None:
        task = self._by_name[main_task]
        if producer != main_task:  # a member of group ``main_task``: its task in the group's DAG
            group = self.part_templates[p][task["template"]]
            task = next(t for t in group["dag"]["tasks"] if t["name"] == producer)
        template = self.part_templates[p][task["template"]]
        output = next(a for a in (template.get("outputs") or {}).get("artifacts") or () if a.get("name") == "output")
        for location in LOCATIONS:
            if isinstance(output.get(location), dict) and output[location].get("key"):
                self.keys[producer] = (location, _resolve(output[location]["key"], task))
                return
        key = f"{KEY_PREFIX}/{PARENT_NAME}/{producer}/output.tgz"
        self.keys[producer] = ("s3", key)  # key-only: Argo takes the repository's own type and place
        callers = self.callers(p)[template["name"]]
        if len(callers) == 1:
            output["s3"] = {"key": key}
            return
        # A template shared by several tasks of the part: the key names the calling task.
        output["s3"] = {"key": f"{KEY_PREFIX}/{PARENT_NAME}/{{{{inputs.parameters.{TASK_PARAM}}}}}/output.tgz"}
        inputs = template.setdefault("inputs", {})
        inputs.setdefault("parameters", []).append({"name": TASK_PARAM})
        for caller in callers:
            arguments = caller.setdefault("arguments", {})
            arguments.setdefault("parameters", []).append({"name": TASK_PARAM, "value": caller["name"]})


def _resolve(key: str, task: dict) -> str:
    """``key`` as Argo resolves it for the producer ``task``, made literal for a consumer in another part.

    The producer's template may use its own locals: its argument parameters (a shared template) and
    ``{{tasks.name}}`` (a profile's ``taskOutputs`` key; a template local, ``operator.go`` :2246-2248). The
    consumer's DAG task resolves its arguments in the DAG scope (``dag.go`` :838), where neither exists: an
    unresolvable ``{{tasks.name}}`` there requeues the task forever (``dag.go`` :839-843, runtime-audit-2 N1),
    and would name the consumer even if it resolved. So both are substituted with the producer's values, and
    only global parameters (``{{workflow.parameters.*}}``, the parent's name) may stay.
    """
    values = {p["name"]: p.get("value", "") for p in (task.get("arguments") or {}).get("parameters") or ()}
    resolved = _PARAM_RE.sub(lambda m: values.get(m[1], m[0]), key).replace(TASK_NAME, task["name"])
    left = [m for m in _TOKEN_RE.findall(resolved) if not m.startswith("workflow.parameters.")]
    if left:  # never a key the consumer cannot resolve (it would wait forever): a bug of the compiler
        raise AssertionError(f"the key {key!r} of task {task['name']!r} crosses parts with unresolved {left}")
    return resolved


def _renamed(value: dict) -> dict:
    """A deep copy of ``value`` where ``{{workflow.name}}`` is the parent's name."""
    text = json.dumps(value, ensure_ascii=False)
    return json.loads(text.replace("{{workflow.name}}", PARENT_NAME) if "{{workflow.name}}" in text else text)


def _renamed_template(template: dict) -> dict:
    if template.get("name") == HOSTS_TEMPLATE:
        return copy.deepcopy(template)  # the Service of a group in this child: its own name and uid
    affinity = template.get("affinity")
    renamed = _renamed({k: v for k, v in template.items() if k != "affinity"})
    if affinity is not None:  # selects the pods of this child workflow: keep its own name
        renamed = {k: (copy.deepcopy(affinity) if k == "affinity" else renamed[k]) for k in template}
    return renamed


def _parent(manifest: dict, parts: list[dict], upstream_parts: list[set[int]]) -> dict:
    spec = manifest["spec"]
    parent_spec: dict = {"entrypoint": ENTRYPOINT}
    for key in ("serviceAccountName", "activeDeadlineSeconds"):
        if key in spec:
            parent_spec[key] = spec[key]
    tasks = []
    for p, part in enumerate(parts):
        name = f"part-{p + 1}"
        task: dict = {"name": name, "template": PART_TEMPLATE}
        if upstream_parts[p]:  # Succeeded = that child finished, in any phase
            task["depends"] = " && ".join(f"part-{q + 1}" for q in sorted(upstream_parts[p]))
        ok = " ".join(f"{{{{tasks.part-{q + 1}.outputs.parameters.ok}}}}" for q in sorted(upstream_parts[p]))
        task["arguments"] = {
            "parameters": [
                {"name": "template", "value": part["metadata"]["name"]},
                {"name": "part", "value": str(p + 1)},
                {"name": "ok", "value": ok},
            ]
        }
        tasks.append(task)
    for p in range(len(parts)):  # the parent fails when a child did (crossing.py)
        tasks.append(check_task(f"part-{p + 1}"))
    # failFast: false -- every part runs; a task of a part runs iff its upstream tasks went well (crossing.py).
    main = {"name": ENTRYPOINT, "dag": {"failFast": False, "tasks": tasks}}
    # the parent's resource pods are bounded while Pending as the parts' pods are (timeouts.py)
    pending = [t["pendingTimeout"] for t in spec["templates"] if "pendingTimeout" in t]
    bound = {"pendingTimeout": max(pending, key=lambda v: int(v.rstrip("s")))} if pending else {}
    parent_spec["templates"] = [main, {**part_template(), **bound}, {**check_template(), **bound}]
    metadata = copy.deepcopy(manifest["metadata"])
    metadata["labels"] = {**(metadata.get("labels") or {}), PARTS_LABEL: str(len(parts))}  # for osmo list
    return {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": metadata, "spec": parent_spec}


def part_template() -> dict:
    """Run one stored part as a child Workflow of this one, wait until it ends in any phase, and read its phase,
    its name and the names of its global outputs (``osmo-ok-X``: its tasks that went well, ``crossing.py``)."""
    child = {
        "apiVersion": API_VERSION,
        "kind": "Workflow",
        "metadata": {
            "generateName": "{{workflow.name}}-{{inputs.parameters.part}}-",
            "labels": {MANAGED_BY_LABEL: MANAGED_BY, PARENT_LABEL: "{{workflow.name}}"},
        },
        "spec": {
            "workflowTemplateRef": {"name": "{{inputs.parameters.template}}"},
            "arguments": {
                "parameters": [
                    {"name": PARENT_PARAM, "value": "{{workflow.name}}"},
                    {"name": crossing.OK_PARAM, "value": "{{inputs.parameters.ok}}"},
                ]
            },
        },
    }
    return {
        "name": PART_TEMPLATE,
        "inputs": {"parameters": [{"name": "template"}, {"name": "part"}, {"name": "ok"}]},
        "outputs": {
            "parameters": [
                {"name": "phase", "valueFrom": {"jsonPath": "{.status.phase}"}},
                {"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}},
                {"name": "ok", "valueFrom": {"jsonPath": "{.status.outputs.parameters[*].name}"}},
            ]
        },
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            # no failureCondition: a matched one fails the step before it saves the outputs (crossing.py)
            "successCondition": f"status.phase in ({', '.join(FINISHED)})",
            "manifest": yaml.safe_dump(child, sort_keys=False, width=2**31 - 1),
        },
    }


def check_task(part_task: str) -> dict:
    """Runs only when the part's child did not succeed, and fails (a resource ``get`` with a matching
    ``failureCondition``): so the parent ends Failed, with a pod only for a failed part."""
    outputs = f"tasks.{part_task}.outputs.parameters"
    return {
        "name": f"{part_task}-check",
        "template": CHECK_TEMPLATE,
        "depends": part_task,
        "when": f"{{{{{outputs}.phase}}}} != Succeeded",
        "arguments": {"parameters": [{"name": "workflow", "value": f"{{{{{outputs}.name}}}}"}]},
    }


def check_template() -> dict:
    child = {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": {"name": "{{inputs.parameters.workflow}}"}}
    return {
        "name": CHECK_TEMPLATE,
        "inputs": {"parameters": [{"name": "workflow"}]},
        "resource": {
            "action": "get",
            "successCondition": "status.phase == Succeeded",
            "failureCondition": "status.phase in (Failed, Error)",
            "manifest": yaml.safe_dump(child, sort_keys=False, width=2**31 - 1),
        },
    }
