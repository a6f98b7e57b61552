"""The command line: a thin leaf over runner.run() and the renderers.

Exit codes: 0 ok, 1 warn, 2 critical, 3 unknown or the run could not happen
(bad flag, no region), with a one-line reason on stderr and never a traceback.
"""
from __future__ import annotations

import argparse
import gc
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
    g.add_argument("--pod-identity-endpoint", dest="pod_identity_endpoints", metavar="URL", action="append",
                   help="EKS Pod Identity agent address to probe (repeatable; default http://169.254.170.23, "
                        "and http://[fd00:ec2::23] on IPv6 nodes)")
    g.add_argument("--ca-bundle", dest="ca_bundle", metavar="PATH")
    g.add_argument("--vpc-cidr", dest="vpc_cidrs", metavar="CIDR", action="append",
                   help="VPC CIDR (repeatable; default: from IMDS)")
    g.add_argument("--endpoint-cidr", dest="endpoint_cidrs", metavar="CIDR", action="append",
                   help="a private network outside this VPC that holds endpoints, e.g. a hub VPC (repeatable; "
                        "RFC 1918, 100.64.0.0/10, fc00::/7 and transit-gateway/peering routes count already)")
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="vpce-doctor", description="Diagnose VPC endpoints and DNS from an EKS node.")
    parser.add_argument("--version", action="version", version="vpce-doctor %s" % __version__)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = sub.add_parser("check", help="run every check and report (default)")
    _add_check_flags(check)
    check.add_argument("--format", choices=["text", "json", "prometheus", "npd"], default="text",
                       help="npd: one line and exit 0 ok / 1 problem / 2 unknown for node-problem-detector")
    check.add_argument("--output", "-o", metavar="PATH", help="write the report here (atomically)")
    check.add_argument("--redact", action="store_true",
                       help="replace account, resource ids and node/VPC addresses with consistent stand-ins "
                            "(for a public forum)")
    npd = check.add_argument_group("--format npd (node-problem-detector custom plugin)")
    npd.add_argument("--npd-warn-as-problem", dest="npd_warn_as_problem", action="store_true",
                     help="warnings set the node condition too (default: only critical findings do)")
    npd.add_argument("--npd-max-length", dest="npd_max_length", type=_positive_int, default=80, metavar="N",
                     help="longest line, bytes: the monitor's max_output_length (default 80)")
    from ..preflight.command import add_fix_format, add_flags as add_preflight_flags

    add_fix_format(check)
    preflight = sub.add_parser("preflight", help="before any node exists: predict a subnet's endpoint and DNS "
                                                 "findings from the AWS configuration (read-only)")
    add_preflight_flags(preflight)
    tui = sub.add_parser("tui", help="the interactive view, live (default on a terminal)")
    _add_check_flags(tui)
    view = sub.add_parser("view", help="open a saved JSON report in the interactive view")
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


def _flags(args: argparse.Namespace) -> Dict[str, Any]:
    names = ("region", "account_id", "services", "all_services", "vpc_resolver", "resolvers", "imds_endpoint",
             "cluster_endpoint", "ca_bundle", "timeout", "deadline", "no_api", "https_port", "vpc_cidrs", "endpoint_cidrs",
             "allow_net", "clock_tolerance", "resolv_conf", "scan_processes", "config_path", "state_dir",
             "prometheus_dir", "history", "pod_identity_endpoints", "api_interval")
    return {n: getattr(args, n, None) for n in names}


def _fail(message: str) -> int:
    sys.stderr.write("vpce-doctor: %s\n" % _message(message.splitlines()[0]) if message else "vpce-doctor: failed\n")
    return EXIT_RUN_FAILED


def _npd_failed(args: argparse.Namespace, reason: str) -> int:
    """node-problem-detector shows stdout, not stderr, on the node: the reason goes there, as Unknown."""
    from .render import npd

    sys.stdout.write(npd.failed(reason, args.npd_max_length))
    sys.stderr.write("vpce-doctor: %s\n" % reason)
    return npd.NPD_UNKNOWN


def cmd_check(args: argparse.Namespace) -> int:
    from ..checks.catalogue import service_ids
    from ..core.settings import SettingsError, resolve_settings

    npd_mode = args.format == "npd"
    if npd_mode and args.output:
        return _npd_failed(args, "--output does not apply to --format npd (the line goes to stdout)")
    try:
        settings = resolve_settings(_flags(args), known_services=service_ids())
        # IMDS first: at real latency its round trips then cover the imports of the check path
        from .imds import Background

        imds_started = Background.start(settings)
        from .runner import run

        report = run(settings, imds_started=imds_started)
    except SettingsError as exc:
        return _npd_failed(args, str(exc)) if npd_mode else _fail(str(exc))
    data = report.to_dict()
    if getattr(args, "redact", False):
        from .redact_ids import redact_ids

        data = redact_ids(data)
    if settings.state_dir:
        from .history import record

        try:
            lines = record(data, settings.state_dir, settings.history, settings.prometheus_dir)
        except OSError as exc:
            return _npd_failed(args, "cannot write the state: %s" % exc) if npd_mode else \
                _fail("cannot write the state: %s" % exc)
        if not npd_mode:  # node-problem-detector reads stdout as the condition message: the line only
            sys.stdout.write("\n".join(lines) + "\n")
            if not getattr(args, "output", None):
                return report.exit_code
    if npd_mode:
        from .render import npd

        sys.stdout.write(npd.render(data, args.npd_max_length))
        return npd.exit_code(data["status"], args.npd_warn_as_problem)
    from .render import emit

    if getattr(args, "fix_format", None):
        return emit(data, "fixes-" + args.fix_format, getattr(args, "output", None), report.exit_code)
    return emit(data, args.format, getattr(args, "output", None), report.exit_code)


