"""campaign_results: how each outbound campaign did per interval.

Source: the dialer's attempts (``outbound_attempts``, sql/004_outbound.sql) when that
schema is installed -- every dial, also those that never became an interaction
(failed, busy, no answer) -- with talk, hold and wrap-up from the linked interaction;
otherwise the outbound interactions that carry a campaign id. Filter
``source=attempts|interactions`` forces one. A live answer is an answer that was not
an answering machine; an attempt counts in the interval it was dialled.

Campaign name, mode and state, and the contact lists' progress (contacts in total,
still to dial, done) come from the outbound schema when it is there.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from reports import queries
from reports.call_reports import (
    OUTBOUND_COLUMNS,
    OUTBOUND_SQL,
    OUTBOUND_SUMS,
    outbound_facts,
    request_params,
)
from reports.errors import ReportError
from reports.kpi import outbound_kpis
from reports.request import ReportRequest
from reports.shaping import complete_grid

ATTEMPTS_SQL = """
SELECT a.campaign_id, a.agent_id, date_part('epoch', a.started_at),
       a.answered_at IS NOT NULL AND a.outcome <> 'machine', a.outcome,
       coalesce(i.talk_seconds, 0), coalesce(i.hold_seconds, 0), coalesce(i.wrapup_seconds, 0),
       a.contact_id, coalesce(nullif(a.disposition, ''), i.disposition, '')
  FROM outbound_attempts a LEFT JOIN interactions i ON i.id = a.interaction_id
 WHERE a.started_at >= %(start)s AND a.started_at < %(end)s
   AND (%(campaigns)s::bigint[] IS NULL OR a.campaign_id = ANY(%(campaigns)s::bigint[]))
   AND (%(agents)s::bigint[] IS NULL OR a.agent_id = ANY(%(agents)s::bigint[]))"""

CAMPAIGNS_SQL = """
SELECT c.id, c.name, c.display_name, c.mode, c.state,
       count(k.id), count(k.id) FILTER (WHERE k.state IN ('new', 'dialing', 'scheduled_retry')),
       count(k.id) FILTER (WHERE k.state = 'done')
  FROM outbound_campaigns c
  LEFT JOIN outbound_contact_lists l ON l.campaign_id = c.id
  LEFT JOIN outbound_contacts k ON k.list_id = l.id
 GROUP BY c.id"""

CAMPAIGN_COLUMNS = ("campaign_id", "campaign_name", "display_name", "mode", "state", "contacts_total",
                    "contacts_remaining", "contacts_done")


def _campaigns(conn: Any) -> pd.DataFrame:
    if not queries.table_exists(conn, "outbound_campaigns"):
        return pd.DataFrame({"campaign_id": pd.Series(dtype="int64")})
    return queries.read_frame(conn, CAMPAIGNS_SQL, {}, CAMPAIGN_COLUMNS).astype({"campaign_id": "int64"})


def _source_sql(conn: Any, req: ReportRequest) -> str:
    wanted = req.get("source", "auto")
    installed = queries.table_exists(conn, "outbound_attempts")
    if wanted == "attempts" and not installed:
        raise ReportError("the outbound schema (outbound_attempts) is not installed; use source=interactions")
    return ATTEMPTS_SQL if installed and wanted != "interactions" else OUTBOUND_SQL


def _chunk(facts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sums and outcome/disposition counts, distinct contacts) of one chunk."""
    keys = ["interval_start", "campaign_id"]
    facts = facts[facts["campaign_id"] > 0]
    sums = facts.groupby(keys)[list(OUTBOUND_SUMS)].sum()
    outcomes = pd.crosstab([facts["interval_start"], facts["campaign_id"]], facts["outcome"]).add_prefix("outcome_")
    dispositions = pd.crosstab([facts["interval_start"], facts["campaign_id"]],
                               facts["disposition"].replace("", "(none)")).add_prefix("disposition_")
    counts = sums.join(outcomes).join(dispositions).reset_index()
    contacts = facts[[*keys, "contact_id"]].dropna().drop_duplicates()
    return counts, contacts


def campaign_results(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Per campaign and interval: attempts, distinct contacts dialled, live answers,
    abandoned, connect and abandon rates, AHT, one ``outcome_*`` and ``disposition_*``
    column per value seen (new outcomes need no code), and the campaign's details and
    contact progress. Each chunk is reduced before the next is read."""
    keys = ["interval_start", "campaign_id"]
    counts: list[pd.DataFrame] = []
    contacts: list[pd.DataFrame] = []
    for chunk in queries.iter_frames(conn, _source_sql(conn, req), request_params(req), OUTBOUND_COLUMNS):
        chunk_counts, chunk_contacts = _chunk(outbound_facts(chunk, req))
        counts.append(chunk_counts)
        contacts = [pd.concat([*contacts, chunk_contacts]).drop_duplicates()]
    if counts:
        table = pd.concat(counts).fillna(0).groupby(keys).sum()
        table["contacts"] = pd.concat(contacts).groupby(keys)["contact_id"].nunique()
        table = table.fillna({"contacts": 0}).reset_index()
    else:
        table = pd.DataFrame(columns=[*keys, *OUTBOUND_SUMS, "contacts"])
    values = [c for c in table.columns if c not in keys]
    grid = outbound_kpis(complete_grid(table.fillna(0), req, ["campaign_id"], values,
                                       [(c,) for c in req.get("campaign_id") or ()]))
    grid["campaign_id"] = grid["campaign_id"].astype("int64")
    return grid.merge(_campaigns(conn), on="campaign_id", how="left")
