"""Queue rules: every field validated with an error naming queue and field."""

from __future__ import annotations

from typing import Any

import pytest

from routing.queues import (
    OverflowTarget,
    QueueConfigError,
    Recording,
    Strategy,
    parse_queue_rules,
    render_url,
)


def test_defaults() -> None:
    rules = parse_queue_rules("sales", {})
    assert rules.strategy is Strategy.LONGEST_IDLE
    assert rules.skills == ()
    assert (rules.priority, rules.aging_per_minute, rules.ring_timeout, rules.wrapup) == (0, 1.0, 20, 10)
    assert rules.service_level == 20
    assert rules.recording is Recording.NEVER
    assert rules.voicemail_box == "queue:sales"
    assert rules.rona_not_ready is True
    assert rules.overflow is None and rules.max_wait is None and rules.sticky is None
    assert rules.transfers_keep_wait is True
    assert parse_queue_rules("sales", {"transfers_keep_wait": False}).transfers_keep_wait is False
    with pytest.raises(QueueConfigError, match="transfers_keep_wait.*true or false"):
        parse_queue_rules("sales", {"transfers_keep_wait": "yes"})


def test_full_settings() -> None:
    rules = parse_queue_rules(
        "support",
        {
            "strategy": "skills_best_match",
            "skills": {"billing": 5, "french": {"min_level": 7, "relax": [{"after": 30, "min_level": 5}, {"after": 90, "min_level": 2}]}},
            "priority": 10,
            "aging_per_minute": 2.5,
            "max_wait": 300,
            "max_length": 50,
            "overflow": "queue:support2",
            "calendar": "office",
            "closed": "voicemail:queue:support",
            "ring_timeout": 15,
            "rona_not_ready": False,
            "wrapup": 30,
            "sticky_agent": {"window": 3600, "wait": 20},
            "announce_agent": {"prompt": "agent_is.wav"},
            "callback": {"after": 120, "digit": 1, "prompt": "press1.wav"},
            "comfort": {"every": 45, "prompt": "thanks_for_waiting.wav"},
            "announce": {"every": 60, "position": True, "ewt": True, "position_prompt": "pos.wav", "ewt_prompt": "ewt.wav", "minutes_prompt": "min.wav"},
            "recording": "agent_choice",
            "voicemail_box": "queue:support",
            "disposition_required": True,
            "service_level": 30,
            "screen_pop_url": "https://crm.example/pop?n={caller_number}&id={interaction_id}&acct={var_account}",
            "crm_lookup_url": "https://crm.example/lookup?n={caller_number}",
        },
    )
    assert rules.required_skills == ("billing", "french")
    french = rules.skills[1]
    assert [french.level_after(t) for t in (0, 29.9, 30, 89, 90, 1000)] == [7, 7, 5, 5, 2, 2]
    assert rules.relax_times() == (30.0, 90.0)
    assert rules.overflow == OverflowTarget("queue", "support2")
    assert rules.closed == OverflowTarget("voicemail", "queue:support")
    assert rules.sticky is not None and rules.sticky.wait == 20
    assert rules.callback is not None and rules.callback.digit == "1"
    assert rules.announce is not None and rules.announce.ewt


