"""``osmo run`` against Argo v4.1.2's source, row by row of the audit (``shared/notes/run-audit.md``: A1-A17).

Hand-written manifests (the audit's ``m*`` probes) run straight through the engine (``manifest_run``); OSMO
workflows (``p*``) are compiled first (``osmo_run``). Every expectation cites the Argo code it follows.
"""

from __future__ import annotations

import time

import pytest

HEAD = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: probe-}
spec:
  entrypoint: main
  templates:
"""


def workflow(tasks: str, templates: str, fail_fast: bool = True) -> str:
    """A manifest whose ``main`` DAG has ``tasks`` (YAML list items) and the extra ``templates``."""
    dag = "      failFast: false\n" if not fail_fast else ""
    return HEAD + "  - name: main\n    dag:\n" + dag + "      tasks:\n" + tasks + templates


def shell(name: str, script: str, extra: str = "") -> str:
    return f"  - name: {name}\n{extra}    container: {{image: x, command: [sh, -c, {script!r}]}}\n"


# -- A1, A2: a user init container that fails makes the node Failed (only Argo's own `init` is Error) ------------
BACKENDS = pytest.mark.parametrize("runner", ["manifest_run", "podman_manifest_run"], ids=["process", "podman"])


@BACKENDS
def test_a_failing_user_init_container_fails_the_node(request, runner: str) -> None:
    # inferFailedReason (operator.go :1871-1885): only common.InitContainerName ("init") maps to Error
    manifest_run = request.getfixturevalue(runner)
    init = "    initContainers: [{name: setup, image: x, command: [sh, -c, 'echo setup failing; exit 3']}]\n"
    run = manifest_run(workflow("      - {name: a, template: withinit}\n", shell("withinit", "echo main", init)))
    assert run.phase == "Failed", run.out
    assert run.task("a")["phase"] == "Failed" and run.task("a")["message"] == "setup: Error (exit code 3)"
    assert run.task("a")["exitCode"] is None and "main" not in run.log("a").splitlines()


def test_an_init_container_killed_by_sigterm_is_skipped_over_and_the_next_one_never_started(manifest_run) -> None:
    # exit 137/143 of a non-Argo container is ignored; the next container is Waiting (PodInitializing): Error
    # the kubelet turns $$ into $ in a command (expansion.py): $$$$ is the shell's $$
    init = "    initContainers: [{name: setup, image: x, command: [sh, -c, 'kill -TERM $$$$']}]\n"
    run = manifest_run(workflow("      - {name: a, template: withinit}\n", shell("withinit", "echo main", init)))
    assert run.task("a")["phase"] == "Error", run.out
    assert run.task("a")["message"] == "Pod failed before main container starts due to PodInitializing: "


GROUP = """  - name: g-grp
    retryStrategy: {limit: '2', retryPolicy: OnError}
    dag:
      tasks:
      - {name: lead, template: lead, continueOn: {failed: true}}
      - name: osmo-reschedule
        template: osmo-noop
        dependencies: [lead]
        when: "{{=asInt(tasks['lead'].exitCode ?? '-1') == 42 ? 'osmo: the lead wants a restart' : 'false'}}"
  - name: lead
    initContainers: [{name: osmo-fetch-0, image: x, command: [sh, -c, 'echo cannot download; exit 5']}]
    container: {image: x, command: [sh, -c, 'echo lead; exit 0']}
  - {name: osmo-noop, suspend: {duration: '0'}}
