"""Facts about the OSMO spec that several stages share.

Each value here is copied from OSMO's own code (see ``../shared/notes/osmo-spec.md``
for the source of each): token syntax, name normalisation, units, durations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta

from .coerce import osmo_timedelta

# Tokens OSMO shields from Jinja: written exactly like this, without spaces.
# (OSMO writes `[^}]+`; the bound keeps matching linear on hostile text such as "{{input:" * 10**6,
# and is far above the longest valid reference: task names have at most 64 characters.)
PROTECTED_TOKEN_RE = re.compile(r"{{(uuid|workflow_id|output|input:[^}]{1,128}|host:[^}]{1,128})}}")

# Tokens as OSMO substitutes them at run time (spaces tolerated inside the braces).
TOKEN_RE = re.compile(r"{{[ ]*(uuid|workflow_id|output|input:[^}]{0,128}?|host:[^}]{0,128}?)[ ]*}}")


class _Braces:
    """Any leftover double-brace expression, ``{{.*?}}`` across lines: Argo would try to interpret it.

    A plain ``re`` finditer is quadratic when many "{{" have no "}}" after them (each
    start scans to the end); searching only up to the last "}}" gives the same matches
    in linear time.
    """

    _re = re.compile(r"{{.*?}}", re.DOTALL)
    pattern = _re.pattern

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        end = text.rfind("}}")
        return self._re.finditer(text, 0, end + 2) if end >= 0 else iter(())


BRACES_RE = _Braces()

OUTPUT_DIR = "/osmo/data/output"
INPUT_DIR = "/osmo/data/input"


def k8s_name(name: str) -> str:
    """OSMO's normalisation: names are case-insensitive and '_' equals '-'."""
    return name.lower().replace("_", "-")


# Memory/storage quantities: OSMO's units are all binary ("G" means "Gi").
QUANTITY_RE = re.compile(r"^(?P<size>\d+(?:\.\d+)?)(?P<unit>[a-zA-Z]*)$")
OSMO_TO_K8S_UNIT = {
    "T": "Ti",
    "Ti": "Ti",
    "TiB": "Ti",
    "G": "Gi",
    "Gi": "Gi",
    "GiB": "Gi",
    "M": "Mi",
    "Mi": "Mi",
    "MiB": "Mi",
    "K": "Ki",
    "Ki": "Ki",
    "KiB": "Ki",
    "B": "",
    "": "",
    "m": "m",
}


def k8s_quantity(value: str) -> str | None:
    """An OSMO memory/storage value as a Kubernetes quantity, or None if invalid."""
    match = QUANTITY_RE.match(str(value).strip())
    if not match or match["unit"] not in OSMO_TO_K8S_UNIT:
        return None
    return match["size"] + OSMO_TO_K8S_UNIT[match["unit"]]


# Durations: seconds as a number, or OSMO's duration text (ISO 8601 or <int><unit>; see coerce.py).
def parse_duration(value: object) -> timedelta | None:
    """An OSMO duration as a timedelta, or None if OSMO would not recognise it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    duration = osmo_timedelta(value) if isinstance(value, str) else None
    return duration if isinstance(duration, timedelta) else None


# OSMO's CODE_REGEX is ^(\d+(-\d+)?)+(,\d+(-\d+)?)*$, which backtracks exponentially ("1" * 30 + "x"
# takes hours). This is the same language (checked exhaustively on short strings) in linear time.
EXIT_CODES_RE = re.compile(r"^\d+(-\d{2,})*(-\d+)?(,\d+(-\d+)?)*$")


def parse_exit_codes(value: object) -> list[tuple[int, int]] | None:
    """``"0,1-10,16"`` -> ``[(0, 0), (1, 10), (16, 16)]`` (inclusive), or None if invalid."""
    text = str(value).strip()
    if not EXIT_CODES_RE.match(text):
        return None
    ranges = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if "-" in high:
            return None  # "1-22-3" passes OSMO's regex but is no range
        ranges.append((int(low), int(high or low)))
    return ranges


def split_url(url: str) -> tuple[str, str, str]:
    """``s3://bucket/a/b/`` -> ``("s3", "bucket", "a/b")``."""
    scheme, _, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key.strip("/")


