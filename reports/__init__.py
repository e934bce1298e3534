"""Reports: KPI definitions, interval bucketing, staffing math, the named reports and
their exports.

Layout (functional core, imperative shell):

- pure core (no I/O, ``mypy --strict``): :mod:`reports.kpi` (every KPI formula, in one
  module), :mod:`reports.intervals` (30 min ... year buckets in the site's time zone),
  :mod:`reports.erlang` (Erlang B/C/A staffing), :mod:`reports.forecast` (volume and
  handle-time forecast from history), :mod:`reports.request` (validated requests),
  :mod:`reports.shaping` (zero-filled interval grids), :mod:`reports.charts`
  (chart-ready series);
- shell: :mod:`reports.queries` (chunked reads from PostgreSQL),
  :mod:`reports.rollup` (the pre-aggregated 15-minute queue table of
  ``sql/005_reports.sql``, kept up to date as calls end), the report modules
  (:mod:`~reports.queue_reports`, :mod:`~reports.agent_reports`,
  :mod:`~reports.call_reports`, :mod:`~reports.campaign_report`,
  :mod:`~reports.ivr_report`, :mod:`~reports.staffing`), :mod:`reports.catalog`
  (:func:`~reports.catalog.run_report`, the one entry point), :mod:`reports.export`
  (CSV, XLSX, JSON), :mod:`reports.cli` (``cti report``) and :mod:`reports.jobs` (the
  daily export and roll-up jobs for APScheduler).

Every user mistake (unknown report, bad interval, unknown filter ...) raises
:class:`reports.errors.ReportError` with a message that says what to change.
"""
