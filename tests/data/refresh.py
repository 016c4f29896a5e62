"""Re-copy the vendored test data from the project's reference material and rewrite the slice record.

    python tests/data/refresh.py [SHARED]      # SHARED defaults to ../shared (beside the checkout)

Copies Argo's JSON Schema (``SHARED/argo/schema.json``) and its licence, the Python port of Argo's validation
(``SHARED/argo/validate/``: ``argo_validate.py`` and its README), and the slice of OSMO's workflow
corpus listed in ``SLICE`` and the e2e differential's ``CORPUS`` (``SHARED/osmo-examples/...``) and its licence,
byte for byte. Then writes
``tests/data/osmo-examples-record.txt``: the lines of the full corpus record
(``tests/conformance/corpus-record.txt``, rewritten by ``pytest tests/conformance --regen-goldens`` with
``../shared`` present) for the vendored files. Review the diff, and update the source commits in the
READMEs when the reference material moved.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent
ROOT = DATA.parents[1]
FULL_RECORD = ROOT / "tests" / "conformance" / "corpus-record.txt"
SLICE_RECORD = DATA / "osmo-examples-record.txt"
LOCALPATH = re.compile(r"^[\s-]*localpath:\s*(\S+)", re.MULTILINE)

# A representative slice: tutorials, groups (lead, ignoreNonleadStatus, {{host:..}}), URL inputs and
# outputs, Jinja (default-values, loops), exit actions, checkpoints, credentials, platforms -- and
# OSMO's negative tests (files OSMO itself refuses at submission or at runtime).
SLICE = [
    "cookbook/tutorials/hello_world.yaml",
    "cookbook/tutorials/serial_workflow.yaml",
    "cookbook/tutorials/template_hello_world.yaml",
    "cookbook/tutorials/group_tasks_communication.yaml",
    "cookbook/tutorials/data_download.yaml",
    "cookbook/tutorials/data_upload.yaml",
    "cookbook/tutorials/combination_workflow_complex.yaml",
    "cookbook/dnn_training/torchrun_reschedule/train.yaml",
    "cookbook/dnn_training/torchrun_multinode/train.yaml",
    "cookbook/cosmos/transfer/cosmos_transfer.yaml",
    "cookbook/nims/use_nim.yaml",
    "cookbook/integration_and_tools/github/github.yaml",
    "cookbook/hil/hil_isaac_lab.yaml",
    "skills/osmo-user/evals/files/jinja_workflow.yaml",
    "test/workflow/exit_actions.yaml",
    "test/workflow/group_actions.yaml",
    "test/workflow/restart.yaml",
    "test/workflow/serial_workflow.yaml",
    # OSMO's negative tests
    "test/workflow/bad_command.yaml",
    "test/workflow/empty_command.yaml",
    "test/workflow/bad_image.yaml",
    "test/workflow/bad_resource_workflow_v2.yaml",
    "test/workflow/invalid_mount.yaml",
    "test/workflow/invalid_src_dest_mount.yaml",
    "test/workflow/resource_type.yaml",
    "test/workflow/parallel_workflow_multi_groups.yaml",
    "test/workflow/parallel_workflow_leader_exits.yaml",
    "test/workflow/template_too_much_cpu.yaml",
    "test/workflow/template_too_much_memory.yaml",
    "test/workflow/template_unsafe.yaml",
    "test/workflow/scripts/app_spec.yaml",
]


def differential_corpus() -> list[str]:
    """The corpus workflows ``tests/e2e/test_differential.py`` runs on the lab (its ``CORPUS``), vendored too so a
    clone without ../shared judges them all; read from the test's source, without importing pytest."""
    tree = ast.parse((ROOT / "tests" / "e2e" / "test_differential.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CORPUS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise SystemExit("refresh: tests/e2e/test_differential.py has no CORPUS list")


def copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def main(shared: Path) -> int:
    if not (shared / "argo" / "schema.json").is_file() or not (shared / "osmo-examples").is_dir():
        print(f"refresh: {shared} has no argo/schema.json or osmo-examples/", file=sys.stderr)
        return 2
    for name in ("schema.json", "LICENSE", "validate/argo_validate.py", "validate/README.md"):
        copy(shared / "argo" / name, DATA / "argo" / name)
    corpus = DATA / "osmo-examples"
    copy(shared / "osmo-examples" / "LICENSE", corpus / "LICENSE")
    for old in corpus.rglob("*"):
        if old.is_file() and old.name != "LICENSE":
            old.unlink()
    names = SLICE + [name for name in differential_corpus() if name not in SLICE]
    for name in names:
        source = shared / "osmo-examples" / name
        copy(source, corpus / name)
        # the local files a workflow inlines (files[].localpath), relative to the workflow
        for local in LOCALPATH.findall(source.read_text(encoding="utf-8")):
            copy(source.parent / local, corpus / Path(name).parent / local)
    record = FULL_RECORD.read_text().splitlines()
    chosen = set(names)
    SLICE_RECORD.write_text("".join(line + "\n" for line in record if line.partition(": ")[0] in chosen))
    print(f"refresh: copied the Argo schema, the validate port and {len(names)} OSMO workflows; wrote {SLICE_RECORD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared"))
