"""The one error a caller of the reports can fix.

::

    ReportError (ValueError)    a report request is wrong: unknown report name, interval,
                                grouping or filter, a range that ends before it starts,
                                an export format the report cannot be written in ...

Internal surprises (a database error, a bug) are not wrapped: the CLI and the web app
log them and show a generic failure.
"""

from __future__ import annotations


class ReportError(ValueError):
    """A report request the user must change; the message says what to change."""
