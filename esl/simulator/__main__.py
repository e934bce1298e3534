"""``python -m esl.simulator --port 8021 --password secret``: see :mod:`esl.simulator.main`."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402

from cti.logs import configure_logging  # noqa: E402
from esl.simulator.main import DEFAULT_DIDS, run_fakeswitch  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m esl.simulator", description="A simulated FreeSWITCH event socket.")
    parser.add_argument("--port", type=int, default=8021, help="TCP port (0 picks a free one)")
    parser.add_argument("--password", required=True, help="event socket password")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--caller-rate", type=float, default=0.0, help="inbound callers per simulated second")
    parser.add_argument("--did", action="append", dest="dids", help=f"a DID callers dial (default {DEFAULT_DIDS[0]})")
    parser.add_argument("--phone", action="append", dest="phones", default=[], help="an agent phone extension to register")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--middleware-lease", action="store_true",
                        help="park calls only while the middleware keeps cti_middleware_up_until in the future")
    parser.add_argument("--recordings-dir", default=None)
    args = parser.parse_args(argv)
    configure_logging("INFO")
    try:
        run_fakeswitch(
            args.port, args.password, host=args.host, speed=args.speed, caller_rate=args.caller_rate,
            dids=tuple(args.dids or DEFAULT_DIDS), phones=tuple(args.phones), seed=args.seed,
            middleware_lease=args.middleware_lease, recordings_dir=args.recordings_dir,
        )
    except (ValueError, OSError) as error:
        print(f"fakeswitch: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
