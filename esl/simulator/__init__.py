"""A simulated FreeSWITCH for tests, the demo and load: see :class:`FakeSwitch`.

Modules: ``server`` (the TCP Event Socket), ``commands``/``api``/``api_info`` (API
commands), ``engine``/``core`` (channels and time),
``lifecycle``/``execute``/``bridge``/``originate``/``inbound``/``routing`` (what
channels do and the events they fire), the dialplan applications (``apps``,
``media``, ``spy``, ``dial``, ``voicemail``, ``avmd``), ``dialplan`` (our
``freeswitch-conf`` dialplan), ``scheduler``, ``templates``/``render`` (event
headers copied from the real captures), ``endpoints``/``behaviours`` (phones,
callers, customers), ``arrivals``/``traffic`` (load generators), ``main``
(``run_fakeswitch``), ``probe`` (a raw test client).
"""

from __future__ import annotations

from esl.simulator.endpoints import CallerBehaviour, CustomerOutcome, CustomerProfile
from esl.simulator.main import run_fakeswitch
from esl.simulator.switch import FakeSwitch
from esl.simulator.traffic import CallerGenerator, register_agent_phones

__all__ = [
    "CallerBehaviour",
    "CallerGenerator",
    "CustomerOutcome",
    "CustomerProfile",
    "FakeSwitch",
    "register_agent_phones",
    "run_fakeswitch",
]