"""


def test_a_group_whose_lead_cannot_fetch_its_input_fails_once_and_is_not_restarted(manifest_run) -> None:
    # A2 (probe p03, the group restart of compiler/argo/restart.py): the lead is Failed (A1), so osmo-reschedule's
    # when reads no exit code ('-1') and is Skipped; the group DAG is Failed and retryPolicy OnError does not
    # restart it (operator.go :1171-1175): one attempt
    run = manifest_run(workflow("      - {name: grp, template: g-grp}\n", GROUP))
    assert run.phase == "Failed", run.out
    lead = run.task("lead")
    assert lead["phase"] == "Failed" and lead["message"] == "osmo-fetch-0: Error (exit code 5)", lead
    assert "runs again" not in run.out and "osmo-reschedule Skipped" not in run.out


# -- A3: failFast false: the last failed target in sorted order gives the DAG's phase ----------------------------
def test_fail_fast_false_takes_the_phase_of_the_last_failed_target(manifest_run) -> None:
    # probe m01: assessDAGPhase (dag.go :217-245) does not break without failFast: `b` (Error) comes after `a`
    tasks = "      - {name: a, template: fail}\n      - {name: b, template: ok, when: 'this is ( not govaluate'}\n"
    run = manifest_run(workflow(tasks, shell("fail", "exit 1") + shell("ok", "exit 0"), fail_fast=False))
    assert run.phase == "Error", run.out
    assert run.task("a")["phase"] == "Failed"
    # A13: a task that never reached the pod runner is reported with its own phase, not Omitted
    assert run.task("b")["phase"] == "Error" and "Invalid 'when' expression" in run.task("b")["message"]
    swapped = tasks.replace("name: a,", "name: c,").replace("name: b,", "name: a,")  # Error `a`, Failed `c`
    assert manifest_run(workflow(swapped, shell("fail", "exit 1") + shell("ok", "exit 0"), False)).phase == "Failed"


def test_fail_fast_takes_the_first_failed_target(manifest_run) -> None:
    tasks = "      - {name: a, template: fail}\n      - {name: b, template: ok, when: 'this is ( not govaluate'}\n"
    run = manifest_run(workflow(tasks, shell("fail", "exit 1") + shell("ok", "exit 0")))
    assert run.phase == "Failed", run.out


def test_summary_reports_skipped_and_omitted_tasks(manifest_run) -> None:
    # A13: Skipped (when false), Omitted (depends false), each as dag.go :591-598, :654-662 names it
    tasks = ("      - {name: a, template: ok, when: 'false'}\n"
             "      - {name: b, template: ok, depends: a.Failed}\n")  # fmt: skip
    run = manifest_run(workflow(tasks, shell("ok", "exit 0")))
    assert run.task("a")["phase"] == "Skipped" and run.task("a")["message"] == "when 'false' evaluated false"
    assert run.task("b")["phase"] == "Omitted" and run.task("b")["attempts"] == 0


# -- A4, A5, A14: retries --------------------------------------------------------------------------------------
def counting(name: str, succeed_on: int, strategy: str) -> str:
    """A template that fails until its ``succeed_on``-th attempt (``{{retries}}`` counts from 0)."""
    script = f"echo attempt {{{{retries}}}}; test {{{{retries}}}} -ge {succeed_on - 1}"
    return shell(name, script, f"    retryStrategy: {strategy}\n")


def test_a_retry_strategy_without_limit_retries_without_end(manifest_run) -> None:
    # A4 (probe m03): "No more retries left" only when Limit != nil (operator.go :1183-1191)
    run = manifest_run(workflow("      - {name: t, template: t}\n", counting("t", 3, "{retryPolicy: Always}")))
    assert run.phase == "Succeeded", run.out
    assert run.task("t")["attempts"] == 3


def test_a_retry_expression_that_cannot_be_evaluated_makes_the_node_error(manifest_run) -> None:
    # A5 (probe m04): EvalBool's error is returned (operator.go :1196-1198) and the retry node marked Error (:2458)
    strategy = "{limit: '2', expression: 'asInt(lastRetry.message) > 0'}"
    template = shell("t", "exit 1", f"    retryStrategy: {strategy}\n")
    run = manifest_run(workflow("      - {name: t, template: t}\n", template))
    assert run.phase == "Error", run.out
    task = run.task("t")
    assert task["phase"] == "Error" and task["attempts"] == 1
    assert "unable to evaluate expression 'asInt(lastRetry.message) > 0'" in task["message"]


def test_backoff_waits_only_when_a_limit_is_set(manifest_run) -> None:
    # A14: "See if we have waited past the deadline" needs retryStrategy.Limit != nil (operator.go :1140)
    unlimited = "{retryPolicy: Always, backoff: {duration: '30s'}}"
    started = time.monotonic()
    run = manifest_run(workflow("      - {name: t, template: t}\n", counting("t", 2, unlimited)))
    assert run.phase == "Succeeded" and run.task("t")["attempts"] == 2, run.out
    assert time.monotonic() - started < 20
    limited = "{limit: '1', backoff: {duration: '2s'}}"
    started = time.monotonic()
    run = manifest_run(workflow("      - {name: t, template: t}\n", counting("t", 2, limited)))
    assert run.phase == "Succeeded" and time.monotonic() - started >= 2, run.out


def test_max_duration_is_checked_before_the_policy(manifest_run) -> None:
    # A14: the backoff block (maxDuration) runs before the policy check (operator.go :1077-1092 then :1171)
    strategy = "{limit: '3', retryPolicy: OnError, backoff: {duration: '1s', maxDuration: '1s'}}"
    run = manifest_run(
        workflow("      - {name: t, template: t}\n", shell("t", "sleep 2; exit 1", f"    retryStrategy: {strategy}\n"))
    )
    task = run.task("t")
    assert task["phase"] == "Failed" and task["message"] == "main: Error (exit code 1) (Max duration limit exceeded)"


def test_last_retry_duration_is_a_go_float(manifest_run) -> None:
    # A14: fmt.Sprint(lastChildNode.GetDuration().Seconds()) (operator.go :2166, :2532)
    strategy = "{limit: '1', retryPolicy: Always}"
    run = manifest_run(workflow("      - {name: t, template: t}\n",
                                shell("t", "echo d={{lastRetry.duration}}; sleep 0.3; exit 1",
                                      f"    retryStrategy: {strategy}\n")))  # fmt: skip
    durations = [line.split("=", 1)[1] for line in run.log("t").splitlines() if line.startswith("d=")]
    assert durations[0] == "0" and float(durations[1]) >= 0.3 and "." in durations[1], durations


# -- A9: a missing command exits 64 with emissary's message ------------------------------------------------------
@pytest.mark.parametrize(("command", "reason"), [
    ("this-command-does-not-exist", 'exec: "this-command-does-not-exist": executable file not found in $PATH'),
    ("/no/such/tool", 'exec: "/no/such/tool": stat /no/such/tool: no such file or directory'),
])  # fmt: skip
@BACKENDS
def test_a_missing_command_exits_64_with_emissarys_message(request, runner: str, command: str, reason: str) -> None:
    # emissary's exec.LookPath fails (emissary.go :209-212), argoexec exits 64 with the error as termination
    # message (cmd/argoexec/main.go :38-43); inferFailedReason: "main: Error (exit code 64): <message>"
    manifest_run = request.getfixturevalue(runner)
    template = f"  - name: nocmd\n    container: {{image: x, command: [{command}]}}\n"
    run = manifest_run(workflow("      - {name: t, template: nocmd}\n", template))
    task = run.task("t")
    assert task["phase"] == "Failed" and task["exitCode"] == 64, task
    assert task["message"] == f"main: Error (exit code 64): failed to find name in PATH: {reason}"


# -- A15: the executionDeadline kill: the phase follows main's exit code -----------------------------------------
@BACKENDS
def test_a_retry_killed_at_its_execution_deadline_follows_mains_exit_code(request, runner: str) -> None:
    # monitorDeadline (executor.go :1473-1496) kills main; a main that traps TERM and exits 0 Succeeds
    manifest_run = request.getfixturevalue(runner)
    strategy = "{limit: '1', retryPolicy: Always, backoff: {duration: '0', maxDuration: '2s'}}"
    script = "if [ {{retries}} = 0 ]; then exit 1; fi; trap 'echo got TERM; exit 0' TERM; sleep 30 & wait"
    run = manifest_run(workflow("      - {name: t, template: t}\n",
                                shell("t", script, f"    retryStrategy: {strategy}\n")))  # fmt: skip
    task = run.task("t")
    assert task["phase"] == "Succeeded" and task["attempts"] == 2, (task, run.out)
    assert "got TERM" in run.log("t") and "[wait] Step exceeded its deadline" in run.log("t")


# -- A6: `when` as govaluate reads it ---------------------------------------------------------------------------
def test_when_comparisons_arithmetic_patterns_and_lists_run_their_tasks(manifest_run) -> None:
    # probe m05: govaluate parses and evaluates these (steps.go :384-420; the table is test_run_when.py). The
    # audit expected `my-task == my-task` to run too, but govaluate reads `my - task` (measured): Error
    whens = ["3 > 1", "1 + 1 == 2", "'abc' =~ 'a.c'", "'a' in ('a', 'b')", "1 == 1.0", "my-task == my-task"]
    tasks = "".join(f"      - {{name: t{i}, template: ok, when: {w!r}}}\n" for i, w in enumerate(whens))
    run = manifest_run(workflow(tasks, shell("ok", "exit 0"), fail_fast=False))
    assert [run.task(f"t{i}")["phase"] for i in range(6)] == ["Succeeded"] * 5 + ["Error"], run.out
    assert "Value 'my' cannot be used with the modifier '-'" in run.task("t5")["message"]


# -- A7: {{=expr}} wherever Argo evaluates it ----------------------------------------------------------------------
EXPRESSIONS = """  - name: echo
    inputs: {parameters: [{name: x}]}
    container:
      image: x
      command: [sh, -c]
      args: ["echo \\"value={{=sprig.upper('abc')}} x={{=1+1}} in=$IN\\""]
      env: [{name: IN, value: "{{=inputs.parameters.x + '-' + string(asInt(workflow.parameters.n) * 2)}}"}]
