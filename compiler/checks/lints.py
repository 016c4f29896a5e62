"""Cheap lints: mistakes OSMO accepts that fail only once the task runs, found before a run is spent.

* V347: a shell line written as one ``command`` item (``command: ["echo a && ls"]``): the kubelet runs the
  whole text as one program name, which does not exist; or a shell given the line as a script file name
  (``command: [sh]``, ``args: ["echo a && ls"]``).
* V348: a literal ``/osmo/...`` path that is not one of OSMO's data folders (``/osmo/output``): the task
  writes where nothing is uploaded, or reads where nothing was downloaded. The tokens say it right.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic
from ..load.document import TaskRef, as_list, as_str, dicts
from ..osmo import INPUT_DIR, OUTPUT_DIR

SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh"}
# Text that only a shell gives meaning to: operators, redirections, substitutions, variables, quotes.
_SHELL_SYNTAX_RE = re.compile(r"&&|\|\||[|;<>`]|\$[({\w]|\s['\"]")
# The kubelet's own expansion of an environment variable in command/args: ``args: ["$(FILE_PATH)"]`` is a path.
_KUBELET_VARIABLE_RE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")

# A path under /osmo/ standing on its own (not the tail of a longer path such as /data/osmo/x).
_OSMO_PATH_RE = re.compile(r"(?<![\w./~-])/osmo/[\w.+-]*(?:/[\w.+-]*)*")
_DATA_PATH_RE = re.compile(rf"^(?:{re.escape(OUTPUT_DIR)}|{re.escape(INPUT_DIR)}/\d+)(?:/.*)?$")


def check(task: TaskRef) -> list[Diagnostic]:
    return _shell_line_in_one_item(task) + _osmo_paths(task)


def _shell_line_in_one_item(task: TaskRef) -> list[Diagnostic]:
    command, args = as_list(task.data.get("command")), as_list(task.data.get("args"))
    first = as_str(command[0]) if command else None
    if first and re.search(r"\s", first.strip()):
        return [
            Diagnostic(
                "V347",
                f'command "{first}" is run as one program name: the kubelet does not split it or use a shell',
                path=(*task.path, "command", 0),
                hint=f"write command: [sh, -c, {_quoted(first)}] (or one list item per word)",
            )
        ]
    shell = first.rsplit("/", 1)[-1] if first else None
    if shell in SHELLS and len(command) == 1 and args:
        script = _KUBELET_VARIABLE_RE.sub("VALUE", as_str(args[0]) or "").strip()
        # a command line has words and shell syntax; a script's path has neither (after the kubelet's $(VAR))
        if re.search(r"\s", script) and _SHELL_SYNTAX_RE.search(script) and "\n" not in script:
            return [
                Diagnostic(
                    "V347",
                    f'{first} reads args[0] "{args[0]}" as the name of a script file, not as a command line',
                    path=(*task.path, "args", 0),
                    hint=f"add -c: command: [{first}, -c], args: [{_quoted(args[0])}]",
                )
            ]
    return []


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _osmo_paths(task: TaskRef) -> list[Diagnostic]:
    out = []
    for text, path in _task_texts(task):
        for match in _OSMO_PATH_RE.finditer(text):
            written = match.group(0).rstrip(".")
            if _DATA_PATH_RE.match(written):
                continue
            index = re.search(r"\d+", written)
            meant = f"{{{{input:{index.group(0) if index else 0}}}}}" if "input" in written else "{{output}}"
            out.append(
                Diagnostic(
                    "V348",
                    f"{written} is not one of OSMO's data folders: nothing is uploaded from it or downloaded to it",
                    path=path,
                    offset=match.start(),
                    hint=f"did you mean {meant}? A task writes its results under {{{{output}}}} ({OUTPUT_DIR}) and "
                    f"reads input N under {{{{input:N}}}} ({INPUT_DIR}/N)",
                )
            )
    return out


def _task_texts(task: TaskRef) -> list[tuple[str, tuple]]:
    """The strings a task's container runs or reads: command, args, environment values, file contents."""
    out = []
    for key in ("command", "args"):
        out += [(v, (*task.path, key, i)) for i, v in enumerate(as_list(task.data.get(key))) if isinstance(v, str)]
    environment = task.data.get("environment")
    if isinstance(environment, dict):
        out += [(v, (*task.path, "environment", k)) for k, v in environment.items() if isinstance(v, str)]
    for i, item in dicts(task.data.get("files")):
        contents = item.get("contents")
        if isinstance(contents, str) and item.get("base64") is not True:
            out.append((contents, (*task.path, "files", i, "contents")))
    return out
