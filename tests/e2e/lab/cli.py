"""The lab's command line: up, env, down, build, status."""

from __future__ import annotations

import argparse
import sys

from . import build, procs
from .down import down
from .paths import ARGO_SERVER_PORT, NAMESPACE, Layout, layout
from .steps import LabError
from .up import up


def env_lines(lab: Layout) -> list[str]:
    return [
        f"export KUBECONFIG={lab.pki / 'host.kubeconfig'}",
        f"export ARGO_SERVER=127.0.0.1:{ARGO_SERVER_PORT}",
        "export ARGO_SECURE=false",
        f"export ARGO_NAMESPACE={NAMESPACE}",
    ]


def is_up(lab: Layout) -> bool:
    return (lab.run / "pods").exists() and procs.running(lab, "argo-server")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python tests/e2e/lab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="build once, start everything, wait until a Workflow runs")
    start.add_argument(
        "--pods",
        choices=["kubelet", "none"],
        default="kubelet",
        help="kubelet: real pods (containerd + runc); none: control plane and Argo only",
    )
    commands.add_parser("env", help="print the export lines for a lab that is up")
    commands.add_parser("down", help="stop what `up` started and remove its state")
    only_build = commands.add_parser("build", help="only build the binaries into the cache folder")
    only_build.add_argument("--check", action="store_true", help="exit 0 if built for the pinned versions, else 1")
    commands.add_parser("status", help="which components run")
    args = parser.parse_args(argv)
    lab = layout()
    try:
        if args.command == "up":
            up(lab, args.pods)
            print("\n".join(env_lines(lab)))
        elif args.command == "env":
            if not is_up(lab):
                print("lab: not up (run `python tests/e2e/lab up`)", file=sys.stderr)
                return 1
            print("\n".join(env_lines(lab)))
        elif args.command == "down":
            down(lab)
        elif args.command == "build":
            if args.check:
                return 0 if build.built(lab) else 1
            build.build(lab)
        elif args.command == "status":
            for name in reversed(procs.names(lab)):
                print(
                    f"{name:24} {'running' if procs.running(lab, name) else 'stopped'} (pid {procs.pid_of(lab, name)})"
                )
    except LabError as error:
        print(error.report())
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
