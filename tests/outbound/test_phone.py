"""E.164 normalisation and the time zones of numbers."""

from __future__ import annotations

import pytest

from outbound.errors import InvalidPhoneNumber
from outbound.phone import contact_zones, is_known_zone, normalize, zones_for_number


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("+1 415 555 0100", "GB", "+14155550100"),      # explicit country code wins over the region
        ("07911 123456", "GB", "+447911123456"),
        ("+44 (0)7911 123456", "US", "+447911123456"),
        ("0044 7911 123456", "GB", "+447911123456"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("  +8613800138000 ", "US", "+8613800138000"),
    ],
)
def test_normalize_to_e164(raw: str, region: str, e164: str) -> None:
    assert normalize(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "no phone number"),
        ("   ", "no phone number"),
        ("hello", "not a phone number"),
        ("12", "too short"),
        ("+999 1234 5678", "country code"),
        ("+1 415 555 01000000", "too long"),
        ("+1 099 555 0100", "not a valid number"),
    ],
)
def test_bad_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize(raw, "US")
    assert reason in info.value.reason
    assert info.value.error_id == "invalid-phone-number"


def test_unknown_default_region_is_a_clear_error() -> None:
    with pytest.raises(InvalidPhoneNumber, match="default region"):
        normalize("4155550100", "XX")


def test_zones_from_the_number() -> None:
    assert zones_for_number("+14155550100") == ("America/Los_Angeles",)
    assert zones_for_number("+12125550100") == ("America/New_York",)
    assert "Europe/London" in zones_for_number("+447911123456")
    assert zones_for_number("+8613800138000") == ("Asia/Shanghai",)


def test_contact_zones_prefer_the_list_then_the_number_then_the_campaign() -> None:
    assert contact_zones("+14155550100", "America/Chicago", "UTC") == ("America/Chicago",)
    assert contact_zones("+14155550100", None, "UTC") == ("America/Los_Angeles",)
    assert contact_zones("+14155550100", "Not/AZone", "UTC") == ("America/Los_Angeles",)
    assert contact_zones("+80012345678", None, "Europe/Paris") == ("Europe/Paris",)  # no zone for the range


def test_known_zones() -> None:
    assert is_known_zone("Europe/London")
    assert not is_known_zone("Etc/Unknown")
    assert not is_known_zone("Mars/Olympus")
    assert not is_known_zone("")
