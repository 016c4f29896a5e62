"""The kubelet's `$(VAR)` expansion of a container's env values, command and args.

A cluster never runs `args: ['$(FILE_PATH)']` as written: the kubelet replaces `$(NAME)` by the value of the
container's environment variable NAME before the container starts (OSMO's own tests rely on it). The rules are
Kubernetes' (k8s.io/kubernetes third_party/forked/golang/expansion, used by kubelet_pods.go
makeEnvironmentVariables and ExpandContainerCommandAndArgs):

- `$(NAME)` with NAME defined: its value; with NAME undefined: left as written, `$(NAME)`;
- `$$` is one literal `$` (so `$$(NAME)` is the text `$(NAME)`);
- a `$(` without its `)`, and a `$` before any other character, stay as written;
- an env value may use the variables defined *before* it in the list; a value from a Secret is not expanded.
"""

from __future__ import annotations

from collections.abc import Mapping


def expand(text: str, variables: Mapping[str, str]) -> str:
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            following = text[cursor + 1]
            advance = 1
            if following == "$":
                out.append("$")
            elif following == "(":
                close = text.find(")", cursor + 2)
                if close == -1:
                    out.append("$(")
                else:
                    name = text[cursor + 2 : close]
                    out.append(variables[name] if name in variables else f"$({name})")
                    advance = close - cursor
            else:
                out.append("$" + following)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)
