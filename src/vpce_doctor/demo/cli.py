"""`vpce-doctor demo`: the real check against a simulated VPC on loopback, no root needed."""
from __future__ import annotations

import sys


def run_demo(args) -> int:
    from ..agent.render import emit
    from ..agent.runner import run
    from .scenarios import SCENARIOS
    from .world import World

    if args.list:
        ordered = sorted(SCENARIOS.values(), key=lambda s: (not s.demo, s.name))
        for s in ordered:
            sys.stdout.write("%-30s %s\n" % (s.name, s.description))
        return 0
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        sys.stderr.write("vpce-doctor: no scenario %r (see `vpce-doctor demo --list`)\n" % args.scenario)
        return 3
    from ..tui import tui_available

    interactive = args.format == "text" and not args.no_tui and sys.stdout.isatty() and tui_available()
    if args.format == "text" and not interactive:
        sys.stdout.write("Simulated VPC: %s\n  %s\n\n" % (scenario.name, scenario.description))
        sys.stdout.flush()
    _exit_cleanly_on_signals()
    with World(scenario) as world:
        settings = world.settings(timeout=args.timeout)
        if interactive:
            from ..tui.run import live

            world.stop_within = 0.05  # then os._exit: in-process servers end with the process
            code = live(lambda observer, on_facts: run(settings, observer=observer, on_facts=on_facts,
                                                       credentials_provider=world.credentials_provider(settings)))
        else:
            report = run(settings, credentials_provider=world.credentials_provider(settings))
            return emit(report.to_dict(), args.format, None, report.exit_code)
    # `q` pressed: the TUI is gone and the World is torn down (children stopped by PID, temp dir
    # removed, servers stopped side by side). What is left is the interpreter unloading moto and
    # botocore, a second of nothing on screen: leave without it.
    _leave_now(code)
    return code  # not reached


def _leave_now(code: int) -> None:
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _exit_cleanly_on_signals() -> None:
    """A closed SSH session (SIGHUP) or a kill (SIGTERM) still runs the World's teardown."""
    import signal

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)