def _subtract(ranges: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = list(ranges)
    for lo_t, hi_t in taken:
        nxt = []
        for lo, hi in out:
            if hi < lo_t or lo > hi_t:
                nxt.append((lo, hi))
                continue
            if lo < lo_t:
                nxt.append((lo, lo_t - 1))
            if hi > hi_t:
                nxt.append((hi_t + 1, hi))
        out = nxt
    return out


def effective_actions(actions: Iterable[tuple[str, Iterable[tuple[int, int]]]]) -> dict[str, list[tuple[int, int]]]:
    """The codes each action really gets: OSMO applies the first action (in order) whose codes match."""
    taken: list[tuple[int, int]] = []
    out: dict[str, list[tuple[int, int]]] = {}
    for action, ranges in actions:
        ranges = [(lo, hi) for lo, hi in ranges if lo <= hi]
        out.setdefault(action, []).extend(_subtract(ranges, taken))
        taken += ranges
    return out


# Image references as OSMO parses them before any registry access (src/lib/utils/common.py docker_parse).
_HOST_COMPONENT = r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?"
_IP_COMPONENT = r"([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])"
_HOST = (
    rf"(?P<host>(({_IP_COMPONENT}\.){{3}}{_IP_COMPONENT}|localhost|"
    rf"({_HOST_COMPONENT}\.)+({_HOST_COMPONENT})|{_HOST_COMPONENT}(?=:\d+/)))"
)
_NAME_COMPONENT = r"([0-9a-z]([0-9a-z_.-]*[0-9a-z])?)"
DOCKER_IMAGE_RE = re.compile(
    rf"^({_HOST}(:(?P<port>[0-9]{{1,5}}))?/)?(?P<name>{_NAME_COMPONENT}(/{_NAME_COMPONENT})*)"
    r"(:(?P<tag>[a-zA-Z0-9_][a-zA-Z0-9._-]*))?(@(?P<digest>[A-Za-z0-9_+.-]+:[A-Fa-f0-9]+))?$"
)


def docker_image_ok(image: str) -> bool:
    """Whether OSMO's ``docker_parse`` accepts the image reference (its regex, with ``re.fullmatch``)."""
    return DOCKER_IMAGE_RE.fullmatch(image) is not None


# Storage URLs as OSMO's storage backends accept them (src/lib/api/storage.py, checked with re.fullmatch
# after urlparse picked the backend by its lower-cased scheme).
_URI_COMPONENT = r"[^/,;*]+"
STORAGE_URL_RE = {
    "swift": re.compile(rf"^swift://{_URI_COMPONENT}(/{_URI_COMPONENT}){{2,}}/*$"),
    "s3": re.compile(rf"^s3://{_URI_COMPONENT}(/{_URI_COMPONENT})*/*$"),
    "gs": re.compile(rf"^gs://{_URI_COMPONENT}(/{_URI_COMPONENT})*/*$"),
    "tos": re.compile(rf"^tos://{_URI_COMPONENT}(/{_URI_COMPONENT})+/*$"),
    "azure": re.compile(rf"^azure://{_URI_COMPONENT}(/{_URI_COMPONENT})+/*$"),
}
STORAGE_NAMES = {"swift": "Swift", "s3": "S3", "gs": "GS", "tos": "TOS", "azure": "Azure"}


def storage_url_problem(url: str) -> str | None:
    """OSMO's message for a storage URL its backend refuses (``Incorrectly formatted S3 URI: ...``), or None."""
    from urllib.parse import urlparse

    try:
        scheme = urlparse(url).scheme
    except ValueError:
        return f"Unknown URI scheme: {url}"
    if scheme not in STORAGE_URL_RE:
        return f"Unknown URI scheme: {scheme}"
    if STORAGE_URL_RE[scheme].fullmatch(url) is None:
        return f"Incorrectly formatted {STORAGE_NAMES[scheme]} URI: {url}"
    return None
