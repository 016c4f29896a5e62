"""Build the lab's programs from their Go modules, pinned in go.mod files, with the ordinary Go client.

Four modules, because their libraries cannot be one version: the control plane (go.mod here:
k8s.io/kubernetes with its staging modules replaced by their published tags), etcd (etcd/go.mod, the
server at the version Kubernetes pins), Argo (argo/go.mod: Argo v4.0.7 does not compile against the
control plane's newer k8s.io/apimachinery) and the cluster services (services/go.mod: CoreDNS, the
Distribution registry, rclone).

Nothing is downloaded but Go modules through the module proxy. Two steps of Argo's own build happen in a
copy of its module in the cache folder (the module cache is read-only), which a replace line in a copy of
argo/go.mod (`-modfile`, also in the cache folder) points at; nothing of it enters the repository:
- `argo` embeds its web UI from `ui/dist/app`, which the module does not ship; Argo's build without static
  files (`make STATIC_FILES=false`) writes a placeholder `index.html` there.
- Argo's repository has `workflow/executor/osspecific/signal_linux.go` as a symbolic link to
  `signal_darwin.go`; Go's module zips cannot hold links, so the module lacks it and `argoexec` does not
  build for Linux ("undefined: Setpgid"). The copy gets the link back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .paths import LAB_SOURCE, Layout
from .steps import LabError, step

ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"
K8S_MODULE = "k8s.io/kubernetes"


@dataclass(frozen=True)
class Module:
    folder: Path
    programs: list[str] = field(default_factory=list)

    @property
    def binaries(self) -> list[str]:
        return [p.rsplit("/", 1)[1] for p in self.programs]


CONTROL_PLANE = Module(
    LAB_SOURCE,
    [
        "./cmd/pause",
        f"{K8S_MODULE}/cmd/kube-apiserver",
        f"{K8S_MODULE}/cmd/kube-controller-manager",
        f"{K8S_MODULE}/cmd/kube-scheduler",
        f"{K8S_MODULE}/cmd/kubelet",
    ],
)
ARGO = Module(
    LAB_SOURCE / "argo",
    [
        f"{ARGO_MODULE}/cmd/argoexec",
        f"{ARGO_MODULE}/cmd/workflow-controller",
        f"{ARGO_MODULE}/cmd/argo",
    ],
)
ETCD = Module(LAB_SOURCE / "etcd", ["github.com/osmo-compiler/osmo-lab/etcd"])
SERVICES = Module(LAB_SOURCE / "services", ["./cmd/coredns", "./cmd/registry", "./cmd/rclone"])
MODULES = [ARGO, CONTROL_PLANE, ETCD, SERVICES]


def pinned_version(module: str, folder: Path) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", (folder / "go.mod").read_text(), re.M)
    if not match:
        raise LabError(f"{folder / 'go.mod'} pins no version of {module}")
    return match.group(1)


def go_env() -> dict[str, str]:
    # CGO off: argoexec is copied into the user's images and must be static; the rest gains nothing from cgo.
    return {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


def ldflags(module: Module) -> str:
    """Version stamps, as the upstream release builds set them (Kubernetes' components and Argo print them
    for `--version`, and the API server reports its own to clients)."""
    flags = ["-s", "-w"]
    if module is ARGO:
        flags.append(f"-X {ARGO_MODULE}.version={pinned_version(ARGO_MODULE, ARGO.folder)}")
    elif module is CONTROL_PLANE:
        k8s = pinned_version(K8S_MODULE, LAB_SOURCE)
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            flags += [
                f"-X {package}.gitVersion={k8s}",
                f"-X {package}.gitMajor=1",
                f"-X {package}.gitMinor={k8s.split('.')[1]}",
                f"-X {package}.gitTreeState=clean",
            ]
    return " ".join(flags)


def module_dir(module: str, version: str) -> Path:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        cwd=LAB_SOURCE,
        env=go_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise LabError(f"go mod download {module}@{version} failed:\n{out.stdout}{out.stderr}")
    return Path(json.loads(out.stdout)["Dir"])


def argo_copy(layout: Layout) -> Path:
    """The pinned Argo module with the two build steps of the module docstring."""
    version = pinned_version(ARGO_MODULE, ARGO.folder)
    target = layout.build / f"argo-{version}"
    ui = target / "ui" / "dist" / "app" / "index.html"
    if ui.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(module_dir(ARGO_MODULE, version), target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)  # the module cache is read-only; the copy is ours to write
    link = target / "workflow" / "executor" / "osspecific" / "signal_linux.go"
    if not link.exists():
        link.symlink_to("signal_darwin.go")
    ui.parent.mkdir(parents=True)
    ui.write_text("<!doctype html><title>Argo Server (built without its web UI)</title>\n")
    return target


def argo_modfile(layout: Layout) -> Path:
    mod = layout.build / "argo.mod"
    shutil.copyfile(ARGO.folder / "go.mod", mod)
    shutil.copyfile(ARGO.folder / "go.sum", mod.with_suffix(".sum"))
    subprocess.run(
        ["go", "mod", "edit", f"-modfile={mod}", f"-replace={ARGO_MODULE}={argo_copy(layout)}"],
        cwd=ARGO.folder,
        env=go_env(),
        check=True,
    )
    return mod


def built(layout: Layout) -> bool:
    return (layout.bin / ".complete").exists()


def go_build(module: Module, out: Path, log: Path, modfile: Path | None = None) -> None:
    argv = ["go", "build", "-trimpath", "-ldflags", ldflags(module), "-o", f"{out}/", *module.programs]
    if modfile is not None:
        argv.insert(2, f"-modfile={modfile}")
    with log.open("a") as sink:
        sink.write(f"\n$ (cd {module.folder} && {' '.join(argv)})\n")
        sink.flush()
        done = subprocess.run(argv, cwd=module.folder, env=go_env(), stdout=sink, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise LabError("go build failed", log=log)


def build(layout: Layout) -> None:
    """Build every program into layout.bin, once per set of pinned versions."""
    if built(layout):
        print(f"lab: build up to date ({layout.bin})", flush=True)
        return
    if shutil.which("go") is None:
        raise LabError("build: `go` is not on PATH (the lab builds its programs with the Go client)")
    layout.build.mkdir(parents=True, exist_ok=True)
    staging = layout.bin.with_name(layout.bin.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)  # kept across a failed build: what was linked stays
    log = layout.build / "build.log"
    log.write_text("")
    for module in MODULES:
        if all((staging / name).exists() for name in module.binaries):
            continue
        what = f"go build {', '.join(module.binaries)} (cold: up to an hour on 2 cores; log {log})"
        with step(what):
            go_build(module, staging, log, argo_modfile(layout) if module is ARGO else None)
    (staging / ".complete").write_text(" ".join(b for m in MODULES for b in m.binaries) + "\n")
    shutil.rmtree(layout.bin, ignore_errors=True)
    staging.rename(layout.bin)
    for other in layout.bin.parent.iterdir():  # binaries of earlier pinned versions: no longer used
        if other != layout.bin:
            shutil.rmtree(other, ignore_errors=True)
