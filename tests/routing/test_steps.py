"""FreeSWITCH application arguments, in the exact order mod_dptools parses them."""

from __future__ import annotations

import pytest

from routing.steps import (
    Execute,
    play_and_get_digits,
    playback,
    prompt_name_problem,
    prompt_string,
    record,
    say,
)


def test_play_and_get_digits_argument_order() -> None:
    step = play_and_get_digits(
        files=["menu.wav"], min_digits=1, max_digits=4, timeout_ms=5000, variable="cti_ivr_digits_3", digit_timeout_ms=2000
    )
    # <min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> <digit_timeout>
    assert step == Execute(
        "play_and_get_digits",
        "1 4 1 5000 # menu.wav silence_stream://250 cti_ivr_digits_3 ^[0-9*]+$ 2000",
        result_variable="cti_ivr_digits_3",
    )
    args = step.args.split(" ")
    assert len(args) == 10  # no argument contains a space
    assert "\\" not in step.args  # FreeSWITCH's argument splitter eats backslashes


def test_play_and_get_digits_raises_short_timeouts_like_freeswitch() -> None:
    step = play_and_get_digits(files=["a.wav"], min_digits=1, max_digits=1, timeout_ms=200, variable="v", digit_timeout_ms=1)
    assert step.args.split(" ")[3] == "1000"


def test_several_files_become_one_file_string() -> None:
    assert prompt_string(["a.wav"]) == "a.wav"
    assert prompt_string(["a.wav", "digits/1.wav", "欢迎.wav"]) == "file_string://a.wav!digits/1.wav!欢迎.wav"
    assert playback("a.wav", "b.wav") == Execute("playback", "file_string://a.wav!b.wav")
    with pytest.raises(ValueError):
        prompt_string([])


def test_say_and_record() -> None:
    assert say("zh", "NUMBER", "pronounced", "3") == Execute("say", "zh NUMBER pronounced 3")
    assert record("/var/vm/q/1.wav", 120) == Execute("record", "/var/vm/q/1.wav 120 200 3")
    with pytest.raises(ValueError):
        say("en", "NUMBER", "pronounced", "1 2")
    with pytest.raises(ValueError):
        record("/var/vm/my box/1.wav", 120)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("welcome.wav", True),
        ("/usr/share/prompts/zh/欢迎来电.wav", True),
        ("ivr/ivr-welcome.wav", True),
        ("tone_stream://%(500,0,800)", True),
        ("my prompt.wav", False),
        ("it's.wav", False),
        ("a!b.wav", False),
        ("c:\\x.wav", False),
        ("", False),
        (None, False),
    ],
)
def test_prompt_names(name: object, ok: bool) -> None:
    assert (prompt_name_problem(name) is None) is ok
