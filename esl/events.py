"""One FreeSWITCH event as the rest of the middleware sees it.

The wire layer (:mod:`esl.protocol`) decodes ``text/event-json`` and
``text/event-plain`` frames into :class:`Event`; everything above reads events only
through this type, so where an event came from (which switch, which format) never
leaks further. Header names are FreeSWITCH's own (``Unique-ID``, ``Event-Name``,
``variable_cti_interaction_id`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class Event(NamedTuple):
    """A decoded ESL event (immutable).

    A named tuple rather than a frozen dataclass because one is built for every event
    the switch sends (thousands a second on a busy switch): a frozen dataclass sets
    each field through ``object.__setattr__``, about four times the cost of building
    the tuple, while reading a field costs only a little more. Construct it by keyword
    or position as before; it stays immutable.

    Attributes:
        headers: every event header, values already URL-decoded (plain) or as sent (json).
        body: the event body (``_body`` in JSON, the inner content in plain), or ``""``.
        node: the name of the switch it came from (see ``CTI_ESL``).
        received_at: ``time.monotonic()`` when its last byte was read, for latency figures.
    """

    headers: Mapping[str, str]
    body: str = ""
    node: str = ""
    received_at: float = 0.0

    @property
    def name(self) -> str:
        """``Event-Name``, with CUSTOM events named ``CUSTOM::<subclass>``."""
        name = self.headers.get("Event-Name", "")
        if name == "CUSTOM":
            return f"CUSTOM::{self.headers.get('Event-Subclass', '')}"
        return name

    @property
    def uuid(self) -> str:
        return self.headers.get("Unique-ID", "")

    @property
    def sequence(self) -> int:
        """``Event-Sequence``: the order to trust (timestamps move in 20 ms steps)."""
        try:
            return int(self.headers.get("Event-Sequence", "0"))
        except ValueError:
            return 0

    @property
    def timestamp(self) -> float:
        """``Event-Date-Timestamp`` in seconds since the epoch (it is sent in microseconds)."""
        try:
            return int(self.headers.get("Event-Date-Timestamp", "0")) / 1_000_000
        except ValueError:
            return 0.0

    @property
    def job_uuid(self) -> str:
        return self.headers.get("Job-UUID", "")

    def get(self, header: str, default: str = "") -> str:
        return self.headers.get(header, default)

    def var(self, name: str, default: str = "") -> str:
        """A channel variable (``variable_<name>``)."""
        return self.headers.get(f"variable_{name}", default)
