"""`vpce-doctor demo`: the real check against a simulated VPC on loopback, no root needed."""
from __future__ import annotations

import sys


def run_demo(args) -> int:
    from ..agent.cli import emit
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
    if args.format == "text":
        sys.stdout.write("Simulated VPC: %s\n  %s\n\n" % (scenario.name, scenario.description))
        sys.stdout.flush()
    with World(scenario) as world:
        settings = world.settings(timeout=args.timeout)
        report = run(settings, credentials_provider=world.credentials_provider(settings))
        return emit(report.to_dict(), args.format, None, report.exit_code)
