"""What one workflow file may cost to load and render (see ``docs/security.md``).

Workflow files come from anyone who can open a pull request, and the compiler
runs in CI and pre-commit hooks. Every input is bounded so that a hostile or
broken file is refused quickly with a diagnostic instead of exhausting time or
memory. The limits are far above what a real workflow needs: Argo refuses a
Workflow object over 1 MiB anyway (A501).
"""

from __future__ import annotations

# Reading (L101): the workflow file, and each `files[].localpath` file (L111).
MAX_FILE_BYTES = 10 * 1024 * 1024

# YAML (L115): nodes added by alias expansion ("billion laughs"), nesting depth.
# A workflow nests about 8 levels deep; anchors shared by a few tasks add hundreds of nodes.
MAX_ALIAS_NODES = 100_000
MAX_YAML_DEPTH = 100

# Jinja (L110). OSMO renders in a worker process limited to 0.5 s and 100 MiB.
RENDER_TIME_S = 0.5
MAX_RENDERED_CHARS = 10 * 1024 * 1024  # the whole rendered section, and any single string value
MAX_ITEMS = 1_000_000  # the length of any list or mapping a template builds
MAX_INT_BITS = 4096  # the size of any integer a template computes (about 1,200 digits)
