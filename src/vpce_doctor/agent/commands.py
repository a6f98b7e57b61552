"""The agent's commands (`check`, `view`, `fleet`, `services`, `preflight`) and the flags they share:
thin leaves over runner.run() and the renderers. The dispatcher (vpce_doctor/cli.py) parses the
command line and calls one of them; where a command may open the interactive view instead of
printing, the dispatcher hands it that view as `show`, so nothing here imports the TUI.

Exit codes: 0 ok, 1 warn, 2 critical, 3 unknown or the run could not happen
(bad flag, no region), with a one-line reason on stderr and never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Dict, Optional

EXIT_RUN_FAILED = 3

# the interactive view of one report (tui.run.show), when the dispatcher chose it
Show = Optional[Callable[[Dict[str, Any]], int]]


def add_check_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("what to check")
    g.add_argument("--services", help="comma-separated service ids (default: what this node needs)")
    g.add_argument("--all", dest="all_services", action="store_true", default=None,
                   help="check every service in the catalogue")
    g.add_argument("--region")
    g.add_argument("--account-id", dest="account_id")
    g.add_argument("--no-api", dest="no_api", action="store_true", default=None,
                   help="no signed calls and no inventory: DNS and TLS only")
    g.add_argument("--image", dest="images", metavar="REF", action="append",
                   help="a private ECR image to pull one byte of, end to end (repeatable; besides one the node "
                        "runs, e.g. the VPC CNI's)")
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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def check_flags(args: argparse.Namespace) -> Dict[str, Any]:
    """The flags of `check` and `tui` as resolve_settings() takes them (None: not given)."""
    names = ("region", "account_id", "services", "all_services", "vpc_resolver", "resolvers", "imds_endpoint",
             "cluster_endpoint", "ca_bundle", "timeout", "deadline", "no_api", "https_port", "vpc_cidrs", "endpoint_cidrs",
             "allow_net", "clock_tolerance", "resolv_conf", "scan_processes", "config_path", "state_dir",
             "prometheus_dir", "history", "pod_identity_endpoints", "api_interval", "images")
    return {n: getattr(args, n, None) for n in names}


def message(value: object) -> str:
    from ..core.text import printable

    return printable(value)


def fail(reason: str) -> int:
    sys.stderr.write("vpce-doctor: %s\n" % message(reason.splitlines()[0]) if reason else "vpce-doctor: failed\n")
    return EXIT_RUN_FAILED


def _npd_failed(args: argparse.Namespace, reason: str) -> int:
    """node-problem-detector shows stdout, not stderr, on the node: the reason goes there, as Unknown."""
    from .render import npd

    sys.stdout.write(npd.failed(reason, args.npd_max_length))
    sys.stderr.write("vpce-doctor: %s\n" % reason)
    return npd.NPD_UNKNOWN


def check(args: argparse.Namespace) -> int:
    from ..checks.catalogue import service_ids
    from ..core.settings import SettingsError, resolve_settings

    npd_mode = args.format == "npd"
    if npd_mode and args.output:
        return _npd_failed(args, "--output does not apply to --format npd (the line goes to stdout)")
    try:
        settings = resolve_settings(check_flags(args), known_services=service_ids())
        # IMDS first: at real latency its round trips then cover the imports of the check path
        from .imds import Background

        imds_started = Background.start(settings)
        from .runner import run

        report = run(settings, imds_started=imds_started)
    except SettingsError as exc:
        return _npd_failed(args, str(exc)) if npd_mode else fail(str(exc))
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
                fail("cannot write the state: %s" % exc)
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


def preflight(args: argparse.Namespace, show: Show = None) -> int:
    from .. import __version__
    from ..preflight.command import options_from
    from ..preflight.gather import TargetError
    from ..preflight.run import run
    from .render import emit

    try:
        report = run(options_from(args), __version__)
    except (TargetError, ValueError) as exc:
        return fail(str(exc))
    data = report.to_dict()
    if args.fix_format:
        return emit(data, "fixes-" + args.fix_format, args.output, report.exit_code)
    if show is not None:  # the same view as a saved report: preflight has nothing live to watch
        show(data)
        return report.exit_code
    return emit(data, args.format, args.output, report.exit_code)


def view(args: argparse.Namespace, show: Show = None) -> int:
    """A saved report (a ticket's report.json): in the interactive view when the dispatcher hands
    `show`, else as the text report `check` prints, with the exit code `check` gives its status.
    Whatever the file holds is read through report_file.normalize, as the interactive view reads it."""
    from ..core.model import EXIT_CODES
    from .render import emit
    from .report_file import normalize, read_report, schema_notice

    try:
        raw = read_report(args.report)
    except (OSError, ValueError) as exc:
        return fail("cannot open %s: %s" % (message(args.report), message(exc)))
    if args.redact:
        from .redact_ids import redact_ids

        raw = redact_ids(raw)
    if show is not None:
        return show(raw)
    notice = schema_notice(raw)
    if notice:  # on stderr: the text on stdout stays the report
        sys.stderr.write("vpce-doctor: %s: %s\n" % (message(args.report), notice))
    data = normalize(raw)
    return emit(data, "text", None, EXIT_CODES.get(data["status"], EXIT_RUN_FAILED))


def fleet(args: argparse.Namespace) -> int:
    from . import fleet as fleet_view
    from .render import write_atomic

    options: Dict[str, Any] = {}
    if args.redact:
        from .redact_ids import IdRedactor

        redactor = IdRedactor()  # one table for the whole fleet: a VPC is the same stand-in on every node
        options.update(transform=redactor.report, rename=redactor.text)
    loaded = fleet_view.load(args.reports, **options)
    for skipped in loaded.skipped:  # said on stderr whatever the format, so json/html users see it too
        sys.stderr.write("vpce-doctor: skipped %s\n" % message(skipped))
    if not loaded.nodes:
        return fail("no readable report among %s" % message(", ".join(args.reports)))
    content = fleet_view.RENDERERS[args.format](loaded)
    if args.output:
        try:
            write_atomic(args.output, content)
        except OSError as exc:
            return fail("cannot write %s: %s" % (message(args.output), exc.strerror or exc))
    else:
        sys.stdout.write(content)
    return 0


def services(args: argparse.Namespace) -> int:
    import json

    from ..checks.catalogue import load_catalogue, partition_for_region

    try:
        partition = partition_for_region(args.region)
    except ValueError as exc:
        return fail(str(exc))
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
