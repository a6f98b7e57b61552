"""The node subnet's route table: DescribeRouteTables (the AWS-managed worker node policy
grants it), its explicit association first, else the VPC's main table.

What it tells: which gateway endpoints (prefix list -> vpce-...) this subnet's traffic
reaches, and which destinations go to a transit gateway or a peering connection (a hub
VPC's endpoints live there)."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import List, Optional, Tuple

from . import aws_call
from .inventory import _ec2_client, _items, _text

TRANSIT_GATEWAY = "transit-gateway"
PEERING = "peering"


@dataclass(frozen=True)
class Route:
    destination: Optional[str]  # CIDR (IPv4 or IPv6), or None for a prefix-list route
    prefix_list_id: Optional[str]
    target: str  # local | vpc-endpoint | transit-gateway | peering | internet-gateway | nat-gateway | other
    target_id: Optional[str]
    state: Optional[str]


@dataclass(frozen=True)
class RouteTable:
    available: bool
    reason: Optional[str] = None
    id: Optional[str] = None
    main: bool = False  # the VPC's main table (the subnet has no explicit association)
    routes: Tuple[Route, ...] = ()
    denied: bool = False
    ms: float = 0.0

    def gateway_routes(self) -> Tuple[Route, ...]:
        return tuple(r for r in self.routes if r.target == "vpc-endpoint")

    def routes_to(self, endpoint_id: str) -> Tuple[Route, ...]:
        return tuple(r for r in self.routes if r.target_id == endpoint_id)

    def remote_networks(self) -> Tuple[str, ...]:
        """Destinations sent to a transit gateway or a peering connection. A default route
        (0.0.0.0/0, ::/0: central egress through a TGW) says nothing about where endpoints are."""
        return tuple(r.destination for r in self.routes if r.target in (TRANSIT_GATEWAY, PEERING)
                     and r.destination and not r.destination.endswith("/0") and r.state != "blackhole")

    def route_for(self, network_of) -> Optional[Route]:
        """The transit gateway / peering route whose destination network_of(destination) accepts."""
        for route in self.routes:
            if route.target in (TRANSIT_GATEWAY, PEERING) and route.destination and network_of(route.destination):
                return route
        return None


def _route(item) -> Route:
    targets = (("transitGatewayId", TRANSIT_GATEWAY), ("vpcPeeringConnectionId", PEERING),
               ("natGatewayId", "nat-gateway"), ("networkInterfaceId", "network-interface"),
               ("gatewayId", None))
    target, target_id = "other", None
    for field_name, kind in targets:
        value = _text(item, field_name)
        if value:
            target_id = value
            if kind is None:
                kind = ("local" if value == "local" else "vpc-endpoint" if value.startswith("vpce-")
                        else "internet-gateway" if value.startswith("igw-") else "other")
            target = kind
            break
    return Route(destination=_text(item, "destinationCidrBlock") or _text(item, "destinationIpv6CidrBlock"),
                 prefix_list_id=_text(item, "destinationPrefixListId"), target=target, target_id=target_id,
                 state=_text(item, "state"))


def parse_route_tables(body: bytes) -> List[Tuple[str, bool, Tuple[Route, ...], Tuple[str, ...]]]:
    """(route table id, is the VPC's main table, routes, explicitly associated subnets) per table."""
    root = ET.fromstring(body)
    tables = []
    for item in _items(root, "routeTableSet"):
        associations = _items(item, "associationSet")
        main = any((_text(a, "main") or "").lower() == "true" for a in associations)
        subnets = tuple(s for s in (_text(a, "subnetId") for a in associations) if s)
        tables.append((_text(item, "routeTableId") or "", main, tuple(_route(r) for r in _items(item, "routeSet")),
                       subnets))
    return tables


def collect(ctx, ec2_hostname: str) -> RouteTable:
    started = time.monotonic()

    def unavailable(reason: str, denied: bool = False) -> RouteTable:
        return RouteTable(available=False, reason=reason, denied=denied, ms=(time.monotonic() - started) * 1000.0)

    if not ctx.facts.subnet_id:
        return unavailable("the subnet id is unknown (IMDS gave none)")
    ec2, reason = _ec2_client(ctx, ec2_hostname)
    if ec2 is None:
        return unavailable(reason)
    try:
        # One request, not two (explicit association, then the main table): every node of a fleet
        # sends it, from EC2's per-account request budget. The VPC's tables, the subnet's own first.
        if ctx.facts.vpc_id:
            every = parse_route_tables(ec2("DescribeRouteTables", {"Filter.1.Name": "vpc-id",
                                                                   "Filter.1.Value.1": ctx.facts.vpc_id}))
            tables = [t for t in every if ctx.facts.subnet_id in t[3]] or [t for t in every if t[1]]
        else:
            tables = parse_route_tables(ec2("DescribeRouteTables", {
                "Filter.1.Name": "association.subnet-id", "Filter.1.Value.1": ctx.facts.subnet_id}))
    except aws_call.ExchangeFailed as exc:
        return unavailable("DescribeRouteTables failed (%s): %s" % (exc.outcome, exc.message),
                           denied=exc.outcome in aws_call.DENIALS)
    except ET.ParseError as exc:
        return unavailable("the ec2 API answered something that is not EC2 XML: %s" % exc)
    finally:
        ec2.session.close()
    if not tables:
        return unavailable("no route table is associated with %s and the VPC has no main table" % ctx.facts.subnet_id)
    table_id, main, routes, _ = tables[0]
    return RouteTable(available=True, id=table_id, main=main, routes=routes, ms=(time.monotonic() - started) * 1000.0)

