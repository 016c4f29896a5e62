"""Reopening a followed log stream (compiler/submit/resume.py): timestamps read as the kubelet writes them."""

from __future__ import annotations

from compiler.submit.resume import Resume, format_since, parse_instant


def test_kubelet_timestamps_are_read_to_the_nanosecond():
    assert parse_instant("2026-11-29T00:40:12.000000001Z") == (1795912812, 1)
    assert parse_instant("2026-11-29T00:40:12.5Z") == (1795912812, 500_000_000)  # trailing zeros trimmed
    assert parse_instant("2026-11-29T01:40:12+01:00") == (1795912812, 0)
    assert parse_instant("not-a-time") is None and parse_instant("2026-11-29 00:40:12Z") is None
    assert format_since((1795912812, 999_999_999)) == "2026-11-29T00:40:12Z"  # whole seconds, rounded down


def test_lines_shown_before_the_stream_was_reopened_are_dropped():
    resume = Resume()
    assert resume.since_time() is None
    assert resume.accept("a", "2026-11-29T00:40:12.1Z step 1") == "step 1"
    assert resume.accept("a", "2026-11-29T00:40:12.1Z step 1b") == "step 1b"  # same instant, other text
    assert resume.accept("b", "2026-11-29T00:40:13Z b up") == "b up"
    assert resume.since_time() == "2026-11-29T00:40:12Z"  # the earliest pod's last line: nobody misses one
    # the reopened stream repeats from that second
    assert resume.accept("a", "2026-11-29T00:40:12.05Z step 0") is None  # before the last line shown
    assert resume.accept("a", "2026-11-29T00:40:12.1Z step 1") is None
    assert resume.accept("b", "2026-11-29T00:40:13Z b up") is None
    assert resume.accept("a", "2026-11-29T00:40:12.2Z step 2") == "step 2"
    assert resume.accept("a", "no timestamp") == "no timestamp"  # an older server: shown as it is
    assert resume.accept("a", "2026-11-29T00:40:14Z ") == ""  # an empty line keeps its place
