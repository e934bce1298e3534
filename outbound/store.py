"""The SQL the dialer runs for outbound (tables in ``sql/004_outbound.sql``).

Every function takes a cursor from :meth:`cti.db.Database.transaction` (rows as
dicts) so the dialer composes them inside its own transactions: the check before a
dial, marking the contact ``dialing`` and inserting the attempt commit together.
All SQL uses bound parameters.

:func:`check_before_dial` is the function the dialer calls right before each
originate: it reads the DNC lists, the number's recent abandoned and machine calls
and the contact's attempts today, then applies :func:`outbound.compliance.evaluate_dial`.

A dial cycle: :func:`claim_due_contacts` -> ``check_before_dial`` -> the contact
transition ``DIAL`` (:func:`start_attempt`, :func:`set_contact_state`) -> originate ->
:func:`finish_attempt`, :func:`bump_counters` -> :func:`outbound.retries.after_call`
-> the ``RETRY``/``DONE``/... transition (:func:`set_contact_state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from outbound.abandon import CallCounts, PeriodFigure, period_figures
from outbound.campaign_settings import CampaignRules
from outbound.campaign_states import ContactState
from outbound.compliance import AmdResult, DialContext, DialRules, DialVerdict, evaluate_dial
from outbound.retries import CallOutcome

_COUNTERS = frozenset(CallCounts().as_dict())


def dnc_hits(cur: Any, campaign_id: int, e164: str) -> tuple[bool, bool]:
    """(on a global DNC list, on one of this campaign's DNC lists)."""
    cur.execute(
        """SELECT bool_or(l.campaign_id IS NULL) AS global_hit,
                  bool_or(l.campaign_id = %s) AS campaign_hit
             FROM outbound_dnc_numbers n JOIN outbound_dnc_lists l ON l.id = n.dnc_list_id
            WHERE n.e164 = %s AND (l.campaign_id IS NULL OR l.campaign_id = %s)""",
        (campaign_id, e164, campaign_id),
    )
    row = cur.fetchone()
    return bool(row["global_hit"]), bool(row["campaign_hit"])


def campaign_dnc_list(cur: Any, campaign_id: int) -> int:
    """The id of the campaign's own DNC list, created on first use."""
    cur.execute(
        """INSERT INTO outbound_dnc_lists (name, campaign_id, description)
           VALUES ('campaign-' || %s::text, %s, 'numbers that asked this campaign not to call')
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
           RETURNING id""",
        (campaign_id, campaign_id),
    )
    return int(cur.fetchone()["id"])


def add_to_dnc(cur: Any, dnc_list_id: int, e164: str, *, reason: str = "", added_by: str = "") -> None:
    cur.execute(
        """INSERT INTO outbound_dnc_numbers (dnc_list_id, e164, reason, added_by) VALUES (%s, %s, %s, %s)
           ON CONFLICT (dnc_list_id, e164) DO NOTHING""",
        (dnc_list_id, e164, reason, added_by),
    )


def recent_flags(cur: Any, e164: str, since: datetime) -> tuple[datetime | None, datetime | None]:
    """Latest abandoned call and latest answer-machine call to the number since ``since``."""
    cur.execute(
        """SELECT max(started_at) FILTER (WHERE outcome = 'abandoned') AS abandoned,
                  max(started_at) FILTER (WHERE outcome = 'machine') AS machine
             FROM outbound_attempts
            WHERE e164 = %s AND outcome IN ('abandoned', 'machine') AND started_at >= %s""",
        (e164, since),
    )
    row = cur.fetchone()
    return row["abandoned"], row["machine"]


def attempts_since(cur: Any, contact_id: int, since: datetime) -> int:
    cur.execute(
        "SELECT count(*) AS n FROM outbound_attempts WHERE contact_id = %s AND started_at >= %s",
        (contact_id, since),
    )
    return int(cur.fetchone()["n"])


def local_day_start(zones: Sequence[str], now: datetime) -> datetime:
    """The earliest of the contact's local midnights today: the strictest daily count."""
    return min(datetime.combine(now.astimezone(ZoneInfo(z)).date(), time(0), tzinfo=ZoneInfo(z)) for z in zones)


def check_before_dial(
    cur: Any,
    *,
    campaign_id: int,
    contact_id: int,
    e164: str,
    zones: Sequence[str],
    rules: DialRules,
    now: datetime,
    agent_reserved: bool = False,
) -> DialVerdict:
    """May this contact be dialled now? Call right before originating."""
    on_global, on_campaign = dnc_hits(cur, campaign_id, e164)
    blocks = [b for b in (rules.profile.abandoned_redial_block, rules.profile.machine_redial_block) if b]
    abandoned_at, machine_at = recent_flags(cur, e164, now - max(blocks)) if blocks else (None, None)
    return evaluate_dial(
        DialContext(
            e164=e164,
            zones=zones,
            now=now,
            on_global_dnc=on_global,
            on_campaign_dnc=on_campaign,
            last_abandoned_at=abandoned_at,
            last_machine_at=machine_at,
            attempts_today=attempts_since(cur, contact_id, local_day_start(zones, now)),
            agent_reserved=agent_reserved,
        ),
        rules,
    )


def bump_counters(cur: Any, campaign_id: int, day: date, **increments: int) -> None:
    """Add to the day's compliance counters (``connected=1``, ``abandoned=1`` ...)."""
    unknown = set(increments) - _COUNTERS
    if unknown or not increments:
        raise ValueError(f"unknown or no counters: {sorted(unknown)}; known: {sorted(_COUNTERS)}")
    names = sorted(increments)
    columns = ", ".join(names)
    placeholders = ", ".join(["%s"] * len(names))
    updates = ", ".join(f"{n} = outbound_daily_counters.{n} + EXCLUDED.{n}" for n in names)
    cur.execute(
        f"""INSERT INTO outbound_daily_counters (campaign_id, day, {columns}) VALUES (%s, %s, {placeholders})
            ON CONFLICT (campaign_id, day) DO UPDATE SET {updates}, updated_at = now()""",  # noqa: S608 -- names whitelisted
        (campaign_id, day, *(increments[n] for n in names)),
    )


def daily_counts(cur: Any, campaign_id: int, first: date, last: date) -> dict[date, CallCounts]:
    columns = ", ".join(sorted(_COUNTERS))
    cur.execute(
        f"SELECT day, {columns} FROM outbound_daily_counters "  # noqa: S608 -- column names are constants
        "WHERE campaign_id = %s AND day BETWEEN %s AND %s",
        (campaign_id, first, last),
    )
    return {row["day"]: CallCounts(**{c: row[c] for c in _COUNTERS}) for row in cur.fetchall()}


def counter_day(rules: CampaignRules, at: datetime) -> date:
    """The calendar day a call at ``at`` counts towards (the rule set's midnight)."""
    return at.astimezone(ZoneInfo(rules.profile.day_zone or rules.default_zone)).date()


def compliance_figures(cur: Any, campaign_id: int, rules: CampaignRules, day: date) -> list[PeriodFigure]:
    """The campaign's abandon-rate figures for ``day``, for display and audit export."""
    span = rules.profile.rolling_days or 1
    daily = daily_counts(cur, campaign_id, day - timedelta(days=span - 1), day)
    return period_figures(
        daily,
        day,
        limit=rules.abandon_limit,
        rolling_days=rules.profile.rolling_days,
        ofcom=rules.profile.ofcom_formula,
        amd_false_positive_rate=rules.amd_false_positive_rate,
    )


# -- the dial cycle ----------------------------------------------------------------


def claim_due_contacts(cur: Any, campaign_id: int, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Contacts of the campaign's active lists that are due, locked for this transaction.

    Higher-priority lists first, then the longest-due; ``SKIP LOCKED`` lets two
    dialer loops (or nodes) claim disjoint contacts.
    """
    cur.execute(
        """SELECT c.id, c.list_id, c.e164, c.name, c.timezone, c.fields, c.state, c.attempts
             FROM outbound_contacts c JOIN outbound_contact_lists l ON l.id = c.list_id
            WHERE l.campaign_id = %s AND l.active AND c.state IN ('new', 'scheduled_retry')
              AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= %s)
            ORDER BY l.priority DESC, c.next_attempt_at NULLS FIRST, c.id
            LIMIT %s
              FOR UPDATE OF c SKIP LOCKED""",
        (campaign_id, now, limit),
    )
    return [dict(r) for r in cur.fetchall()]


def set_contact_state(cur: Any, contact_id: int, state: ContactState, *, next_attempt_at: datetime | None = None,
                      final_outcome: str = "") -> None:
    """Store the state a :func:`outbound.campaign_states.contact_transition` returned."""
    cur.execute(
        """UPDATE outbound_contacts SET state = %s, next_attempt_at = %s,
                  final_outcome = CASE WHEN %s <> '' THEN %s ELSE final_outcome END, updated_at = now()
            WHERE id = %s""",
        (state.value, next_attempt_at, final_outcome, final_outcome, contact_id),
    )


def start_attempt(cur: Any, *, campaign_id: int, contact_id: int, e164: str, mode: str, started_at: datetime,
                  interaction_id: str | None = None, agent_reserved: bool = False) -> int:
    """Record a call about to be originated (the RECORD_ATTEMPT effect); returns its id."""
    cur.execute(
        """UPDATE outbound_contacts SET attempts = attempts + 1, last_attempt_at = %s, updated_at = now()
            WHERE id = %s""",
        (started_at, contact_id),
    )
    cur.execute(
        """INSERT INTO outbound_attempts (campaign_id, contact_id, e164, mode, started_at, interaction_id,
                                          agent_reserved)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (campaign_id, contact_id, e164, mode, started_at, interaction_id, agent_reserved),
    )
    return int(cur.fetchone()["id"])