def test_closed_defaults_to_overflow() -> None:
    rules = parse_queue_rules("q", {"calendar": "office", "max_wait": 60, "overflow": "flow:after_hours"})
    assert rules.closed == OverflowTarget("flow", "after_hours")


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"stratgy": "ring_all"}, "stratgy", "unknown field"),
    ({"strategy": "random"}, "strategy", "must be one of"),
    ({"skills": ["billing"]}, "skills", "must map skill names"),
    ({"skills": {"billing": 0}}, "skills.billing", "between 1 and 10"),
    ({"skills": {"billing": True}}, "skills.billing", "integer"),
    ({"skills": {"b": {"level": 3}}}, "skills.b.level", "unknown field"),
    ({"skills": {"b": {"relax": []}}}, "skills.b.min_level", "is required"),
    ({"skills": {"b": {"min_level": 5, "relax": [{"after": 30, "min_level": 6}]}}}, "skills.b.relax[0]", "lower levels"),
    ({"skills": {"b": {"min_level": 5, "relax": [{"after": 30, "min_level": 3}, {"after": 20, "min_level": 2}]}}}, "skills.b.relax[1]", "come later"),
    ({"priority": 101}, "priority", "between 0 and 100"),
    ({"priority": "high"}, "priority", "integer"),
    ({"aging_per_minute": 0}, "aging_per_minute", "between 0.01"),
    ({"max_wait": 60}, "overflow", "is required"),
    ({"max_length": 0, "overflow": "queue:x"}, "max_length", "between 1"),
    ({"max_wait": 60, "overflow": "elsewhere"}, "overflow", "KIND:TARGET"),
    ({"max_wait": 60, "overflow": "fax:123"}, "overflow", "KIND:TARGET"),
    ({"calendar": "office"}, "closed", "is required"),
    ({"ring_timeout": 2}, "ring_timeout", "between 5 and 300"),
    ({"rona_not_ready": "yes"}, "rona_not_ready", "true or false"),
    ({"wrapup": -1}, "wrapup", "between 0 and 3600"),
    ({"sticky_agent": {"window": 10}}, "sticky_agent.window", "between 60"),
    ({"sticky_agent": {"wait": 5, "ttl": 3}}, "sticky_agent.ttl", "unknown field"),
    ({"announce_agent": {}}, "announce_agent.prompt", "is required"),
    ({"announce_agent": {"prompt": "agent is.wav"}}, "announce_agent.prompt", "spaces"),
    ({"callback": {"digit": "#", "prompt": "cb.wav"}}, "callback.digit", "0-9 or *"),
    ({"callback": {"digit": "1"}}, "callback.prompt", "is required"),
    ({"comfort": {"every": 5, "prompt": "c.wav"}}, "comfort.every", "between 10"),
    ({"announce": {"every": 60, "position": False}}, "announce", "announces nothing"),
    ({"announce": {"every": 60, "position": True}}, "announce.position_prompt", "is required"),
    ({"announce": {"every": 60, "position": False, "ewt": True, "ewt_prompt": "e.wav"}}, "announce.minutes_prompt", "is required"),
    ({"recording": "sometimes"}, "recording", "always, never, agent_choice"),
    ({"voicemail_box": ""}, "voicemail_box", "non-empty"),
    ({"disposition_required": 1}, "disposition_required", "true or false"),
    ({"service_level": 0}, "service_level", "between 1 and 600"),
    ({"screen_pop_url": "ftp://x"}, "screen_pop_url", "http://"),
    ({"screen_pop_url": "https://x/{nope}"}, "screen_pop_url", "unknown placeholder {nope}"),
    ({"crm_lookup_url": "https://x/{caller_number"}, "crm_lookup_url", "not a valid template"),
]


@pytest.mark.parametrize(("settings", "field", "message"), INVALID)
def test_invalid_field_names_queue_and_field(settings: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(QueueConfigError) as caught:
        parse_queue_rules("sales", settings)
    assert caught.value.queue == "sales"
    assert caught.value.field == field
    assert message in caught.value.problem
    assert str(caught.value).startswith(f"queue 'sales', field '{field}': ")


def test_settings_must_be_a_mapping() -> None:
    with pytest.raises(QueueConfigError, match="must be a mapping"):
        parse_queue_rules("sales", ["strategy"])  # type: ignore[arg-type]


def test_render_url_encodes_values_and_variables() -> None:
    template = "https://crm.example/pop?n={caller_number}&q={queue}&a={var_account}&m={var_missing}"
    url = render_url(template, {"caller_number": "+1 555/01", "queue": "sales"}, {"account": "A&B"})
    assert url == "https://crm.example/pop?n=%2B1%20555%2F01&q=sales&a=A%26B&m="
