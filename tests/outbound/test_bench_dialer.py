"""The pacing simulation in bench/dialer.py runs, and predictive beats progressive in it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dialer.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dialer", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_dialer"] = module      # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_same_contacts_same_fates(bench: ModuleType) -> None:
    assert bench.fate_of(7, 123) == bench.fate_of(7, 123)
    assert bench.fate_of(7, 123) != bench.fate_of(8, 123)
    fates = [bench.fate_of(1, i) for i in range(4000)]
    assert 0.22 < sum(f.live for f in fates) / len(fates) < 0.28


def test_predictive_keeps_agents_busier_within_the_abandon_limit(bench: ModuleType) -> None:
    progressive, predictive = bench.compare(agents=10, hours=1.0, seed=3)
    assert progressive.abandoned == 0
    assert predictive.abandon_rate <= 0.03
    assert predictive.occupancy > progressive.occupancy
    assert predictive.connected > progressive.connected

