"""What ``osmo compile`` can be told: one options object, from the command line to the emitter.

``cli.py`` (and ``osmo submit``) build a :class:`CompileOptions`; ``pipeline`` checks the
options that need the cluster profile once, before loading anything, and hands the same
object to the emitter, which reads what it needs (profile values fill what a flag leaves unset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from .profile import Profile

MAX_WORKFLOW_BYTES = 1024 * 1024  # Argo: "the workflow must be under 1 MiB" (etcd object size)
KINDS = ("Workflow", "WorkflowTemplate")


@dataclass(frozen=True)
class CompileOptions:
    """Everything ``osmo compile`` can be told (``osmo submit`` takes the same)."""

    set_values: tuple[str, ...] = ()  # "k=v" from --set
    set_strings: tuple[str, ...] = ()  # "k=v" from --set-string
    set_env: tuple[str, ...] = ()  # "K=V" from --set-env
    namespace: str | None = None
    service_account: str | None = None
    artifact_repository_ref: str | None = None  # "CONFIGMAP:KEY"
    kind: str = "Workflow"
    allow_any_localpath: bool = False
    max_bytes: int = MAX_WORKFLOW_BYTES
    profile: str | None = None  # --profile PATH (else $OSMO_PROFILE, else osmo-profile.yaml upward)
    pool: str | None = None  # --pool (else the profile's defaultPool)
    environ: dict | None = None  # for tests: the environment to read OSMO_PROFILE from
    share_templates: bool = True  # one parametrised template for tasks of the same shape (share.py)
    split: bool = (
        True  # over max_bytes: stored parts run by a parent Workflow (argo/split/packing.py); False keeps A501
    )
    # --set values given to many workflows at once (the pre-commit hook): an unused name warns only as a typo (L117)
    shared_set_values: bool = False

    def validate(self, profile: Profile) -> None:
        """Raise UsageError for options that cannot be used (with the profile's values filled in)."""
        self.artifact_repository(profile)
        if self.kind not in KINDS:
            raise UsageError(f"--kind {self.kind!r}: expected Workflow or WorkflowTemplate")

    def artifact_repository(self, profile: Profile) -> tuple[str, str] | None:
        """(configMap, key) of the artifact repository: the flag, else the profile's; None for Argo's default."""
        repository = self.artifact_repository_ref or profile.artifact_repository_ref  # the flag wins
        if not repository:
            return None
        config_map, sep, key = repository.partition(":")
        if not sep or not config_map or not key:
            where = (
                "--artifact-repository-ref" if self.artifact_repository_ref else "the profile's artifactRepositoryRef"
            )
            raise UsageError(f"{where} {repository!r}: expected CONFIGMAP:KEY")
        return config_map, key

    def pool_name(self, profile: Profile) -> str | None:
        """The pool tasks run in: --pool, else the profile's defaultPool."""
        return self.pool or profile.get("defaultPool")
