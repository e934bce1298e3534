"""Phone numbers: E.164 normalisation and the time zones a number may be in.

Contacts are stored and compared in E.164 (``+14155550100``) so that "the same
number" means the same string everywhere: duplicates in an import, DNC look-ups,
the 72-hour abandoned-call rule. Parsing follows Google's libphonenumber (the
``phonenumbers`` port): national formats are read with a default region, and a
number must be *valid* (a real numbering-plan range), not merely the right length.

Calling windows are in the contact's local time. A number can map to several zones
(a UK mobile: London, Jersey, Guernsey, Isle of Man; a US toll-free number: every
North American zone); :func:`contact_zones` returns them all and the window check
requires every one to be open, which is the safe reading of the rules.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from phonenumbers import timezone as number_timezones

from outbound.errors import InvalidPhoneNumber

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code (write it as +<country code> <number>)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}

_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short for its country",
    ValidationResult.TOO_LONG: "too long for its country",
    ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}


def is_known_region(region: str) -> bool:
    """True for a two-letter region libphonenumber knows (``US``, ``GB``, ``CN`` ...)."""
    return region in phonenumbers.SUPPORTED_REGIONS


def normalize(raw: str, default_region: str = "US") -> str:
    """The number in E.164, or :class:`InvalidPhoneNumber` with a reason a user can act on.

    Args:
        raw: the number as typed (``(415) 555-0100``, ``+44 7911 123456``, ``00861380...``).
        default_region: region for numbers written without a country code.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber(raw, "no phone number")
    if not is_known_region(default_region):
        raise InvalidPhoneNumber(raw, f"unknown default region {default_region!r} (use a code such as US or GB)")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(raw, _PARSE_REASONS.get(exc.error_type, "not a phone number")) from exc
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise InvalidPhoneNumber(raw, _POSSIBLE_REASONS.get(possible, "not a possible number"))
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or default_region
        raise InvalidPhoneNumber(raw, f"not a valid number in {region} (check the digits and the country code)")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@lru_cache(maxsize=4096)
def is_known_zone(name: str) -> bool:
    """True for an IANA zone name this system knows (``Europe/London``)."""
    if not name or name.startswith("Etc/Unknown"):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=65536)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """IANA zones the number's range is in; empty when libphonenumber does not know."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return ()
    zones = number_timezones.time_zones_for_number(number)
    return tuple(sorted(z for z in zones if is_known_zone(z)))


def contact_zones(e164: str, explicit_zone: str | None, fallback_zone: str) -> tuple[str, ...]:
    """The zones whose local time governs calls to this contact.

    The list's own time-zone column wins (the customer told us); otherwise the zones
    of the number's range; otherwise the campaign's default zone.
    """
    if explicit_zone and is_known_zone(explicit_zone):
        return (explicit_zone,)
    return zones_for_number(e164) or (fallback_zone,)