"""


def test_expression_tags_in_a_pod_template_and_task_arguments(manifest_run) -> None:
    # util/template: every {{=...}} of the template is run by expr-lang over Argo's env (env.go :19-30)
    tasks = "      - {name: t, template: echo, arguments: {parameters: [{name: x, value: \"{{=upper('q')}}\"}]}}\n"
    text = workflow(tasks, EXPRESSIONS).replace(
        "spec:\n", "spec:\n  arguments: {parameters: [{name: n, value: '21'}]}\n"
    )
    run = manifest_run(text)
    assert run.phase == "Succeeded", run.out
    assert run.log("t").splitlines() == ["value=ABC x=2 in=Q-42"]


def test_an_expression_that_fails_at_run_time_makes_the_node_error(manifest_run) -> None:
    template = EXPRESSIONS.replace("{{=1+1}}", "{{=asInt(inputs.parameters.x)}}")
    run = manifest_run(workflow("      - {name: t, template: echo, arguments: {parameters: [{name: x, value: 3.5}]}}\n",
                                template))  # fmt: skip
    assert run.task("t")["phase"] == "Error" and "failed to evaluate expression" in run.task("t")["message"]


@pytest.mark.parametrize("expression", ["jsonpath(x, '$.a')", "sprig.uuidv4()", "map([1], {# + 1})", "x | upper()"])
def test_expressions_outside_the_port_are_refused_before_running(expression: str) -> None:
    import yaml

    from compiler.run.manifest import Unsupported, load

    text = workflow("      - {name: t, template: echo}\n", shell("echo", f"echo {{{{={expression}}}}}"))
    with pytest.raises(Unsupported, match=r"spec.templates\[echo\]: .*not supported by osmo run"):
        load(yaml.safe_load(text))


# -- A16: a resource step polls while neither condition matches --------------------------------------------------
SPLIT = """apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: part-2}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks: [{name: s, template: slow}]
  - {name: slow, container: {image: x, command: [sh, -c, "sleep 3"]}}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: parent-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: create, template: create}
      - {name: pause, template: pause}
      - {name: get, template: get, depends: pause}
  - name: create
    resource:
      action: create
      manifest: |
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: child-1}
        spec: {workflowTemplateRef: {name: part-2}}
  - name: get
