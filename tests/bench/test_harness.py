"""bench/harness.py: the RESULTS.md sections, the percentiles and the line protocol
with a child process that every bench script relies on."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import harness

OTHERS = "# Benchmark results\n\n<!-- reports:begin -->\n## Reports (bench/reports.py)\n\nkeep me\n<!-- reports:end -->\n"


def test_a_section_is_appended_once_then_replaced_in_place(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(OTHERS + "\ntail\n", encoding="utf-8")
    harness.write_section("dialer", "Dialer", "first", results)
    harness.write_section("dialer", "Dialer", "second\n", results)
    text = results.read_text(encoding="utf-8")
    assert "keep me" in text and "tail" in text and "first" not in text
    assert text.count("<!-- dialer:begin -->") == 1 and text.count("## Dialer") == 1
    assert "<!-- dialer:begin -->\n## Dialer\n\nsecond\n<!-- dialer:end -->" in text
    harness.write_section("reports", "Reports (bench/reports.py)", "new figures", results)
    text = results.read_text(encoding="utf-8")
    assert "keep me" not in text and text.index("new figures") < text.index("tail") < text.index("second")


def test_a_missing_file_starts_with_the_header(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    harness.write_section("x", "X", "body", results)
    assert results.read_text(encoding="utf-8").startswith(harness.RESULTS_HEADER)


def test_percentiles_in_milliseconds() -> None:
    figures = harness.percentiles([n / 1000 for n in range(1, 101)])
    assert figures == {"n": 100, "p50_ms": 51.0, "p95_ms": 96.0, "p99_ms": 100.0, "max_ms": 100.0}
    empty = harness.percentiles([])
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))


@given(st.lists(st.floats(0, 1e6), min_size=1), st.floats(0, 1))
def test_a_percentile_is_one_of_the_values_and_grows_with_q(values: list[float], q: float) -> None:
    found = harness.percentile(values, q)
    assert found in values
    assert min(values) <= found <= harness.percentile(values, 1.0) == max(values)


def test_a_child_talks_in_lines(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(harness.__file__).parents[1])!r})
        from bench import harness
        print("port 4321", flush=True)
        for words in harness.commands():
            print("ok" if words == ["ping"] else "what " + " ".join(words), flush=True)
    """), encoding="utf-8")
    child = harness.Child(str(script))
    try:
        assert child.port() == 4321
        child.ask("ping")
        child.send("")           # a blank line is no command
        with pytest.raises(RuntimeError, match="answered 'what pong'"):
            child.ask("pong")
    finally:
        child.close(timeout=10)
    assert child.proc.returncode == 0

