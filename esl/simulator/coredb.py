"""The switch's core database as ``show channels`` / ``show calls`` read it -- late.

FreeSWITCH writes channel rows from its events asynchronously (the sql thread batches
them), so a ``show`` right after ``CHANNEL_BRIDGE`` still shows both legs parked with no
call linking them, and a second later shows the bridge (capture g). :class:`CoreDB`
reproduces that: every channel event queues a snapshot of its row, and the rows only
change when :meth:`flush` applies the queue (the switch flushes once per simulated
second, so the view lags the events by up to about a second).

Rendering follows mod_commands ``show``: ``as json`` is ``{"row_count":N,"rows":[..]}``
(compact), the default delimited form is a title line, rows and ``\\nN total.\\n``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHANNEL_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec",
    "read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure",
    "hostname", "presence_id", "presence_data", "accountcode", "callstate", "callee_name",
    "callee_num", "callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num",
    "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
    "initial_dialplan", "initial_context",
)
BASIC_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
    "callee_name", "callee_num", "callee_direction", "call_uuid", "hostname",
    "sent_callee_name", "sent_callee_num",
)
B_BASIC_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
    "callee_name", "callee_num", "callee_direction", "sent_callee_name", "sent_callee_num",
)
DETAILED_COLUMNS = CHANNEL_COLUMNS[: CHANNEL_COLUMNS.index("initial_cid_name")]
REGISTRATION_COLUMNS = (
    "reg_user", "realm", "token", "url", "expires", "network_ip", "network_port",
    "network_proto", "hostname", "metadata",
)

Row = dict[str, str]


@dataclass(slots=True)
class CoreDB:
    """Rows as of the last flush, and the changes waiting for the next one."""

    rows: dict[str, Row] = field(default_factory=dict)
    calls: dict[str, tuple[str, str]] = field(default_factory=dict)  # a -> (b, created epoch)
    _pending: list[tuple[str, Any]] = field(default_factory=list)

    def queue_row(self, row: Row) -> None:
        self._pending.append(("row", row))

    def queue_delete(self, uuid: str) -> None:
        self._pending.append(("delete", uuid))

    def queue_call(self, a: str, b: str, epoch: str) -> None:
        self._pending.append(("call", (a, b, epoch)))

    def queue_uncall(self, a: str) -> None:
        self._pending.append(("uncall", a))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for kind, payload in pending:
            if kind == "row":
                self.rows[payload["uuid"]] = payload
            elif kind == "delete":
                self.rows.pop(payload, None)
                self.calls.pop(payload, None)
            elif kind == "call":
                a, b, epoch = payload
                self.calls[a] = (b, epoch)
            elif kind == "uncall":
                self.calls.pop(payload, None)

    def clear(self) -> None:
        self.rows.clear()
        self.calls.clear()
        self._pending.clear()

    # -- views ----------------------------------------------------------------------

    def channels(self) -> list[Row]:
        return sorted(self.rows.values(), key=lambda r: r["created_epoch"])

    def basic_calls(self, *, detailed: bool = False, bridged_only: bool = False) -> list[Row]:
        """``basic_calls`` / ``detailed_calls``: one row per call, callee legs folded
        into the ``b_*`` columns of their caller's row."""
        callees = {b for b, _ in self.calls.values()}
        a_cols = DETAILED_COLUMNS if detailed else BASIC_COLUMNS
        b_cols = DETAILED_COLUMNS if detailed else B_BASIC_COLUMNS
        out = []
        for row in self.channels():
            if row["uuid"] in callees:
                continue
            link = self.calls.get(row["uuid"])
            b_row = self.rows.get(link[0]) if link else None
            if bridged_only and b_row is None:
                continue
            merged = {col: row[col] for col in a_cols}
            for col in b_cols:
                merged[f"b_{col}"] = b_row[col] if b_row else ""
            merged["call_created_epoch"] = link[1] if link and b_row else ""
            out.append(merged)
        return out


def channel_row(values: Mapping[str, str]) -> Row:
    """A row with every column, missing ones empty."""
    return {col: values.get(col, "") for col in CHANNEL_COLUMNS}


def local_stamp(epoch_us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_us / 1_000_000))


def render(rows: list[Row], fmt: str) -> str:
    """``show ...`` output for ``fmt`` ``json`` or ``delim`` (comma separated)."""
    if fmt == "json":
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":"))
    lines = []
    if rows:
        lines.append(",".join(rows[0]))
        lines.extend(",".join(row.values()) for row in rows)
    body = "".join(line + "\n" for line in lines)
    return f"{body}\n{len(rows)} total.\n"


def render_count(count: int) -> str:
    return f"\n{count} total.\n"


