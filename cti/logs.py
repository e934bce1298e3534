"""Structured logging: one logfmt line per event, ``key=value`` pairs that grep and
log shippers both read.

Call sites pass context as ``extra={"call": ..., "agent": ...}``; every extra key is
printed. Nothing in the product prints to stdout except the command line's own output.
"""

from __future__ import annotations

import logging
import sys
import time

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    """``ts=... level=... logger=... msg=... key=value ...`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields = [
            f"ts={stamp}.{int(record.msecs):03d}Z",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                fields.append(f"{key}={_quote(value)}")
        if record.exc_info:
            fields.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(fields)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger to stderr in logfmt at ``level`` (from ``CTI_LOG_LEVEL``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that log every packet at INFO drown the call events.
    for noisy in ("engineio", "socketio", "werkzeug", "geventwebsocket", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
