"""What the commands' options share: one help text per option everywhere, and the defaults of
`osmo submit` that both its command line (cli.py) and its logic (compiler/submit/) need."""

SET = "Jinja value KEY=VALUE (int, then float, else string); overrides default-values. Repeatable."
SET_STRING = "Jinja value KEY=VALUE, always a string; overrides --set. Repeatable."
SET_ENV = "Environment variable KEY=VALUE added to every task (overrides the spec). Repeatable."
SERVICE_ACCOUNT = "spec.serviceAccountName."
ARTIFACT_REPOSITORY_REF = "spec.artifactRepositoryRef: where task outputs are stored."
ALLOW_ANY_LOCALPATH = "Let files[].localpath read outside the workflow's directory."
PROFILE = "Cluster profile (default: $OSMO_PROFILE, else osmo-profile.yaml next to the workflow or above)."
POOL = "Pool whose placement the tasks get (default: the profile's defaultPool)."
MAX_BYTES = (
    "Size limit of one Argo object in bytes (compact JSON): larger workflows are split into parts (or refused "
    "with --no-split); warn at 80%. [default: Argo's 1 MiB]"
)
SPLIT = "Over --max-bytes, split the workflow into stored WorkflowTemplate parts run by one parent Workflow."
SHARE_TEMPLATES = "One parametrised template for tasks that differ only in a few strings."

POLL_INTERVAL_S = 2.0  # submit --wait: polling interval when the watch stream is unavailable
REQUEST_TIMEOUT_S = 30.0  # submit: each request to the Argo Server