def cmd_preflight(args: argparse.Namespace) -> int:
    from ..preflight.command import options_from
    from ..preflight.gather import TargetError
    from ..preflight.run import run
    from .. import __version__
    from .render import emit

    try:
        report = run(options_from(args), __version__)
    except (TargetError, ValueError) as exc:
        return _fail(str(exc))
    data = report.to_dict()
    if args.fix_format:
        return emit(data, "fixes-" + args.fix_format, args.output, report.exit_code)
    interactive = not args.output and not args.no_tui and args.format == "text" and sys.stdout.isatty() \
        and sys.stdin.isatty() and tui_available()
    if interactive:  # the same view as a saved report: preflight has nothing live to watch
        from ..tui.app import VpceDoctorApp

        VpceDoctorApp(report=data).run()
        return report.exit_code
    return emit(data, args.format, args.output, report.exit_code)


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


def _message(value: object) -> str:
    from ..core.text import printable

    return printable(value)


def cmd_view(args: argparse.Namespace) -> int:
    if not tui_available():
        return _fail("the interactive view needs textual (pip install 'vpce-doctor[tui]')")
    from ..tui.run import view

    transform = (lambda report: report)
    if args.redact:
        from .redact_ids import redact_ids as transform  # noqa: F811
    try:
        return view(args.report, transform)
    except (OSError, ValueError) as exc:
        return _fail("cannot open %s: %s" % (_message(args.report), _message(exc)))


def cmd_fleet(args: argparse.Namespace) -> int:
    from . import fleet
    from .render import write_atomic

    options: Dict[str, Any] = {}
    if args.redact:
        from .redact_ids import IdRedactor

        redactor = IdRedactor()  # one table for the whole fleet: a VPC is the same stand-in on every node
        options.update(transform=redactor.report, rename=redactor.text)
    view = fleet.load(args.reports, **options)
    for skipped in view.skipped:  # said on stderr whatever the format, so json/html users see it too
        sys.stderr.write("vpce-doctor: skipped %s\n" % _message(skipped))
    if not view.nodes:
        return _fail("no readable report among %s" % _message(", ".join(args.reports)))
    content = fleet.RENDERERS[args.format](view)
    if args.output:
        try:
            write_atomic(args.output, content)
        except OSError as exc:
            return _fail("cannot write %s: %s" % (_message(args.output), exc.strerror or exc))
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
    from ..core.settings import SettingsError, check_number

    try:
        check_number("timeout", args.timeout)  # the demo builds Settings itself: the same range as check
    except SettingsError as exc:
        return _fail(str(exc))
    try:
        from ..demo.cli import run_demo
    except ImportError as exc:
        return _fail("the demo needs the [demo] extra (pip install 'vpce-doctor[demo]'): %s" % exc)
    return run_demo(args)


INTERACTIVE = ("tui", "demo", "view")  # commands that stay up (Textual): the cycle collector stays on


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("check", "tui", "view", "fleet", "services", "demo", "preflight")
    if not any(a in commands for a in argv) and not any(a in ("-h", "--help", "--version") for a in argv):
        # bare on a terminal: the interactive view; piped or with flags only: the text check
        interactive = not argv and sys.stdout.isatty() and sys.stdin.isatty() and tui_available()
        argv.insert(0, "tui" if interactive else "check")
    args = build_parser().parse_args(argv)
    handler = {"check": cmd_check, "tui": cmd_tui, "view": cmd_view, "fleet": cmd_fleet, "services": cmd_services,
               "demo": cmd_demo, "preflight": cmd_preflight}[args.command]
    collecting = gc.isenabled()
    if args.command not in INTERACTIVE:
        # A one-shot command lives a second or two and frees its objects by reference counting; the
        # cycle collector only re-walks the heap it grows while importing and probing (~100 ms of a
        # healthy check's ~450 ms of CPU). The interactive views live on, and keep it.
        gc.disable()
    try:
        return handler(args)
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # the last guard: one line, never a traceback, unless asked
        if os.environ.get("VPCE_DOCTOR_DEBUG"):
            raise
        return _fail("internal error: %s: %s (set VPCE_DOCTOR_DEBUG=1 for a traceback)" % (type(exc).__name__, exc))
    finally:
        if collecting:
            gc.enable()  # as found: main() also runs inside tests' own processes