def finish_attempt(cur: Any, attempt_id: int, outcome: CallOutcome, *, ended_at: datetime,
                   answered_at: datetime | None = None, ring_seconds: float | None = None,
                   amd_result: AmdResult | None = None, hangup_cause: str = "", agent_id: int | None = None,
                   disposition: str = "") -> None:
    """Close an attempt (the CLOSE_ATTEMPT effect) and note its outcome on the contact."""
    cur.execute(
        """UPDATE outbound_attempts SET outcome = %s, ended_at = %s, answered_at = %s, ring_seconds = %s,
                  amd_result = %s, hangup_cause = %s, agent_id = %s, disposition = %s
            WHERE id = %s RETURNING contact_id""",
        (outcome.value, ended_at, answered_at, ring_seconds, amd_result.value if amd_result else "",
         hangup_cause, agent_id, disposition, attempt_id),
    )
    contact_id = cur.fetchone()["contact_id"]
    cur.execute(
        "UPDATE outbound_contacts SET last_outcome = %s, updated_at = now() WHERE id = %s",
        (outcome.value, contact_id),
    )


def outcome_counts(cur: Any, contact_id: int) -> dict[CallOutcome, int]:
    """Attempts of a contact by outcome, for :func:`outbound.retries.after_call`."""
    cur.execute(
        "SELECT outcome, count(*) AS n FROM outbound_attempts WHERE contact_id = %s AND outcome <> 'dialing' "
        "GROUP BY outcome",
        (contact_id,),
    )
    return {CallOutcome(r["outcome"]): int(r["n"]) for r in cur.fetchall()}


