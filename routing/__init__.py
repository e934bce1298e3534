"""Routing: who gets a call, and what the caller hears before that.

Everything in this package is pure: snapshots in, decisions out. Nothing here opens a
socket, talks to FreeSWITCH or PostgreSQL, or sleeps; the routing engine (the shell,
written separately) feeds events in, executes the returned steps and effects over ESL,
and persists what ``sql/003_routing.sql`` describes.

Modules, one concept each:

- :mod:`routing.errors` -- the exception tree.
- :mod:`routing.queues` -- queue rules parsed and validated from ``queues.settings``.
- :mod:`routing.agent_index` -- the index of free agents per queue, in strategy order.
- :mod:`routing.waiting` -- the waiting calls of one queue, ranked with aging.
- :mod:`routing.timers` -- the timers of waiting calls (overflow, relaxation, prompts).
- :mod:`routing.acd` -- the ACD decider (:class:`~routing.acd.Router`), event-driven.
- :mod:`routing.decisions` -- what the decider returns (assignments, overflows, effects).
- :mod:`routing.announcements` -- comfort, position/EWT, callback and agent-id prompts.
- :mod:`routing.ewt` -- estimated wait time with a "can we say it" flag.
- :mod:`routing.calendars` -- business hours and holidays, per time zone.
- :mod:`routing.callers` -- blacklist / VIP classification and what it means for a call.
- :mod:`routing.steps` -- the FreeSWITCH applications and routing actions a step asks for.
- :mod:`routing.flow_nodes` -- the IVR node types; :mod:`routing.flow_fields` -- the
  fields of each and their readers; :mod:`routing.flows` parses and validates a
  flow definition (YAML or JSON) into them.
- :mod:`routing.ivr_state` -- the IVR's data (results, context, state, step);
  :mod:`routing.ivr` -- the IVR step machine (``start`` / ``resume``).
- :mod:`routing.ivr_stats` -- node statistics, caller shortcuts and the quick menu.
"""