GET
    resource:
      action: get
      successCondition: CONDITION
      manifest: |
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: child-1}
  - {name: pause, container: {image: x, command: [sh, -c, "sleep 1"]}}
"""


def test_a_resource_get_polls_a_running_child_until_its_condition_matches(manifest_run) -> None:
    # WaitResource (executor/resource.go :223-245): neither condition yet (the child is Running): poll again
    run = manifest_run(SPLIT.replace("GET\n", "").replace("CONDITION", "status.phase == Succeeded"))
    assert run.phase == "Succeeded", run.out
    assert "get: Neither success condition nor the failure condition has been matched. Retrying..." in run.out


def test_a_resource_step_that_never_matches_ends_at_its_deadline(manifest_run) -> None:
    # the resource pod's activeDeadlineSeconds is what bounds the wait (nothing else does on Argo)
    started = time.monotonic()
    run = manifest_run(
        SPLIT.replace("GET", "    activeDeadlineSeconds: 2").replace("CONDITION", "status.phase == Nope")
    )
    assert run.phase == "Failed", run.out
    assert run.message == "Pod was active on the node longer than the specified deadline"
    assert time.monotonic() - started >= 2


# -- A17: a pod's globalName output is set when its node completes ------------------------------------------------
OUTPUTS = """    outputs:
      parameters:
      - {name: v, globalName: greeting, valueFrom: {path: /tmp/v}}
      - {name: d, globalName: fallback, valueFrom: {path: /tmp/none, default: dflt}}