# -- contact lists and import jobs (for the CLI and the web pages) ------------------


def contact_list_id(cur: Any, name: str, *, create: bool = False, default_region: str = "US") -> int | None:
    """The id of the list called ``name``; created when ``create`` (the CLI's --list NAME)."""
    if create:
        cur.execute(
            """INSERT INTO outbound_contact_lists (name, default_region) VALUES (%s, %s)
               ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
            (name, default_region),
        )
    else:
        cur.execute("SELECT id FROM outbound_contact_lists WHERE name = %s", (name,))
    row = cur.fetchone()
    return int(row["id"]) if row else None


def import_job(cur: Any, job_id: int) -> dict[str, Any] | None:
    """An import job's row: status, counts and error, as the progress page shows them."""
    cur.execute("SELECT * FROM outbound_import_jobs WHERE id = %s", (job_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def import_issues(cur: Any, job_id: int, *, limit: int = 1000, after_row: int = 0) -> list[dict[str, Any]]:
    """The bad-row report, a page at a time in row order (``after_row``: last row seen)."""
    cur.execute(
        """SELECT row_number, kind, reason, raw FROM outbound_import_issues
            WHERE job_id = %s AND row_number > %s ORDER BY row_number LIMIT %s""",
        (job_id, after_row, limit),
    )
    return [dict(r) for r in cur.fetchall()]
