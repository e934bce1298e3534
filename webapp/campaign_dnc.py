"""Do-not-call lists and compliance figures on the campaign pages.

DNC: the site's global list (every campaign) and each campaign's own (numbers that
asked that campaign not to call, added by the dialer too). Numbers are typed or
uploaded (CSV or text: the first column), normalised to E.164 like contact files
(:func:`outbound.phone.normalize`); lines that are not numbers come back with the
reason. The dialer checks the lists right before every call, so a number added while
a campaign runs is honoured from its next dial on.

Compliance: per day and over the rule set's rolling period (30 days by default; the
UK rules count per day, midnight to midnight UK time) -- the counts, the formula's
working and the verdict (:func:`outbound.store.compliance_figures`), as JSON for the
page and as CSV for an audit.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from outbound import campaign_sql
from outbound import store as sql
from outbound.abandon import period_figures
from outbound.campaign_config import load_config
from outbound.errors import CampaignSettingsError, InvalidPhoneNumber, UnknownCampaign
from outbound.phone import is_known_region, normalize
from webapp.auth import current_user, login_required, services

MAX_DAYS = 366
MAX_NUMBERS = 100_000


def routes(bp: Blueprint, roles: tuple[str, ...]) -> None:
    """Add this module's endpoints to the campaigns blueprint."""

    @bp.route("/dnc/data")
    @login_required(*roles)
    def dnc_data():
        campaign_id = request.args.get("campaign_id", type=int)
        with services().db.transaction() as cur:
            lists = campaign_sql.dnc_lists(cur, campaign_id)
        return jsonify(lists=[{**r, "created_at": None} for r in lists])

    @bp.route("/dnc/<int:list_id>/numbers")
    @login_required(*roles)
    def dnc_numbers(list_id: int):
        with services().db.transaction() as cur:
            rows = campaign_sql.dnc_numbers(cur, list_id)
        return jsonify(numbers=[{**r, "added_at": r["added_at"].isoformat()} for r in rows])

    @bp.route("/dnc/numbers", methods=["POST"])
    @login_required(*roles)
    def dnc_add():
        body = request.get_json(silent=True) or {}
        lines = str(body.get("numbers") or "").splitlines()
        return jsonify(_add(body.get("scope"), lines, str(body.get("region") or "US")))

    @bp.route("/dnc/upload", methods=["POST"])
    @login_required(*roles)
    def dnc_upload():
        sent = request.files.get("file")
        if sent is None:
            raise CampaignSettingsError("file", "choose a CSV or text file of numbers")
        text = sent.read().decode("utf-8-sig", errors="replace")
        lines = [row[0] for row in csv.reader(io.StringIO(text)) if row]
        scope: Any = request.form.get("scope", "global")
        scope = int(scope) if str(scope).isdigit() else scope
        return jsonify(_add(scope, lines, request.form.get("region", "US")))

    @bp.route("/dnc/<int:list_id>/numbers/<e164>", methods=["DELETE"])
    @login_required(*roles)
    def dnc_remove(list_id: int, e164: str):
        with services().db.transaction() as cur:
            removed = campaign_sql.remove_dnc_number(cur, list_id, e164)
        return jsonify(removed=removed)

    @bp.route("/<int:campaign_id>/compliance")
    @login_required(*roles)
    def compliance(campaign_id: int):
        return jsonify(figures=_figures(campaign_id))

    @bp.route("/<int:campaign_id>/compliance.csv")
    @login_required(*roles)
    def compliance_csv(campaign_id: int):
        rows = _figures(campaign_id)
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-compliance.csv"'})


def _add(scope: Any, lines: list[str], region: str) -> dict[str, Any]:
    """Normalise and add numbers to the global list (``scope`` "global") or a campaign's."""
    region = region.upper()
    if not is_known_region(region):
        raise CampaignSettingsError("region", f"{region!r}: use a two-letter country code such as US, GB or CN")
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        raise CampaignSettingsError("numbers", "give at least one number")
    if len(lines) > MAX_NUMBERS:
        raise CampaignSettingsError("numbers", f"at most {MAX_NUMBERS} numbers at a time")
    good, bad = [], []
    for number, line in enumerate(lines, start=1):
        try:
            good.append(normalize(line, region))
        except InvalidPhoneNumber as exc:
            bad.append({"line": number, "number": line, "reason": exc.reason})
    user = current_user()
    with services().db.transaction() as cur:
        if scope == "global":
            list_id = campaign_sql.global_dnc_list(cur)
        elif isinstance(scope, int) and not isinstance(scope, bool):
            if campaign_sql.campaign(cur, scope) is None:
                raise UnknownCampaign(f"campaign {scope} does not exist")
            list_id = sql.campaign_dnc_list(cur, scope)
        else:
            raise CampaignSettingsError("scope", "use \"global\" or a campaign id")
        added = campaign_sql.add_dnc_numbers(cur, list_id, sorted(set(good)), reason="added on the campaign page",
                                             added_by=user.username) if good else 0
    return {"list_id": list_id, "added": added, "invalid": bad}


def _figures(campaign_id: int) -> list[dict[str, Any]]:
    """One row per day and period between ``from`` and ``to`` (default: the last 30 days)."""
    built = services()
    with built.db.transaction() as cur:
        row = campaign_sql.campaign(cur, campaign_id)
        if row is None:
            raise UnknownCampaign(f"campaign {campaign_id} does not exist")
        config = load_config(row, site_zone=built.settings.site_timezone)
        today = sql.counter_day(config.rules, datetime.now(UTC))
        last = _day(request.args.get("to"), "to", today)
        first = _day(request.args.get("from"), "from", last - timedelta(days=29))
        if first > last or (last - first).days >= MAX_DAYS:
            raise CampaignSettingsError("from", f"choose a range of 1 to {MAX_DAYS} days, from before to")
        span = config.rules.profile.rolling_days or 1
        daily = sql.daily_counts(cur, campaign_id, first - timedelta(days=span - 1), last)
    rules, rows = config.rules, []
    day = first
    while day <= last:
        figures = period_figures(daily, day, limit=rules.abandon_limit, rolling_days=rules.profile.rolling_days,
                                 ofcom=rules.profile.ofcom_formula,
                                 amd_false_positive_rate=rules.amd_false_positive_rate)
        rows += [figure.as_row() for figure in figures]
        day += timedelta(days=1)
    return rows


def _day(value: str | None, field: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CampaignSettingsError(field, f"expected a date such as 2026-11-01, got {value!r}") from None

