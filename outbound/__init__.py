"""Outbound campaigns: the pure decisions and the contact import.

What lives here (the run-time dialer -- ESL originate, scheduler jobs, web pages --
lives elsewhere and calls these):

- :mod:`outbound.pacing` and :mod:`outbound.estimators`: how many lines to dial now
  (predictive, progressive, preview, agentless), with the abandon-rate governor.
- :mod:`outbound.compliance`: rule sets (default and the UK Ofcom profile), the
  check made right before every originate, AMD handling, ring time and the abandon
  message deadline; :mod:`outbound.abandon` computes the abandon-rate figures;
  :mod:`outbound.windows` the calling windows in the contact's local time.
- :mod:`outbound.retries`: what happens to a contact after each call outcome.
- :mod:`outbound.campaign_states`: the campaign and contact state machines (one table).
- :mod:`outbound.campaign_settings`: a campaign's settings JSON, validated once.
- :mod:`outbound.phone`: E.164 normalisation and time zones from numbers.
- :mod:`outbound.contacts_import` (I/O): CSV/XLSX import into PostgreSQL in a worker
  process; :mod:`outbound.import_rows` is its pure row validation.
- :mod:`outbound.store` (I/O): the SQL the dialer and the pages run -- the check
  before each dial (:func:`outbound.store.check_before_dial`), claiming due contacts,
  attempts, DNC lists, daily compliance counters and figures, import job progress.
- :mod:`outbound.errors`: every exception raised by this package.

Everything except ``contacts_import`` and ``store`` is pure: no gevent, sockets,
psycopg2, Flask or Socket.IO, and ``mypy --strict`` clean.
"""
