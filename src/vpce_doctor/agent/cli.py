"""The command line: a thin leaf over runner.run() and the renderers.

Exit codes: 0 ok, 1 warn, 2 critical, 3 unknown or the run could not happen
(bad flag, no region), with a one-line reason on stderr and never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..tui import tui_available  # the package's __init__ only; textual is not imported
from typing import Any, Dict, List, Optional

EXIT_RUN_FAILED = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit 2, which means "critical" here
        self.exit(EXIT_RUN_FAILED, "%s: error: %s\n" % (self.prog, message))


def _add_check_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("what to check")
    g.add_argument("--services", help="comma-separated service ids (default: what this node needs)")
    g.add_argument("--all", dest="all_services", action="store_true", default=None,
                   help="check every service in the catalogue")
    g.add_argument("--region")
    g.add_argument("--account-id", dest="account_id")
    g.add_argument("--no-api", dest="no_api", action="store_true", default=None,
                   help="no signed calls and no inventory: DNS and TLS only")
    g = parser.add_argument_group("where to look")
    g.add_argument("--vpc-resolver", dest="vpc_resolver", metavar="ADDR", help="default 169.254.169.253")
    g.add_argument("--resolver", dest="resolvers", metavar="ADDR", action="append",
                   help="a node resolver (repeatable; default: /etc/resolv.conf)")
    g.add_argument("--imds-endpoint", dest="imds_endpoint", metavar="URL")
    g.add_argument("--cluster-endpoint", dest="cluster_endpoint", metavar="URL")
    g.add_argument("--ca-bundle", dest="ca_bundle", metavar="PATH")
    g.add_argument("--vpc-cidr", dest="vpc_cidrs", metavar="CIDR", action="append",
                   help="VPC CIDR (repeatable; default: from IMDS)")
    g.add_argument("--https-port", dest="https_port", type=int, metavar="PORT",
                   help="endpoint port (443; other values are for simulated VPCs)")
    g.add_argument("--allow-net", dest="allow_net", metavar="CIDR", action="append",
                   help="send probes only to these networks (repeatable)")
    g.add_argument("--resolv-conf", dest="resolv_conf", metavar="PATH",
                   help="where the node's resolvers are listed (default /etc/resolv.conf; in a container the "
                        "host's, e.g. /host/etc/resolv.conf)")
    g.add_argument("--no-process-scan", dest="scan_processes", action="store_false", default=None,
                   help=argparse.SUPPRESS)
    g = parser.add_argument_group("limits")
    g.add_argument("--timeout", type=float, help="per probe step, seconds (default 3)")
    g.add_argument("--deadline", type=float, help="whole run, seconds (default 4 x timeout + 2)")
    g.add_argument("--clock-tolerance", dest="clock_tolerance", type=float, help="seconds (default 60)")
    g = parser.add_argument_group("timer mode")
    g.add_argument("--state-dir", dest="state_dir", metavar="DIR",
                   help="write DIR/last.json and DIR/history/, print journal lines of what changed")
    g.add_argument("--prometheus-dir", dest="prometheus_dir", metavar="DIR",
                   help="also write DIR/vpce_doctor.prom (node_exporter textfile collector)")
    g.add_argument("--history", type=int, metavar="N", help="reports kept in DIR/history (default 96)")
    g.add_argument("--api-interval", dest="api_interval", type=float, metavar="SECONDS",
                   help="with --state-dir: signed calls and the inventory at most this often, or when DNS/TLS "
                        "changed; carried over in between (default 3600; 0: every run)")
    parser.add_argument("--config", dest="config_path", metavar="PATH",
                        help="settings file (default /etc/vpce-doctor/config.toml)")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="vpce-doctor", description="Diagnose VPC endpoints and DNS from an EKS node.")
    parser.add_argument("--version", action="version", version="vpce-doctor %s" % __version__)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = sub.add_parser("check", help="run every check and report (default)")
    _add_check_flags(check)
    check.add_argument("--format", choices=["text", "json", "prometheus"], default="text")
    check.add_argument("--output", "-o", metavar="PATH", help="write the report here (atomically)")
    tui = sub.add_parser("tui", help="the interactive view, live (default on a terminal)")
    _add_check_flags(tui)
    view = sub.add_parser("view", help="open a saved JSON report in the interactive view")
    view.add_argument("report", metavar="REPORT.json")
    fleet = sub.add_parser("fleet", help="many nodes' JSON reports in one view, by AZ and subnet")
    fleet.add_argument("reports", nargs="+", metavar="REPORT", help="report files or directories of them")
    fleet.add_argument("--format", choices=["text", "json", "html"], default="text")
    fleet.add_argument("--output", "-o", metavar="PATH")
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


def _flags(args: argparse.Namespace) -> Dict[str, Any]:
    names = ("region", "account_id", "services", "all_services", "vpc_resolver", "resolvers", "imds_endpoint",
             "cluster_endpoint", "ca_bundle", "timeout", "deadline", "no_api", "https_port", "vpc_cidrs",
             "allow_net", "clock_tolerance", "resolv_conf", "scan_processes", "config_path", "state_dir",
             "prometheus_dir", "history", "api_interval")
    return {n: getattr(args, n, None) for n in names}


def _fail(message: str) -> int:
    sys.stderr.write("vpce-doctor: %s\n" % message.splitlines()[0] if message else "vpce-doctor: failed\n")
    return EXIT_RUN_FAILED


def cmd_check(args: argparse.Namespace) -> int:
    from .runner import run
    from ..checks.catalogue import service_ids
    from ..core.settings import SettingsError, resolve_settings

    try:
        settings = resolve_settings(_flags(args), known_services=service_ids())
        report = run(settings)
    except SettingsError as exc:
        return _fail(str(exc))
    data = report.to_dict()
    if settings.state_dir:
        from .history import record

        try:
            lines = record(data, settings.state_dir, settings.history, settings.prometheus_dir)
        except OSError as exc:
            return _fail("cannot write the state: %s" % exc)
        sys.stdout.write("\n".join(lines) + "\n")
        if not getattr(args, "output", None):
            return report.exit_code
    from .render import emit

    return emit(data, args.format, getattr(args, "output", None), report.exit_code)


def cmd_tui(args: argparse.Namespace) -> int:
    from .runner import run
    from ..checks.catalogue import service_ids
    from ..core.settings import SettingsError, resolve_settings

    if not tui_available():
        return _fail("the interactive view needs textual (pip install 'vpce-doctor[tui]'); use `check` meanwhile")
    try:
        settings = resolve_settings(_flags(args), known_services=service_ids())
    except SettingsError as exc:
        return _fail(str(exc))
    from ..tui.run import live

    return live(lambda observer, on_facts: run(settings, observer=observer, on_facts=on_facts))


def cmd_view(args: argparse.Namespace) -> int:
    if not tui_available():
        return _fail("the interactive view needs textual (pip install 'vpce-doctor[tui]')")
    from ..tui.run import view

    try:
        return view(args.report)
    except (OSError, ValueError) as exc:
        return _fail("cannot open %s: %s" % (args.report, exc))


def cmd_fleet(args: argparse.Namespace) -> int:
    from . import fleet
    from .render import write_atomic

    view = fleet.load(args.reports)
    if not view.nodes:
        return _fail("no readable report among %s" % ", ".join(args.reports))
    content = fleet.RENDERERS[args.format](view)
    if args.output:
        write_atomic(args.output, content)
    else:
        sys.stdout.write(content)
    return 0


def cmd_services(args: argparse.Namespace) -> int:
    import json

    from ..checks.catalogue import load_catalogue, partition_for_region

    try:
        partition = partition_for_region(args.region)
    except ValueError as exc:
        return _fail(str(exc))
    rows = []
    for spec in load_catalogue():
        rows.append({
            "id": spec.id, "type": spec.endpoint_type,
            "endpoint_service": spec.endpoint_service_name(args.region, partition),
            "hostnames": spec.hostnames(args.region, partition, args.account_id or "<ACCOUNT>"),
            "required": "always" if spec.always_required else "when %s runs" % " or ".join(spec.required_by)
            if spec.required_by else "optional",
            "probe": spec.probe["operation"],
        })
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        sys.stdout.write("%s  %-9s %s\n%s  %s\n%s  probe %s; required %s\n" % (
            r["id"].ljust(width), r["type"], r["endpoint_service"], " " * width, ", ".join(r["hostnames"]),
            " " * width, r["probe"], r["required"]))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        from ..demo.cli import run_demo
    except ImportError as exc:
        return _fail("the demo needs the [demo] extra (pip install 'vpce-doctor[demo]'): %s" % exc)
    return run_demo(args)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("check", "tui", "view", "fleet", "services", "demo")
    if not any(a in commands for a in argv) and not any(a in ("-h", "--help", "--version") for a in argv):
        # bare on a terminal: the interactive view; piped or with flags only: the text check
        interactive = not argv and sys.stdout.isatty() and sys.stdin.isatty() and tui_available()
        argv.insert(0, "tui" if interactive else "check")
    args = build_parser().parse_args(argv)
    handler = {"check": cmd_check, "tui": cmd_tui, "view": cmd_view, "fleet": cmd_fleet, "services": cmd_services,
               "demo": cmd_demo}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # the last guard: one line, never a traceback, unless asked
        if os.environ.get("VPCE_DOCTOR_DEBUG"):
            raise
        return _fail("internal error: %s: %s (set VPCE_DOCTOR_DEBUG=1 for a traceback)" % (type(exc).__name__, exc))
