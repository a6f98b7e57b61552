"""The node subnets as preflight sees them: CIDR, AZ, route table, NACL, hub routes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import network
from .gather import Configuration


@dataclass(frozen=True)
class SubnetView:
    id: str
    cidr: str
    availability_zone: str
    route_table: Optional[Dict[str, Any]] = None
    nacl: Optional[Dict[str, Any]] = None
    remote_cidrs: List[str] = field(default_factory=list)

    @property
    def route_table_id(self) -> Optional[str]:
        return self.route_table.get("RouteTableId") if self.route_table else None

    def to_report(self) -> Dict[str, Any]:
        return {"id": self.id, "cidr": self.cidr, "availability_zone": self.availability_zone,
                "route_table_id": self.route_table_id,
                "network_acl_id": self.nacl.get("NetworkAclId") if self.nacl else None,
                "remote_cidrs": list(self.remote_cidrs)}


def node_subnets(config: Configuration) -> List[SubnetView]:
    tables = config.items("route_tables", "RouteTables")
    acls = config.items("network_acls", "NetworkAcls")
    views = []
    for subnet in config.items("subnets", "Subnets") or []:
        table = network.route_table_for_subnet(tables, subnet["SubnetId"]) if tables is not None else None
        views.append(SubnetView(
            id=subnet["SubnetId"], cidr=subnet["CidrBlock"], availability_zone=subnet["AvailabilityZone"],
            route_table=table, nacl=network.nacl_for_subnet(acls, subnet["SubnetId"]) if acls is not None else None,
            remote_cidrs=network.remote_destinations(table)))
    order = {s: i for i, s in enumerate(config.subnet_ids)}
    return sorted(views, key=lambda v: order.get(v.id, len(order)))


def subnet_index(config: Configuration) -> Dict[str, Dict[str, Any]]:
    """Every subnet of the VPC by id (an endpoint's ENIs live in them)."""
    return {s["SubnetId"]: s for s in config.items("vpc_subnets", "Subnets") or []}
