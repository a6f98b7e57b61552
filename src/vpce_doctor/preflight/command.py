"""The `preflight` subcommand's flags and how they become Options (vpce_doctor/cli.py dispatches)."""
from __future__ import annotations

import argparse
import ipaddress
import os
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:  # the parser is built for every command (even --version): the run's modules load on use
    from .run import Options

FIX_FORMATS = ("cli", "terraform", "cloudformation")


def add_fix_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fix-format", dest="fix_format", choices=FIX_FORMATS, default=None,
                        help="print only the fixes, as an AWS CLI script, Terraform or a CloudFormation template "
                             "(default: the report, with CLI fixes in it)")


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("what to examine")
    g.add_argument("--region", help="default: AWS_REGION / the profile's region")
    g.add_argument("--profile", help="an AWS profile (default: AWS_PROFILE / the default chain)")
    g.add_argument("--subnet", dest="subnets", metavar="SUBNET-ID", action="append", default=[],
                   help="a subnet nodes will run in (repeatable)")
    g.add_argument("--vpc", metavar="VPC-ID", help="the subnets' VPC (checked; default: theirs)")
    g.add_argument("--cluster", metavar="NAME", help="take subnets and security groups from this EKS cluster")
    g.add_argument("--nodegroup", metavar="NAME", help="... and from this node group (subnets, node role)")
    g.add_argument("--services", help="comma-separated service ids (default: what every node needs, plus every "
                                      "service that has an endpoint in the VPC)")
    g.add_argument("--all", dest="all_services", action="store_true", help="every service in the catalogue")
    g.add_argument("--account-id", dest="account_id", help="default: the VPC owner")
    g.add_argument("--node-role-arn", dest="node_role_arn", metavar="ARN",
                   help="the node role, to read endpoint policies that name principals (default: the node group's)")
    g.add_argument("--endpoint-cidr", dest="endpoint_cidrs", metavar="CIDR", action="append", default=[],
                   help="a private network outside the VPC that holds endpoints (a hub VPC), as the node check's "
                        "flag: private zone records there count as remote, not public (repeatable; default: "
                        "VPCE_DOCTOR_ENDPOINT_CIDRS)")
    g = parser.add_argument_group("limits")
    g.add_argument("--timeout", type=float, default=None, help="per API call, seconds (default 3)")
    g.add_argument("--deadline", type=float, default=None, help="whole run, seconds (default 20)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--output", "-o", metavar="PATH", help="write the report (or the fixes) here, atomically")
    parser.add_argument("--no-tui", dest="no_tui", action="store_true",
                        help="print the text report even on a terminal")
    add_fix_format(parser)


def endpoint_cidrs(flags, environ=os.environ) -> Tuple[str, ...]:
    """The flag, else the node check's environment variable; each must be a CIDR (as the node's setting)."""
    values = list(flags) or environ.get("VPCE_DOCTOR_ENDPOINT_CIDRS", "").replace(",", " ").split()
    for cidr in values:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError("--endpoint-cidr: not a CIDR: %r (expected e.g. 10.0.0.0/16)" % cidr[:80]) from None
    return tuple(values)


def options_from(args: argparse.Namespace) -> "Options":
    from .run import Options

    services: Optional[list] = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else None
    timeout = args.timeout or 3.0
    return Options(region=args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                   profile=args.profile, subnets=tuple(args.subnets), vpc=args.vpc, cluster=args.cluster,
                   nodegroup=args.nodegroup, services=services, all_services=bool(args.all_services),
                   account_id=args.account_id, node_role_arn=args.node_role_arn,
                   endpoint_cidrs=endpoint_cidrs(args.endpoint_cidrs), timeout=timeout,
                   deadline=args.deadline or max(20.0, 4 * timeout + 2))
