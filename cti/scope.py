"""Loading what a user supervises (:class:`cti.supervision_rules.Scope`) from the site.

Read on every request and socket push decision rather than cached, like the user
itself (webapp/auth.py): a supervisor removed from a queue loses it at once. Three
small indexed queries; the floor has tens of queues and hundreds of agents.
"""

from __future__ import annotations

from cti.db import Database
from cti.supervision_rules import Scope
from cti.users import User

_QUEUES_SQL = """SELECT q.name FROM queue_supervisors s JOIN queues q ON q.id = s.queue_id WHERE s.user_id = %s"""
_TEAMS_SQL = "SELECT team_id FROM team_supervisors WHERE user_id = %s"
_AGENTS_SQL = """
SELECT a.id FROM agents a WHERE a.team_id = ANY(%s)
UNION
SELECT qa.agent_id FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id WHERE q.name = ANY(%s)"""


def load_scope(db: Database, user: User) -> Scope:
    """The user's scope: everything for an admin, their queues, teams and the agents
    of both for a supervisor, nothing for anyone else."""
    if "admin" in user.roles:
        return Scope(user.id, admin=True)
    if "supervisor" not in user.roles:
        return Scope(user.id)
    queues = [str(r["name"]) for r in db.fetchall(_QUEUES_SQL, (user.id,))]
    teams = [int(r["team_id"]) for r in db.fetchall(_TEAMS_SQL, (user.id,))]
    agents = {int(r["id"]) for r in db.fetchall(_AGENTS_SQL, (teams, queues))} if queues or teams else set()
    return Scope(user.id, queues=frozenset(queues), teams=frozenset(teams), agents=frozenset(agents))
