"""The command line's dispatcher, on the top floor: it parses the arguments, picks the command and
calls it from the floor it lives on (agent: check, view, fleet, services, preflight; tui: tui; demo:
demo). It alone decides between the interactive view and printed text (a terminal, textual
installed), so no floor below imports one above it. Only `__main__.py` and the installed
`vpce-doctor` script import this module.

Exit codes: 0 ok, 1 warn, 2 critical, 3 unknown or the run could not happen (agent/commands.py).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import List, Optional

from .agent import commands
from .tui import tui_available  # the package's __init__ only; textual is not imported


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit 2, which means "critical" here
        self.exit(commands.EXIT_RUN_FAILED, "%s: error: %s\n" % (self.prog, message))


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .preflight.command import add_fix_format, add_flags as add_preflight_flags

    parser = _Parser(prog="vpce-doctor", description="Diagnose VPC endpoints and DNS from an EKS node.")
    parser.add_argument("--version", action="version", version="vpce-doctor %s" % __version__)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = sub.add_parser("check", help="run every check and report (default)")
    commands.add_check_flags(check)
    check.add_argument("--format", choices=["text", "json", "prometheus", "npd"], default="text",
                       help="npd: one line and exit 0 ok / 1 problem / 2 unknown for node-problem-detector")
    check.add_argument("--output", "-o", metavar="PATH", help="write the report here (atomically)")
    check.add_argument("--redact", action="store_true",
                       help="replace account, resource ids and node/VPC addresses with consistent stand-ins "
                            "(for a public forum)")
    npd = check.add_argument_group("--format npd (node-problem-detector custom plugin)")
    npd.add_argument("--npd-warn-as-problem", dest="npd_warn_as_problem", action="store_true",
                     help="warnings set the node condition too (default: only critical findings do)")
    npd.add_argument("--npd-max-length", dest="npd_max_length", type=commands.positive_int, default=80, metavar="N",
                     help="longest line, bytes: the monitor's max_output_length (default 80)")
    add_fix_format(check)
    preflight = sub.add_parser("preflight", help="before any node exists: predict a subnet's endpoint and DNS "
                                                 "findings from the AWS configuration (read-only)")
    add_preflight_flags(preflight)
    tui = sub.add_parser("tui", help="the interactive view, live (default on a terminal)")
    commands.add_check_flags(tui)
    view = sub.add_parser("view", help="open a saved JSON report in the interactive view (on a terminal; "
                                       "piped or redirected: print it as the text report)")
    view.add_argument("report", metavar="REPORT.json")
    view.add_argument("--redact", action="store_true", help="show ids and addresses as stand-ins")
    fleet = sub.add_parser("fleet", help="many nodes' JSON reports in one view, by AZ and subnet")
    fleet.add_argument("reports", nargs="+", metavar="REPORT", help="report files or directories of them")
    fleet.add_argument("--format", choices=["text", "json", "html"], default="text")
    fleet.add_argument("--output", "-o", metavar="PATH")
    fleet.add_argument("--redact", action="store_true", help="ids and addresses as stand-ins, consistent across nodes")
    services = sub.add_parser("services", help="print the service catalogue")
    services.add_argument("--region", default="us-east-1")
    services.add_argument("--account-id", dest="account_id", default=None)
    services.add_argument("--format", choices=["text", "json"], default="text")
    demo = sub.add_parser("demo", help="run the check against a simulated VPC on loopback")
    demo.add_argument("--scenario", default="healthy")
    demo.add_argument("--list", action="store_true", help="list the scenarios")
    demo.add_argument("--format", choices=["text", "json", "prometheus"], default="text")
    demo.add_argument("--timeout", type=float, default=1.0)
    demo.add_argument("--no-tui", dest="no_tui", action="store_true", help="print the text report even on a terminal")
    return parser


def _on_a_terminal() -> bool:
    """Someone to look at the interactive view, and textual to draw it."""
    return sys.stdout.isatty() and sys.stdin.isatty() and tui_available()


def cmd_tui(args: argparse.Namespace) -> int:
    if not tui_available():
        return commands.fail("the interactive view needs textual (pip install 'vpce-doctor[tui]'); use `check` "
                             "meanwhile")
    from .tui.run import live_check

    return live_check(args)


def cmd_view(args: argparse.Namespace) -> int:
    if not _on_a_terminal():  # piped, redirected, or no textual: the text report, and exit
        return commands.view(args)
    from .tui.run import show

    return commands.view(args, show=show)


def cmd_preflight(args: argparse.Namespace) -> int:
    if args.output or args.no_tui or args.format != "text" or not _on_a_terminal():
        return commands.preflight(args)
    from .tui.run import show  # the same view as a saved report: preflight has nothing live to watch

    return commands.preflight(args, show=show)


def cmd_demo(args: argparse.Namespace) -> int:
    from .core.settings import SettingsError, check_number

    try:
        check_number("timeout", args.timeout)  # the demo builds Settings itself: the same range as check
    except SettingsError as exc:
        return commands.fail(str(exc))
    try:
        from .demo.cli import run_demo
    except ImportError as exc:
        return commands.fail("the demo needs the [demo] extra (pip install 'vpce-doctor[demo]'): %s" % exc)
    return run_demo(args)


COMMANDS = ("check", "tui", "view", "fleet", "services", "demo", "preflight")
INTERACTIVE = ("tui", "demo", "view")  # commands that stay up (Textual): the cycle collector stays on


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv) and not any(a in ("-h", "--help", "--version") for a in argv):
        # bare on a terminal: the interactive view; piped or with flags only: the text check
        interactive = not argv and _on_a_terminal()
        argv.insert(0, "tui" if interactive else "check")
    args = build_parser().parse_args(argv)
    handler = {"check": commands.check, "tui": cmd_tui, "view": cmd_view, "fleet": commands.fleet,
               "services": commands.services, "demo": cmd_demo, "preflight": cmd_preflight}[args.command]
    collecting = gc.isenabled()
    if args.command not in INTERACTIVE:
        # A one-shot command lives a second or two and frees its objects by reference counting; the
        # cycle collector only re-walks the heap it grows while importing and probing (~100 ms of a
        # healthy check's ~450 ms of CPU). The interactive views live on, and keep it.
        gc.disable()
    try:
        return handler(args)
    except KeyboardInterrupt:
        return commands.fail("interrupted")
    except Exception as exc:  # the last guard: one line, never a traceback, unless asked
        if os.environ.get("VPCE_DOCTOR_DEBUG"):
            raise
        return commands.fail("internal error: %s: %s (set VPCE_DOCTOR_DEBUG=1 for a traceback)"
                             % (type(exc).__name__, exc))
    finally:
        if collecting:
            gc.enable()  # as found: main() also runs inside tests' own processes
