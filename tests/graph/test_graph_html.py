"""``osmo graph --format html`` opened in headless Chromium (Debian package ``chromium``): the DOM after the
page's script ran has the drawn nodes, and a screenshot is not blank. The PNG is decoded with zlib only."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from compiler.graph.model import TIMES
from tests.graph.graphs import CHROMIUM, EVERYTHING, chromium, fan_out, non_white, png, png_pixels, rendered


def needs_chromium(test):
    """Marked chromium (so -m selects it, and it leaves the fast lane) and skipped where Chromium is missing."""
    skip = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package: chromium)")
    return pytest.mark.chromium(skip(test))


HEADER_PX = 50  # the page's title bar: below it, only the drawing


class _Drawn(HTMLParser):
    """The SVG groups the page drew: nodes, clusters and edges by id / endpoints, and the node texts."""

    def __init__(self):
        super().__init__()
        self.nodes: dict[str, list[str]] = {}
        self.clusters: set[str] = set()
        self.edges: set[tuple[str, str, str]] = set()
        self.viewbox = ""
        self._node: str | None = None
        self._in_text = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "svg" and a.get("id") == "graph":
            self.viewbox = a.get("viewbox", "")
        elif tag == "g" and "node" in classes:
            self._node = a["id"]
            self.nodes[self._node] = []
        elif tag == "g" and "cluster" in classes:
            self.clusters.add(a["id"])
        elif tag == "g" and "edge" in classes:
            self.edges.add((a["data-source"], a["data-target"], classes[1]))
        elif tag == "text":
            self._in_text = True

    def handle_endtag(self, tag):
        if tag == "text":
            self._in_text = False

    def handle_data(self, data):
        if self._in_text and self._node and data.strip():
            self.nodes[self._node].append(data)


def page(tmp_path: Path, text: str, fold: bool = False) -> Path:
    out = tmp_path / "graph.html"
    out.write_text(rendered(tmp_path, text, "html", fold))
    return out


def dom(tmp_path: Path, html_file: Path) -> _Drawn:
    run = chromium(html_file, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0 and "<svg" in run.stdout, run.stderr[-2000:]
    drawn = _Drawn()
    drawn.feed(run.stdout)
    return drawn


def test_the_page_needs_no_network(tmp_path):
    text = page(tmp_path, EVERYTHING).read_text()
    # nothing fetched: no external script, style, image or font (the SVG namespace is only a name)
    assert "<script src" not in text and "<link" not in text and "@import" not in text and "url(http" not in text
    assert text.count("http") == text.count('xmlns="http://www.w3.org/2000/svg"')


@needs_chromium
def test_dom_has_the_drawn_nodes_clusters_and_edges(tmp_path):
    drawn = dom(tmp_path, page(tmp_path, EVERYTHING))
    assert set(drawn.nodes) == {"t_fetch", "t_master", "t_worker_1", "t_summary", "in_0", "wf_0", "out_0"}
    assert drawn.nodes["t_master"] == ["master ★ lead", "nvcr.io/nvidia/pytorch:24.05-py3", "cpu 8, gpu 2, memory 32Gi"]
    assert drawn.nodes["out_0"] == ["s3://bucket/models/{{workflow_id}}/"]
    assert drawn.clusters == {"cluster_prepare", "cluster_train_group", "cluster_report"}
    assert ("t_worker_1", "t_master", "host") in drawn.edges and ("in_0", "t_fetch", "data") in drawn.edges
    # the script ran: it fitted the view to the window (the template's viewBox starts at 0 0)
    assert drawn.viewbox and not drawn.viewbox.startswith("0 0 ")


@needs_chromium
def test_a_thousand_task_page_opens(tmp_path):
    drawn = dom(tmp_path, page(tmp_path, fan_out(1000)))
    assert len([n for n in drawn.nodes if n.startswith("t_shard_")]) == 999
    folded = dom(tmp_path, page(tmp_path, fan_out(1000), fold=True))
    assert set(folded.nodes) == {"t_prepare", "t_shard_1", "out_0"}
    assert folded.nodes["t_shard_1"][:2] == ["shard-1", f"… shard-999  {TIMES}999"]


@needs_chromium
def test_screenshot_is_not_blank(tmp_path):
    shot = tmp_path / "shot.png"
    run = chromium(page(tmp_path, EVERYTHING), tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,800")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    width, height, bpp, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 800)
    drawn = non_white(rows, bpp, top=HEADER_PX)
    assert drawn > 0.02 * width * (height - HEADER_PX), f"only {drawn} drawn pixels"


def test_png_decoder_counts_what_is_drawn():
    """The blank check must be able to fail: a white image counts 0, a drawn square its area."""
    white = png(40, 30, lambda x, y: (255, 255, 255))
    square = png(40, 30, lambda x, y: (26, 115, 232) if 10 <= x < 20 and 5 <= y < 15 else (255, 255, 255), 1)
    assert non_white(png_pixels(white)[3], 3) == 0
    assert non_white(png_pixels(square)[3], 3) == 100
    assert non_white(png_pixels(square)[3], 3, top=10) == 50
