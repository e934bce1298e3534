"""``cti provision FILE.yaml``: load a site description into the database, idempotently.

A site file lists users and roles, agents (extension, skills, team, queues), queues and
their rules, IVR flows, calendars (business hours and holidays), DIDs, disposition and
reason codes, caller lists and customers. Running the same file twice changes nothing;
an edited file updates what it names and leaves everything else alone. A flow whose
definition changed gets a new version (calls in progress keep theirs). A password in
the file is an initial password: it is never reset on an existing user.

The whole file is checked before anything is written, and every problem names its
place in the file (``agents[3].skills.sales``) so the person editing it knows where to
look. Queue rules and flows are validated by routing/ (the same code that runs them).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cti.db import Database
from cti.users import UserError, check_roles, upsert_user


class ProvisionError(ValueError):
    """The site file is invalid; the message lists every problem with its location."""


@dataclass
class ProvisionReport:
    counts: dict[str, int] = field(default_factory=dict)
    new_flow_versions: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


def load_site_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProvisionError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ProvisionError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProvisionError(f"{path}: expected a mapping at the top (users:, agents:, queues: ...)")
    return data


_TOP_LEVEL = {
    "site", "skills", "teams", "reason_codes", "dispositions", "users", "agents", "queues",
    "calendars", "flows", "dids", "caller_lists", "customers",
}


def validate_site(site: dict[str, Any]) -> list[str]:
    """Every problem in the site description, as ``location: message`` lines."""
    problems: list[str] = []
    for key in site:
        if key not in _TOP_LEVEL:
            problems.append(f"{key}: unknown section (expected one of {', '.join(sorted(_TOP_LEVEL))})")
    skills = set(site.get("skills") or [])
    teams = set(site.get("teams") or [])
    queue_names = {q.get("name") for q in site.get("queues") or [] if isinstance(q, dict)}
    calendars = set((site.get("calendars") or {}).keys())
    flow_names = {f.get("name") for f in site.get("flows") or [] if isinstance(f, dict)}

    for i, user in enumerate(site.get("users") or []):
        where = f"users[{i}]"
        if not isinstance(user, dict) or not user.get("username"):
            problems.append(f"{where}: needs a username")
            continue
        try:
            check_roles(user.get("roles") or [])
        except UserError as exc:
            problems.append(f"{where} ({user['username']}): {exc}")
        for team in user.get("teams") or []:
            if team not in teams:
                problems.append(f"{where}.teams: unknown team {team!r}")
        for queue in user.get("queues") or []:
            if queue not in queue_names:
                problems.append(f"{where}.queues: unknown queue {queue!r}")

    codes: set[str] = set()
    for i, agent in enumerate(site.get("agents") or []):
        where = f"agents[{i}]"
        if not isinstance(agent, dict) or not agent.get("username") or not agent.get("code"):
            problems.append(f"{where}: needs username and code")
            continue
        code = str(agent["code"])
        if code in codes:
            problems.append(f"{where}: agent code {code} used twice")
        codes.add(code)
        for skill, level in (agent.get("skills") or {}).items():
            if skill not in skills:
                problems.append(f"{where}.skills.{skill}: unknown skill (list it under skills:)")
            if not isinstance(level, int) or not 1 <= level <= 10:
                problems.append(f"{where}.skills.{skill}: level must be an integer 1-10, got {level!r}")
        if agent.get("team") and agent["team"] not in teams:
            problems.append(f"{where}.team: unknown team {agent['team']!r}")
        for queue in agent.get("queues") or []:
            if queue not in queue_names:
                problems.append(f"{where}.queues: unknown queue {queue!r}")

    problems += _validate_queues(site.get("queues") or [], skills, calendars, queue_names, flow_names)
    problems += _validate_calendars(site.get("calendars") or {})
    problems += _validate_flows(site.get("flows") or [], queue_names, calendars, flow_names)
    for i, did in enumerate(site.get("dids") or []):
        if not isinstance(did, dict) or not did.get("number") or did.get("flow") not in flow_names:
            problems.append(f"dids[{i}]: needs number and the name of a flow defined under flows:")
    for i, code in enumerate(site.get("dispositions") or []):
        if not isinstance(code, dict) or not code.get("code") or not code.get("label"):
            problems.append(f"dispositions[{i}]: needs code and label")
        elif code.get("queue") and code["queue"] not in queue_names:
            problems.append(f"dispositions[{i}].queue: unknown queue {code['queue']!r}")
    for list_name in site.get("caller_lists") or {}:
        if list_name not in ("blacklist", "vip"):
            problems.append(f"caller_lists.{list_name}: only blacklist and vip exist")
    return problems


def _validate_queues(
    queues: list[Any], skills: set[str], calendars: set[str], queue_names: set[Any], flow_names: set[Any]
) -> list[str]:
    from routing.queues import QueueConfigError, parse_queue_rules

    problems = []
    for i, queue in enumerate(queues):
        where = f"queues[{i}]"
        if not isinstance(queue, dict) or not queue.get("name"):
            problems.append(f"{where}: needs a name")
            continue
        try:
            rules = parse_queue_rules(queue["name"], _queue_settings(queue))
        except QueueConfigError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for skill in rules.required_skills:
            if skill not in skills:
                problems.append(f"{where} ({queue['name']}): required skill {skill!r} is not listed under skills:")
        if rules.calendar and rules.calendar not in calendars:
            problems.append(f"{where} ({queue['name']}): unknown calendar {rules.calendar!r}")
    return problems


def _validate_calendars(calendars: dict[str, Any]) -> list[str]:
    from routing.calendars import parse_calendar
    from routing.errors import CalendarError

    problems = []
    for name, definition in calendars.items():
        try:
            parse_calendar(name, definition)
        except CalendarError as exc:
            problems.append(f"calendars.{name}: {exc}")
    return problems


def _validate_flows(flows: list[Any], queues: set[Any], calendars: set[str], flow_names: set[Any]) -> list[str]:
    from routing.flows import FlowError, parse_flow

    problems = []
    for i, flow in enumerate(flows):
        if not isinstance(flow, dict) or not flow.get("name"):
            problems.append(f"flows[{i}]: needs a name")
            continue
        try:
            parse_flow(flow, known_queues=queues, known_calendars=calendars, known_flows=flow_names)
        except FlowError as exc:
            problems.append(f"flows[{i}]: {exc}")
    return problems


def _queue_settings(queue: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in queue.items() if k not in ("name", "display_name", "supervisors")}


def provision(db: Database, site: dict[str, Any]) -> ProvisionReport:
    """Validate then write the whole site in one transaction."""
    problems = validate_site(site)
    if problems:
        raise ProvisionError("site file has problems:\n  " + "\n  ".join(problems))
    report = ProvisionReport()
    with db.transaction() as cur:
        _write_codes(cur, site, report)
        queue_ids = _write_queues(cur, site.get("queues") or [], report)
        user_ids = _write_users(cur, site, queue_ids, report)
        _write_agents(cur, site.get("agents") or [], queue_ids, user_ids, report)
        _write_flows(cur, site.get("flows") or [], report)
        _write_routing_data(cur, site, report)
        _write_customers(cur, site.get("customers") or [], report)
    return report


def _write_codes(cur: Any, site: dict[str, Any], report: ProvisionReport) -> None:
    for skill in site.get("skills") or []:
        cur.execute("INSERT INTO skills (name) VALUES (%s) ON CONFLICT DO NOTHING", (skill,))
        report.add("skills")
    for team in site.get("teams") or []:
        cur.execute("INSERT INTO teams (name) VALUES (%s) ON CONFLICT DO NOTHING", (team,))
        report.add("teams")
    for code, label in (site.get("reason_codes") or {}).items():
        cur.execute(
            """INSERT INTO reason_codes (code, label) VALUES (%s, %s)
               ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label""",
            (code, str(label)),
        )
        report.add("reason_codes")
    for item in site.get("dispositions") or []:
        cur.execute(
            """INSERT INTO disposition_codes (code, label, queue_name) VALUES (%s, %s, %s)
               ON CONFLICT (queue_name, code) DO UPDATE SET label = EXCLUDED.label""",
            (item["code"], item["label"], item.get("queue", "")),
        )
        report.add("dispositions")


def _write_queues(cur: Any, queues: list[dict[str, Any]], report: ProvisionReport) -> dict[str, int]:
    ids = {}
    for queue in queues:
        cur.execute(
            """INSERT INTO queues (name, display_name, settings) VALUES (%s, %s, %s)
               ON CONFLICT (name) DO UPDATE SET display_name = EXCLUDED.display_name,
                   settings = EXCLUDED.settings, updated_at = now()
               RETURNING id""",
            (queue["name"], queue.get("display_name", ""), json.dumps(_queue_settings(queue))),
        )
        ids[queue["name"]] = cur.fetchone()["id"]
        report.add("queues")
    return ids


def _write_users(
    cur: Any, site: dict[str, Any], queue_ids: dict[str, int], report: ProvisionReport
) -> dict[str, int]:
    ids = {}
    people = list(site.get("users") or []) + [
        {**a, "roles": a.get("roles") or ["agent"], "display_name": a.get("name", "")}
        for a in site.get("agents") or []
    ]
    for person in people:
        user_id = upsert_user(
            cur,
            person["username"],
            roles=tuple(person.get("roles") or ["agent"]),
            display_name=person.get("display_name", ""),
            password=person.get("password"),
            password_hash=person.get("password_hash"),
            language=person.get("language", "en"),
            keep_existing_password=True,
        )
        ids[person["username"]] = user_id
        report.add("users")
    for user in site.get("users") or []:
        user_id = ids[user["username"]]
        if "queues" in user:
            cur.execute("DELETE FROM queue_supervisors WHERE user_id = %s", (user_id,))
            for queue in user["queues"]:
                cur.execute(
                    "INSERT INTO queue_supervisors (queue_id, user_id) VALUES (%s, %s)",
                    (queue_ids[queue], user_id),
                )
        if "teams" in user:
            cur.execute("DELETE FROM team_supervisors WHERE user_id = %s", (user_id,))
            for team in user["teams"]:
                cur.execute(
                    "INSERT INTO team_supervisors (team_id, user_id) SELECT id, %s FROM teams WHERE name = %s",
                    (user_id, team),
                )
    return ids


def _write_agents(
    cur: Any,
    agents: list[dict[str, Any]],
    queue_ids: dict[str, int],
    user_ids: dict[str, int],
    report: ProvisionReport,
) -> None:
    for agent in agents:
        cur.execute(
            """INSERT INTO agents (user_id, code, default_extension, team_id)
               VALUES (%s, %s, %s, (SELECT id FROM teams WHERE name = %s))
               ON CONFLICT (user_id) DO UPDATE SET code = EXCLUDED.code,
                   default_extension = EXCLUDED.default_extension, team_id = EXCLUDED.team_id
               RETURNING id""",
            (user_ids[agent["username"]], str(agent["code"]), str(agent.get("extension", "")), agent.get("team")),
        )
        agent_id = cur.fetchone()["id"]
        cur.execute("DELETE FROM agent_skills WHERE agent_id = %s", (agent_id,))
        for skill, level in (agent.get("skills") or {}).items():
            cur.execute(
                "INSERT INTO agent_skills (agent_id, skill, level) VALUES (%s, %s, %s)",
                (agent_id, skill, level),
            )
        cur.execute("DELETE FROM queue_agents WHERE agent_id = %s", (agent_id,))
        for tier, queue in enumerate(agent.get("queues") or [], start=1):
            cur.execute(
                "INSERT INTO queue_agents (queue_id, agent_id, tier) VALUES (%s, %s, %s)",
                (queue_ids[queue], agent_id, tier),
            )
        report.add("agents")


def flow_checksum(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _write_flows(cur: Any, flows: list[dict[str, Any]], report: ProvisionReport) -> None:
    for flow in flows:
        checksum = flow_checksum(flow)
        cur.execute(
            "SELECT version, checksum FROM flows WHERE name = %s ORDER BY version DESC LIMIT 1",
            (flow["name"],),
        )
        latest = cur.fetchone()
        if latest and latest["checksum"] == checksum:
            continue
        version = (latest["version"] + 1) if latest else 1
        cur.execute(
            "INSERT INTO flows (name, version, definition, checksum) VALUES (%s, %s, %s, %s)",
            (flow["name"], version, json.dumps(flow, ensure_ascii=False), checksum),
        )
        report.new_flow_versions.append(f"{flow['name']} v{version}")
        report.add("flows")


def _write_routing_data(cur: Any, site: dict[str, Any], report: ProvisionReport) -> None:
    for name, definition in (site.get("calendars") or {}).items():
        cur.execute(
            """INSERT INTO calendars (name, definition) VALUES (%s, %s)
               ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition""",
            (name, json.dumps(definition)),
        )
        report.add("calendars")
    for did in site.get("dids") or []:
        cur.execute(
            """INSERT INTO dids (number, flow_name, label) VALUES (%s, %s, %s)
               ON CONFLICT (number) DO UPDATE SET flow_name = EXCLUDED.flow_name, label = EXCLUDED.label""",
            (str(did["number"]), did["flow"], did.get("label", "")),
        )
        report.add("dids")
    for list_name, numbers in (site.get("caller_lists") or {}).items():
        for entry in numbers or []:
            number, note = (entry, "") if not isinstance(entry, dict) else (entry["number"], entry.get("note", ""))
            cur.execute(
                """INSERT INTO caller_lists (list_name, number, note) VALUES (%s, %s, %s)
                   ON CONFLICT (list_name, number) DO UPDATE SET note = EXCLUDED.note""",
                (list_name, str(number), note),
            )
            report.add("caller_lists")


def _write_customers(cur: Any, customers: list[dict[str, Any]], report: ProvisionReport) -> None:
    for customer in customers:
        numbers = [str(n) for n in customer.get("numbers") or []]
        cur.execute(
            "SELECT customer_id FROM customer_numbers WHERE number = ANY(%s) LIMIT 1", (numbers,)
        )
        row = cur.fetchone()
        values = (
            customer.get("name", ""),
            customer.get("company", ""),
            bool(customer.get("vip", False)),
            list(customer.get("tags") or []),
            customer.get("notes", ""),
            customer.get("email", ""),
        )
        if row:
            customer_id = row["customer_id"]
            cur.execute(
                """UPDATE customers SET name = %s, company = %s, vip = %s, tags = %s, notes = %s,
                          email = %s, updated_at = now() WHERE id = %s""",
                (*values, customer_id),
            )
        else:
            cur.execute(
                """INSERT INTO customers (name, company, vip, tags, notes, email)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                values,
            )
            customer_id = cur.fetchone()["id"]
        for number in numbers:
            cur.execute(
                """INSERT INTO customer_numbers (number, customer_id) VALUES (%s, %s)
                   ON CONFLICT (number) DO UPDATE SET customer_id = EXCLUDED.customer_id""",
                (number, customer_id),
            )
        report.add("customers")
