"""The registry of every diagnostic code: the single source of truth for ``docs/diagnostics.md``.

Codes are stable and grouped by family (the letter): a code, once released, keeps
its meaning. Each entry has a short kebab-case name, a default severity and a
one-line summary. ``Diagnostic()`` refuses a code that is not registered here;
``tests/diagnostics/test_codes.py`` checks that every code has a test case and that the
docs table is generated from this table (regenerate with
``python -m pytest tests/diagnostics/test_codes.py --regen-goldens``).

Only warnings can be silenced with ``# osmo: ignore[CODE]`` (see ``suppress.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


E, W = Severity.ERROR, Severity.WARNING

FAMILIES = {
    "L": "load and render (reading the file, YAML, Jinja, `localpath`)",
    "S": "schema (structure, types, allowed values)",
    "V": "semantic (OSMO's rules across fields)",
    "U": "unsupported (valid OSMO this compiler cannot map to Argo)",
    "A": "Argo limits and output",
    "P": "profiles",
}


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str

    @property
    def suppressible(self) -> bool:
        return self.severity is Severity.WARNING


_TABLE = [
    # L1xx: load and render
    ("L101", "unreadable-file", E, "the file is too large, binary (NUL bytes) or not UTF-8"),
    ("L102", "invalid-yaml", E, "a section is not valid YAML (after Jinja rendering for `workflow`)"),
    ("L103", "duplicate-key", E, "a mapping sets the same key twice; YAML would silently keep the last"),
    (
        "L104",
        "unknown-section",
        E,
        "an unknown top-level key (a workflow file has only workflow, default-values, version)",
    ),
    ("L105", "duplicate-section", E, "a top-level section is defined twice"),
    ("L106", "no-workflow-section", E, "the file has no top-level `workflow:` key at column 0"),
    ("L107", "jinja-syntax", E, "Jinja syntax error in the `workflow` section"),
    ("L108", "jinja-undefined", E, "a Jinja variable has no value (not in default-values nor --set)"),
    ("L109", "jinja-error", E, "Jinja raised an error while rendering"),
    ("L110", "jinja-refused", E, "the template exceeded the sandbox's time or size limits or did something unsafe"),
    ("L111", "localpath-unreadable", E, "a `files[].localpath` does not exist or is not UTF-8 text"),
    ("L112", "localpath-and-contents", E, "a file sets both `contents` and `localpath`"),
    ("L113", "localpath-outside", E, "a `localpath` points outside the workflow's directory or git repository"),
    ("L114", "bad-suppression", W, "an `# osmo: ignore[...]` comment is malformed, names an unknown code or an error"),
    ("L115", "yaml-limit", E, "YAML alias expansion, a recursive alias or nesting depth over the limits"),
    (
        "L116",
        "byte-order-mark",
        E,
        "the file starts with a UTF-8 byte-order mark; OSMO then finds no `workflow:` section",
    ),
    ("L117", "unused-set-value", W, "a `--set`/`--set-string` name that no template uses (the value is ignored)"),
    ("L118", "set-number-form", W, "`--set` read a value as a number whose text differs (24.10 renders as 24.1)"),
    ("L119", "token-built-in-jinja", E, "a token with Jinja inside it (`{{input:{{i}}}}`), which OSMO never renders"),
    ("L120", "set-value-structure", W, "a `--set` value YAML reads as structure where the template does not quote it"),
    # S2xx: schema
    ("S201", "unknown-key", E, "a key that is not allowed at this place (with a did-you-mean)"),
    ("S202", "missing-key", E, "a required key is missing"),
    ("S203", "wrong-type", E, "a value has the wrong type"),
    ("S204", "invalid-value", E, "a value is not allowed (pattern, enum, empty list, ...)"),
    ("S205", "exclusive-keys", E, "two keys that exclude each other are both set"),
    (
        "S206",
        "converted-value",
        W,
        "a value of another type that OSMO converts the way pydantic does (lead: 1 is true, gpu: true is 1)",
    ),
    # V3xx: semantic
    ("V301", "duplicate-name", E, "two tasks/groups have the same name (case and -/_ insensitive)"),
    ("V302", "tasks-and-groups", E, "the workflow uses both `tasks` and `groups`"),
    ("V303", "no-tasks", E, "the workflow has neither tasks nor groups"),
    ("V304", "group-lead", E, "a group with several tasks does not have exactly one `lead: true`"),
    ("V305", "unknown-input-task", E, "a task input names a task that does not exist"),
    ("V306", "input-order", E, "a task reads a task that is not listed before it (or an earlier group)"),
    ("V307", "input-index", E, "`{{input:N}}` refers to an input the task does not have"),
    ("V308", "input-name", E, "`{{input:NAME}}` names a task that is not an input of this task"),
    ("V309", "host-token", E, "`{{host:X}}` names a task outside the task's group"),
    ("V310", "undefined-resource", E, "a task requests a resource profile that is not defined"),
    ("V311", "no-resource", E, "a task has no `resource` and there is no `default` profile"),
    ("V312", "reserved-name", E, "a task is named osmo-ctrl, which OSMO reserves"),
    ("V313", "file-path", E, "a file path is empty, relative, or under /osmo"),
    ("V314", "duplicate-file-path", E, "a task has several files at the same path"),
    ("V316", "name-too-long", E, "the workflow name is longer than Argo's 63-character label limit"),
    ("V317", "stray-braces", E, "`{{...}}` that is not an OSMO token and that Argo would try to interpret"),
    ("V318", "uuid-token", W, "`{{uuid}}` is never replaced by OSMO; it stays literal text"),
    ("V319", "invalid-base64", E, "`base64: true` file contents are not valid base64"),
    ("V320", "ignored-key", W, "a key accepted by OSMO that has no meaning on Argo and is ignored"),
    ("V321", "empty-exit-range", W, "an exit-code range whose start is after its end"),
    ("V322", "invalid-regex", E, "an input/output/checkpoint regex does not compile"),
    ("V324", "invalid-image", E, "an image reference OSMO cannot parse (its docker_parse rule)"),
    ("V325", "invalid-cache-size", E, "`cacheSize` is not a percentage from 0 to 100 nor a quantity (OSMO's rule)"),
    ("V326", "invalid-download-type", E, "`downloadType` is not `download` (OSMO's rule)"),
    ("V327", "unsupported-version", E, "`version` is not 2: OSMO ignores the section, this compiler refuses it"),
    (
        "V328",
        "negative-value",
        E,
        "a negative cpu, gpu, timeout or checkpoint frequency: OSMO's schema takes it, it fails later",
    ),
    ("V329", "invalid-duration", E, "a duration OSMO cannot recognise (text of digits needs a unit)"),
    (
        "V323",
        "ambiguous-exit-codes",
        E,
        "an exit-code range with two dashes (like 1-22-3): OSMO's pattern accepts it, it means nothing",
    ),
    (
        "V330",
        "invalid-volume-mount",
        E,
        "a `volumeMounts` entry has more than two parts or an empty destination (OSMO's rule)",
    ),
    (
        "V331",
        "invalid-storage-url",
        E,
        "not a storage URL OSMO accepts (unknown scheme, or a shape its storage regexes refuse)",
    ),
    ("V332", "http-input", W, "an http(s) input: OSMO itself refuses the file; this compiler downloads it as one file"),
    (
        "V333",
        "volume-mount-path",
        E,
        "a `volumeMounts` path that is empty or relative: OSMO leaves it to the pool allow-list; refused here",
    ),
    (
        "V340",
        "nonlead-status",
        W,
        "ignoreNonleadStatus: false: a failed non-lead fails the group but does not stop the lead",
    ),
    (
        "V341",
        "nonlead-output",
        W,
        "a task reads a non-lead task's output, which exists only if it ended before its lead",
    ),
    ("V342", "topology-keys", E, "the tasks of a workflow use different sets of topology keys (OSMO's rule)"),
    ("V343", "topology-node-label", W, "a topology key without '/' is used as the Kubernetes node-label name"),
    (
        "V344",
        "reserved-label",
        E,
        "a workflow label Argo or the compiler sets on every pod (workflows.argoproj.io/...)",
    ),
    ("V345", "expression-word-name", E, "a group or task named like a word of Argo's expression language (in, not...)"),
    ("V346", "file-in-mount", E, "a `files:` path inside a host mount or a credential mount"),
    ("V347", "shell-line-in-one-item", W, "a shell command line given as one program name or as a script file name"),
    ("V348", "osmo-path-literal", W, "a literal /osmo/... path that is not OSMO's output or input folder"),
    (
        "V350",
        "secret-in-environment",
        E,
        "an environment variable that looks like a secret has a literal value; use credentials",
    ),
    # U4xx: unsupported
    ("U402", "removed-feature", E, "a key OSMO itself removed (dataset inputs/outputs)"),
    ("U403", "binary-file", E, "binary file contents that an Argo raw artifact cannot carry"),
    ("U410", "swift-url", E, "a `swift://` URL with no S3-compatible endpoint for it in the profile"),
    (
        "U411",
        "cross-workflow-input",
        E,
        "a `task: <workflow_id>:<task>` input, but the profile has no `taskOutputs.keyFormat`",
    ),
    ("U412", "relative-checkpoint", E, "a checkpoint path that is not absolute"),
    ("U413", "reschedule-on-success", E, "RESCHEDULE on exit code 0, which Argo cannot retry"),
    ("U414", "http-output", E, "an http(s) output URL; Argo cannot upload there"),
    (
        "U415",
        "bucket-root-url",
        E,
        "an input or output URL that is a whole bucket or container: Argo artifacts need a key",
    ),
    (
        "U416",
        "nonlead-reschedule",
        W,
        "RESCHEDULE of a non-lead cannot be expressed: Argo never retries a daemon once it runs, so the code fails it",
    ),
    (
        "U417",
        "sibling-prefix",
        W,
        "an azure:// folder input (no trailing /) whose listing also pulls sibling prefixes (data2/, data.bak)",
    ),
    (
        "U418",
        "group-restart-on-error",
        W,
        "a group that restarts on its lead's RESCHEDULE also restarts when the lead ends in Error for another reason",
    ),
    # A5xx: Argo limits and output
    ("A501", "manifest-too-large", E, "the Argo manifest is over the size limit etcd can store"),
    ("A502", "manifest-near-limit", W, "the Argo manifest is over 80% of the size limit"),
    ("A503", "group-too-large-to-split", E, "a group or task alone is larger than one part of a split workflow"),
    # P6xx: profiles
    ("P601", "profile-schema", E, "the profile does not match its schema"),
    ("P602", "profile-unreadable", E, "the profile is not valid YAML or sets a key twice"),
    ("P604", "unknown-platform", E, "a resource platform is not in the profile's `platforms`"),
    ("P605", "unknown-pool", E, "the pool is not in the profile's `pools`"),
    ("P606", "not-allowed-by-platform", E, "privileged, hostNetwork or a host mount the profile does not allow"),
    ("P607", "timeout-clamped", W, "a timeout above the profile's maximum is reduced to it (OSMO does this silently)"),
    ("P608", "reschedule-never-fires", W, "RESCHEDULE with a retry limit of 0 can never fire"),
    ("P610", "profile-convention", W, "no profile entry: a documented convention was assumed (once per assumption)"),
    ("P611", "queue-timeout-unenforced", W, "queue_timeout on an Argo older than 4.1, which has no pendingTimeout"),
    (
        "P612",
        "checkpoint-region",
        W,
        "a checkpoint to AWS S3 with no region in the profile: rclone signs for us-east-1",
    ),
    ("P613", "storage-credentials-impossible", E, "a profile storage entry whose credentials cannot work"),
    (
        "P614",
        "storage-pod-identity",
        W,
        "a profile storage entry without a Secret: pods use their own cloud identity",
    ),
    (
        "P615",
        "final-outputs-not-kept",
        W,
        "no artifact repository in the profile: outputs no later task reads are not kept",
    ),
    (
        "P616",
        "gang-scheduler-caveat",
        W,
        "KAI's pod-grouper regroups Argo's pods (KAI v0.13.0, v0.20.1): a group is not gang-scheduled there",
    ),
]

CODES: dict[str, Code] = {row[0]: Code(*row) for row in _TABLE}


def lookup(code: str) -> Code | None:
    """The registered code (case-insensitive), or None."""
    return CODES.get(code.strip().upper())


def markdown_table() -> str:
    """The table of all codes, one section per family, as in ``docs/diagnostics.md``."""
    out = []
    for letter, family in FAMILIES.items():
        rows = [c for c in CODES.values() if c.code.startswith(letter)]
        if not rows:
            continue
        out.append(f"### {letter}{rows[0].code[1]}xx: {family}\n")
        out.append("| Code | Name | Severity | Meaning |")
        out.append("|------|------|----------|---------|")
        for c in sorted(rows, key=lambda c: c.code):
            summary = c.summary.replace("|", "\\|")
            out.append(f"| `{c.code}` | {c.name} | {c.severity.value} | {summary} |")
        out.append("")
    return "\n".join(out)


def explain(code: str) -> str | None:
    """Text for ``osmo explain CODE``."""
    c = lookup(code)
    if c is None:
        return None
    how = (
        f"silence it with `# osmo: ignore[{c.code}]` on the line, or `# osmo: ignore-file[{c.code}]`"
        if c.suppressible
        else "an error: it cannot be silenced; fix the workflow"
    )
    from .examples import example_text

    text = f"{c.code} {c.name} ({c.severity.value})\n  {c.summary}\n  family: {FAMILIES[c.code[0]]}\n  {how}"
    example = example_text(c.code)
    return text if example is None else f"{text}\n{example.rstrip()}"


def listing() -> str:
    """``osmo explain`` without a code: every code, one line each, by family."""
    width = max(len(c.name) for c in CODES.values())
    return (
        "".join(f"{c.code}  {c.name:<{width}}  {c.severity.value:<7}  {c.summary}\n" for c in CODES.values())
        + "Run `osmo explain CODE` for one code (with a wrong and a fixed example for the common ones).\n"
    )


DOC_BEGIN = "<!-- BEGIN CODES (generated from compiler/codes.py; do not edit by hand) -->"
DOC_END = "<!-- END CODES -->"


def with_table(doc: str) -> str:
    """``doc`` (the text of ``docs/diagnostics.md``) with the generated table between its markers."""
    start, end = doc.index(DOC_BEGIN) + len(DOC_BEGIN), doc.index(DOC_END)
    return doc[:start] + "\n\n" + markdown_table() + "\n" + doc[end:]
