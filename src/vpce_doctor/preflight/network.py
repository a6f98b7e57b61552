"""Security groups, network ACLs and route tables, read as the VPC would apply them.

Conservative by design: a rule that covers part of what is asked (a CIDR that overlaps
without containing, a prefix list) makes the answer None ("cannot tell"), never a guess.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Dict, Iterable, List, Optional, Sequence

# Linux (every EKS AMI) picks client ports from 32768-60999; the NACL must let the answers back.
EPHEMERAL_PORTS = (32768, 45000, 60999)
HTTPS = 443


def _net(cidr: str):
    return ipaddress.ip_network(cidr, strict=False)


def _covers(rule_cidr: Optional[str], peer_cidr: str) -> Optional[bool]:
    """True: the rule covers the whole peer range; False: none of it; None: part of it."""
    if not rule_cidr:
        return False
    rule, peer = _net(rule_cidr), _net(peer_cidr)
    if rule.version != peer.version:
        return False
    if peer.subnet_of(rule):
        return True
    return None if rule.overlaps(peer) else False


def _port_in(entry: Dict[str, Any], port: int, from_key: str = "FromPort", to_key: str = "ToPort") -> bool:
    low, high = entry.get(from_key), entry.get(to_key)
    if low is None or high is None or low == -1:
        return True
    return low <= port <= high


def sg_allows_https(groups: Sequence[Dict[str, Any]], peer_cidr: str, peer_groups: Sequence[str]) -> Optional[bool]:
    """Does any of these security groups accept TCP 443 from peer_cidr (or from one of peer_groups)?"""
    unsure = False
    for group in groups:
        for perm in group.get("IpPermissions") or []:
            if str(perm.get("IpProtocol")) not in ("-1", "tcp", "6") or not _port_in(perm, HTTPS):
                continue
            if any(pair.get("GroupId") in peer_groups for pair in perm.get("UserIdGroupPairs") or []):
                return True
            ranges = [r.get("CidrIp") for r in perm.get("IpRanges") or []] + \
                     [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges") or []]
            for cidr in ranges:
                covered = _covers(cidr, peer_cidr)
                if covered:
                    return True
                unsure = unsure or covered is None
            unsure = unsure or bool(perm.get("PrefixListIds"))
    return None if unsure else False


def nacl_for_subnet(acls: Iterable[Dict[str, Any]], subnet_id: str) -> Optional[Dict[str, Any]]:
    default = None
    for acl in acls:
        if any(a.get("SubnetId") == subnet_id for a in acl.get("Associations") or []):
            return acl
        if acl.get("IsDefault"):
            default = acl
    return default


def nacl_allows(acl: Dict[str, Any], egress: bool, peer_cidr: str, port: int) -> Optional[bool]:
    """First matching rule by number wins, as AWS evaluates them; None when a rule covers part of the peer."""
    entries = sorted((e for e in acl.get("Entries") or [] if bool(e.get("Egress")) == egress),
                     key=lambda e: e.get("RuleNumber", 32767))
    for entry in entries:
        if str(entry.get("Protocol")) not in ("-1", "6"):
            continue
        if str(entry.get("Protocol")) == "6" and not _port_in(entry.get("PortRange") or {}, port, "From", "To"):
            continue
        covered = _covers(entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"), peer_cidr)
        if covered is None:
            return None
        if covered:
            return entry.get("RuleAction") == "allow"
    return False


def nacl_path(node_acl: Optional[Dict[str, Any]], node_cidr: str, eni_acl: Optional[Dict[str, Any]],
              eni_cidr: str) -> List[str]:
    """What a NACL blocks between a node subnet and an endpoint ENI's subnet ([] when nothing);
    'cannot tell: ...' entries when a rule covers part of the range."""
    problems: List[str] = []
    legs = []
    if node_acl is not None:
        legs += [(node_acl, True, eni_cidr, [HTTPS], "node subnet NACL %s: 443 out to %s"),
                 (node_acl, False, eni_cidr, EPHEMERAL_PORTS, "node subnet NACL %s: ephemeral ports back from %s")]
    if eni_acl is not None:
        legs += [(eni_acl, False, node_cidr, [HTTPS], "endpoint subnet NACL %s: 443 in from %s"),
                 (eni_acl, True, node_cidr, EPHEMERAL_PORTS, "endpoint subnet NACL %s: ephemeral ports back to %s")]
    for acl, egress, peer, ports, words in legs:
        verdicts = [nacl_allows(acl, egress, peer, p) for p in ports]
        if False in verdicts:
            problems.append(("denied by " + words) % (acl.get("NetworkAclId"), peer))
        elif None in verdicts:
            problems.append(("cannot tell: " + words) % (acl.get("NetworkAclId"), peer))
    return problems


def route_table_for_subnet(tables: Iterable[Dict[str, Any]], subnet_id: str) -> Optional[Dict[str, Any]]:
    """The subnet's explicit association, else the VPC's main table."""
    main = None
    for table in tables:
        for association in table.get("Associations") or []:
            if association.get("SubnetId") == subnet_id:
                return table
            if association.get("Main"):
                main = table
    return main


def remote_destinations(table: Optional[Dict[str, Any]]) -> List[str]:
    """CIDRs the table sends to a transit gateway or a peering connection: where hub endpoints live.
    The node check's rule (checks/probes/route_table.RouteTable.remote_networks): a default route
    (central egress through a transit gateway) says nothing about where endpoints are, and a
    blackhole route goes nowhere; the operator names such a hub with --endpoint-cidr."""
    if table is None:
        return []
    destinations = []
    for route in table.get("Routes") or []:
        destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
        if destination and not destination.endswith("/0") and str(route.get("State")) != "blackhole" \
                and (route.get("TransitGatewayId") or route.get("VpcPeeringConnectionId")):
            destinations.append(destination)
    return destinations


def route_to(table: Optional[Dict[str, Any]], address: str) -> Optional[Dict[str, Any]]:
    """The route the table uses for address (longest prefix wins; a blackhole route goes nowhere): None
    when nothing covers it."""
    best, best_len = None, -1
    for route in (table or {}).get("Routes") or []:
        destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
        if not destination or str(route.get("State")) == "blackhole":
            continue
        try:
            network = _net(destination)
            if ipaddress.ip_address(address) in network and network.prefixlen > best_len:
                best, best_len = route, network.prefixlen
        except ValueError:
            continue
    return best


def route_target(route: Dict[str, Any]):
    """(kind, id) as the node check's route table names them (checks/probes/route_table.py)."""
    for key, kind in (("TransitGatewayId", "transit-gateway"), ("VpcPeeringConnectionId", "peering"),
                      ("NatGatewayId", "nat-gateway"), ("NetworkInterfaceId", "network-interface"),
                      ("GatewayId", "other")):
        if route.get(key):
            return kind, route[key]
    return "other", None
