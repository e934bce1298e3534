"""The Prometheus text rendering of /metrics (pure half of cti/metrics.py)."""

from __future__ import annotations

import math

from cti.metrics import Family, counter, gauge, render


def test_render_families_with_help_type_and_labels():
    text = render([
        counter("cti_events_total", "Events", [({}, 12)]),
        gauge("cti_queue_calls_waiting", "Waiting", [({"queue": "sales"}, 3), ({"queue": "vip"}, 0.5)]),
    ])
    assert text.splitlines() == [
        "# HELP cti_events_total Events",
        "# TYPE cti_events_total counter",
        "cti_events_total 12",
        "# HELP cti_queue_calls_waiting Waiting",
        "# TYPE cti_queue_calls_waiting gauge",
        'cti_queue_calls_waiting{queue="sales"} 3',
        'cti_queue_calls_waiting{queue="vip"} 0.5',
    ]
    assert text.endswith("\n")


def test_label_values_and_help_are_escaped():
    text = render([Family("m", "gauge", "line one\nline \\two", [({"queue": 'a"b\\c\nd'}, 1)])])
    assert "# HELP m line one line \\\\two" in text
    assert 'm{queue="a\\"b\\\\c\\nd"} 1' in text


def test_special_numbers():
    text = render([gauge("g", "g", [({"k": "nan"}, math.nan), ({"k": "inf"}, math.inf), ({"k": "-inf"}, -math.inf)])])
    assert 'g{k="nan"} NaN' in text and 'g{k="inf"} +Inf' in text and 'g{k="-inf"} -Inf' in text