"""


def test_a_pods_global_output_is_set_when_its_node_completes(manifest_run) -> None:
    # podReconciliation -> addOutputsToGlobalScope (operator.go :1257, :3701-3712), whatever the DAG does next;
    # SaveParameters (executor.go :738-786) runs after main whatever its exit code, trimming one newline
    argument = "arguments: {parameters: [{name: x, value: '{{tasks.a.outputs.parameters.v}}'}]}"
    tasks = ("      - {name: a, template: writes}\n"
             f"      - {{name: b, template: reads, depends: a.Failed, {argument}}}\n")  # fmt: skip
    reads = "    inputs: {parameters: [{name: x}]}\n"
    templates = shell("writes", "printf 'hello\\n' > /tmp/v; exit 1", OUTPUTS) + shell(
        "reads", "echo {{workflow.outputs.parameters.greeting}} {{inputs.parameters.x}}; exit 2", reads
    )
    run = manifest_run(workflow(tasks, templates))
    assert run.phase == "Failed", run.out
    assert run.engine.outputs == {"greeting": "hello", "fallback": "dflt"}
    assert run.log("b").splitlines() == ["hello hello"]


def test_a_missing_output_parameter_without_default_makes_a_successful_pod_error(manifest_run) -> None:
    outputs = "    outputs: {parameters: [{name: v, valueFrom: {path: /tmp/none}}]}\n"
    run = manifest_run(workflow("      - {name: a, template: writes}\n", shell("writes", "true", outputs)))
    assert run.task("a")["phase"] == "Error" and run.task("a")["message"] == "open /tmp/none: no such file or directory"


P04 = """
workflow:
  name: p04-phase-order
  groups:
  - name: aa
    tasks: [{name: fails, lead: true, image: ubuntu:24.04, command: [sh, -c], args: ["exit 1"]}]
  - name: zz
    tasks:
    - {name: lead, lead: true, image: ubuntu:24.04, command: [sh, -c], args: ["sleep 1; exit 42"],
       exitActions: {RESCHEDULE: 42}}
    - {name: side, image: ubuntu:24.04, command: [sh, -c], args: ["sleep 5"]}
"""


def test_the_compiled_main_dag_takes_the_phase_of_its_last_failed_group(osmo_run, tmp_path) -> None:
    # probe p04: the compiled main has failFast false; aa is Failed, zz is Error (its restarts exhausted), and
    # zz comes last in sorted order: the workflow is Error (dag.go :217-245, operator.go :447-456)
    profile = tmp_path / "profile.yaml"
    profile.write_text("maxRetries: 1\n")
    run = osmo_run(P04, profile=str(profile), timeout="120s")
    assert run.summary["phase"] == "Error", run.out
    assert run.summary["tasks"]["fails"]["phase"] == "Failed"
