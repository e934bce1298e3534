"""Who may see which report, and on which data: enforced on the server.

=================  =============================================================
role               reports
=================  =============================================================
admin              every report, every queue, agent, campaign and IVR flow
supervisor         queue and agent reports (inbound_summary, abandoned_calls,
                   repeat_calls, call_detail, staffing, agent_performance,
                   agent_state_detail) and the Erlang calculator, limited to the
                   queues they supervise (``queue_supervisors``) and to their
                   agents: members of the teams they lead (``team_supervisors``)
                   and members of the queues they supervise (``queue_agents``)
campaign_manager   outbound_summary and campaign_results (every campaign: the
                   schema records no campaign owner)
agent              no report (403)
=================  =============================================================

A user with several roles gets the union. Limiting works on the report's filters,
before the report runs: a supervisor who names no queue gets all of theirs; naming a
queue or agent outside their scope is refused with a message naming what they may
ask for (never a silent empty result). The call detail of a supervisor is the calls
that went through their queues. voicemail_handling and ivr_tree are admin-only:
voicemail boxes and IVR flows belong to no queue, so they cannot be limited.

Pure, except :func:`load_scope` and :func:`load_choices`, which read the site tables
through the caller's database pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.errors import ReportError

#: Reports limited to the supervisor's queues through the ``queue`` filter.
QUEUE_LIMITED = frozenset({"inbound_summary", "abandoned_calls", "repeat_calls", "call_detail", "staffing"})
#: Reports limited to the supervisor's agents through the ``agent_id`` filter.
AGENT_LIMITED = frozenset({"agent_performance", "agent_state_detail"})
SUPERVISOR_REPORTS = QUEUE_LIMITED | AGENT_LIMITED
CAMPAIGN_REPORTS = frozenset({"outbound_summary", "campaign_results"})
#: Roles that open the reports area at all.
REPORT_ROLES = ("supervisor", "campaign_manager", "admin")


class ScopeError(ReportError):
    """The user asked for data outside what their roles allow; the message says what
    they may ask for."""


@dataclass(frozen=True)
class Scope:
    """What one user may report on. ``queues``/``agents`` None means no limit."""

    roles: tuple[str, ...]
    queues: tuple[str, ...] | None = ()
    agents: tuple[int, ...] | None = ()

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    def can_see(self, name: str) -> bool:
        if self.admin:
            return True
        return ("supervisor" in self.roles and name in SUPERVISOR_REPORTS) or (
            "campaign_manager" in self.roles and name in CAMPAIGN_REPORTS)

    @property
    def can_calculate(self) -> bool:
        """The Erlang calculator uses no stored data; it serves whoever plans staff."""
        return self.admin or "supervisor" in self.roles

    def visible(self, names: Sequence[str]) -> list[str]:
        return [name for name in names if self.can_see(name)]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _limit(filters: dict[str, str], key: str, allowed: Sequence[str], what: str, *, force: bool) -> None:
    asked = _split(filters.get(key, ""))
    outside = [value for value in asked if value not in allowed]
    if outside:
        mine = ", ".join(allowed) or "none"
        raise ScopeError(f"you may not report on {what} {', '.join(outside)}: yours are {mine}")
    if asked or not force:
        return
    if not allowed:
        raise ScopeError(f"no {what}s are assigned to you as supervisor; ask an administrator to assign them")
    filters[key] = ",".join(allowed)


def restrict(scope: Scope, name: str, filters: Mapping[str, str]) -> dict[str, str]:
    """``filters`` limited to ``scope`` for report ``name`` (which the caller has
    checked with :meth:`Scope.can_see`).

    Raises:
        ScopeError: a queue or agent outside the scope was asked for, or the
            supervisor has none to report on.
    """
    limited = dict(filters)
    if scope.admin:
        return limited
    if name in QUEUE_LIMITED and scope.queues is not None:
        _limit(limited, "queue", scope.queues, "queue", force=True)
    if name in AGENT_LIMITED and scope.agents is not None:
        _limit(limited, "agent_id", [str(a) for a in scope.agents], "agent", force=True)
        if scope.queues is not None:
            _limit(limited, "queue", scope.queues, "queue", force=False)
    return limited


# -- reading the site tables ----------------------------------------------------------

QUEUES_SQL = """
SELECT q.name FROM queue_supervisors qs JOIN queues q ON q.id = qs.queue_id
 WHERE qs.user_id = %(user)s ORDER BY q.name"""

AGENTS_SQL = """
SELECT a.id FROM agents a JOIN team_supervisors ts ON ts.team_id = a.team_id WHERE ts.user_id = %(user)s
UNION
SELECT qa.agent_id FROM queue_agents qa JOIN queue_supervisors qs ON qs.queue_id = qa.queue_id
 WHERE qs.user_id = %(user)s
ORDER BY 1"""


def load_scope(db: Any, user_id: int, roles: Sequence[str]) -> Scope:
    """The scope of a signed-in user (two small indexed reads for a supervisor)."""
    if "admin" in roles:
        return Scope(tuple(roles), None, None)
    if "supervisor" not in roles:
        return Scope(tuple(roles))
    queues = tuple(row["name"] for row in db.fetchall(QUEUES_SQL, {"user": user_id}))
    agents = tuple(int(row["id"]) for row in db.fetchall(AGENTS_SQL, {"user": user_id}))
    return Scope(tuple(roles), queues, agents)


def load_choices(db: Any, scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """Suggestions for the filter inputs, ``{filter: [(value, label)]}``, limited to
    the scope (a supervisor is never shown another team's names)."""
    if scope.queues is None:
        queues = [(r["name"], r["label"]) for r in db.fetchall(
            "SELECT name, coalesce(nullif(display_name, ''), name) AS label FROM queues ORDER BY name")]
    else:
        queues = [(q, q) for q in scope.queues]
    agent_rows = db.fetchall(
        """SELECT a.id, a.code, coalesce(nullif(u.display_name, ''), u.username) AS name
             FROM agents a JOIN users u ON u.id = a.user_id
            WHERE %(all)s OR a.id = ANY(%(ids)s) ORDER BY a.code""",
        {"all": scope.agents is None, "ids": list(scope.agents or ())})
    choices = {"queue": queues, "agent_id": [(str(r["id"]), f"{r['code']} {r['name']}") for r in agent_rows]}
    if scope.admin or "campaign_manager" in scope.roles:
        choices["campaign_id"] = [(str(r["id"]), r["label"]) for r in db.fetchall(
            "SELECT id, coalesce(nullif(display_name, ''), name) AS label FROM outbound_campaigns ORDER BY name")]
    if scope.admin:
        choices["flow"] = [(r["name"], r["name"]) for r in db.fetchall("SELECT DISTINCT name FROM flows ORDER BY 1")]
        choices["did"] = [(r["number"], r["label"] or r["number"]) for r in db.fetchall(
            "SELECT number, label FROM dids ORDER BY number")]
    return choices
