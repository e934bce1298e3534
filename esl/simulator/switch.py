"""``FakeSwitch``: a FreeSWITCH 1.10/1.11 that speaks the inbound Event Socket over TCP.

It serves the real wire protocol (see :mod:`esl.simulator.server`), emits the event
sequences of the real captures (``tests/fixtures/freeswitch``), and lets a test play
the people around the switch: phones that answer, ring forever, are busy or reject;
callers that wait, key in DTMF and hang up; customers of an outbound campaign. Faults
for resilience tests: :meth:`FakeSwitch.drop_connections`, :meth:`FakeSwitch.restart`,
:meth:`FakeSwitch.stall_replies`.

Usage::

    switch = FakeSwitch(password="secret", speed=10)
    switch.start()                      # switch.port is the bound port
    uuid = switch.place_inbound_call(did="5551234", caller_number="+15550001")
    ...
    switch.stop()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from esl.simulator.dialplan import DEFAULT_DID_PATTERN
from esl.simulator.endpoints import CallerBehaviour, CustomerProfile
from esl.simulator.engine import Engine
from esl.simulator.server import EslServer


class FakeSwitch:
    """A simulated FreeSWITCH.

    Args:
        password: the Event Socket password.
        host, port: where to listen (port 0 picks a free port; read ``port``).
        speed: simulated seconds per real second (ring times, patience, talk time and
            the 20 ms event clock all scale).
        hostname: ``FreeSWITCH-Hostname`` of the events.
        seed: makes uuids, ports and customer outcomes reproducible.
        vanilla_directory: the vanilla config's users 1000-1019, all registered, and
            its ``default_password`` warning in the ``default`` context.
        did_pattern: ``cti_did_regex``, the DIDs our ``cti_inbound`` extension takes in
            ``public`` (default: any number of 3-15 digits; the lab numbers 5900 and
            5902 and the vanilla 1000-1019 are routed before it).
        middleware_lease: route inbound calls as ``cti_inbound`` really does: parked
            for the middleware only while ``cti_middleware_up_until`` (which the
            middleware renews with ``global_setvar``) is later than the switch's clock,
            else to the fallback (ring group, then voicemail). By default the
            condition is always met -- the middleware renews its lease on real time,
            which a simulator running at ``speed`` > 1 would outrun -- and the
            variable is preset far in the future, as the README's lab command does.
        recordings_dir: the switch's ``recordings_dir`` / ``cti_recordings_dir``
            global (default ``<tmp>/fakeswitch/recordings``); voicemail goes under
            ``storage_dir`` = ``<recordings_dir>/storage``.
    """

    def __init__(
        self,
        *,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        hostname: str = "vm",
        seed: int | None = None,
        vanilla_directory: bool = True,
        did_pattern: str = DEFAULT_DID_PATTERN,
        middleware_lease: bool = False,
        recordings_dir: str | None = None,
    ) -> None:
        self.engine = Engine(
            hostname=hostname, speed=speed, seed=seed, vanilla_directory=vanilla_directory,
            did_pattern=did_pattern, middleware_lease=middleware_lease, recordings_dir=recordings_dir,
        )
        self.server = EslServer(self.engine, password=password, host=host, port=port)
        self.engine.core.publisher = self.server.publish

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def core_uuid(self) -> str:
        return self.engine.core.identity.core_uuid

    def start(self) -> None:
        self.engine.start()
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.engine.stop()

    def __enter__(self) -> FakeSwitch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------------------

    def drop_connections(self) -> None:
        """Close every Event Socket connection now; calls carry on."""
        self.server.drop_connections()

    def restart(self) -> None:
        """A crash and restart: connections drop, every channel vanishes without an
        event, and the switch comes back with a new Core-UUID."""
        self.server.drop_connections()
        self.engine.restart()

    def stall_replies(self, seconds: float) -> None:
        """Commands wait ``seconds`` (real time) before they are handled and answered;
        events keep flowing meanwhile."""
        self.server.stall(seconds)

    def unload_module(self, module: str) -> None:
        """``unload <module>``: ``module_exists`` answers false from now on (a switch set
        up without part of freeswitch-conf/, for configuration checks)."""
        self.engine.modules.discard(module)

    # -- endpoints ------------------------------------------------------------------------

    def register_phone(self, extension: str, *, answer_after: float | None = 1.0, behaviour: str = "answer") -> None:
        """Register (or re-register) a phone: ``answer`` after ``answer_after`` s,
        ``no_answer`` (rings until the originate times out), ``busy``, ``reject``."""
        self.engine.register_phone(extension, answer_after=answer_after, behaviour=behaviour)

    def unregister_phone(self, extension: str) -> None:
        self.engine.unregister_phone(extension)

    def set_customer_profile(self, profile: CustomerProfile) -> None:
        """How dialled customers (gateway and unknown SIP destinations) behave."""
        self.engine.set_customer_profile(profile)

    def place_inbound_call(
        self,
        *,
        did: str,
        caller_number: str,
        caller_name: str = "",
        dtmf: Sequence[tuple[float, str]] = (),
        hangup_after: float | None = None,
        behaviour: CallerBehaviour | None = None,
    ) -> str:
        """A call from ``caller_number`` to ``did`` arrives; returns the caller leg's uuid.

        ``dtmf`` is ``(seconds after answer, digits)``; ``hangup_after`` hangs up that
        many seconds after the answer; ``behaviour`` adds patience, talk time and
        answers to digit prompts.
        """
        return self.engine.place_inbound_call(
            did=did, caller_number=caller_number, caller_name=caller_name, dtmf=dtmf,
            hangup_after=hangup_after, behaviour=behaviour,
        )

    def press_digits(self, uuid: str, digits: str) -> None:
        """The person on channel ``uuid`` keys in ``digits`` (RFC 2833 DTMF)."""
        self.engine.press_digits(uuid, digits)

    def channels(self) -> list[dict[str, Any]]:
        """Live channels as ``show channels`` would list them, without its lag."""
        return self.engine.channels()

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> None:
        """The far end of channel ``uuid`` hangs up."""
        self.engine.hangup(uuid, cause)
