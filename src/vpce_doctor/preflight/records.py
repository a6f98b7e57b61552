"""Names the VPC answers itself: Route 53 private hosted zone records (the hub-and-spoke
layout, or a hand-made fix), and Resolver forwarding rules that send AWS names elsewhere.

Answers are classed like the node check's DNS answers: `vpc` (inside the VPC's CIDRs, or an
alias to an endpoint of this VPC), `remote` (private elsewhere: RFC 1918, 100.64.0.0/10,
unique-local IPv6, --endpoint-cidr, transit gateway / peering route destinations, or an
alias to another VPC's endpoint) or `public`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from ..core.addresses import SCOPE_PUBLIC, SCOPE_REMOTE, SCOPE_VPC, address_scope
from .gather import Configuration


def records_scope(addresses: Sequence[str], vpc_cidrs: Sequence[str], remote_cidrs: Sequence[str]) -> str:
    """One class for a record's addresses, each classed as the node classes a DNS answer: a record
    with any public address (or none) is public, one wholly inside the VPC is vpc, else remote."""
    scopes = {address_scope(a, vpc_cidrs, remote_cidrs) for a in addresses}
    if not scopes or SCOPE_PUBLIC in scopes:
        return SCOPE_PUBLIC
    return SCOPE_VPC if scopes == {SCOPE_VPC} else SCOPE_REMOTE


@dataclass(frozen=True)
class ZoneRecord:
    zone_id: str
    name: str
    values: List[str]  # addresses, or the alias target's DNS name
    classification: str

    def to_report(self) -> Dict[str, Any]:
        return {"zone_id": self.zone_id, "name": self.name, "values": self.values, "class": self.classification}


class ZoneRecords:
    def __init__(self, config: Configuration, vpc_cidrs: Sequence[str], remote_cidrs: Sequence[str]):
        self.records: Dict[str, ZoneRecord] = {}
        own_names = {entry.get("DnsName", "").rstrip(".").lower()
                     for e in config.items("endpoints", "VpcEndpoints") or [] for entry in e.get("DnsEntries") or []}
        for key, call in config.calls.items():
            if not key.startswith("records:") or not call.ok:
                continue
            zone_id = key.split(":", 1)[1]
            for rrset in call.data.get("ResourceRecordSets") or []:
                if rrset.get("Type") not in ("A", "AAAA"):
                    continue
                name = rrset["Name"].rstrip(".").lower().replace("\\052", "*")
                alias = rrset.get("AliasTarget")
                if alias:
                    target = alias["DNSName"].rstrip(".").lower()
                    # an alias's addresses are not readable from here: this VPC's endpoint, or another's
                    cls = SCOPE_VPC if target in own_names or any(target.endswith("." + n) for n in own_names) \
                        else SCOPE_REMOTE if ".vpce." in target else SCOPE_PUBLIC
                    values = [target]
                else:
                    values = [r["Value"] for r in rrset.get("ResourceRecords") or []]
                    cls = records_scope(values, vpc_cidrs, remote_cidrs)
                self.records.setdefault(name, ZoneRecord(zone_id, name, values, cls))

        # the zones on the VPC whose records were read (gather reads those holding a service name)
        self.zones: Dict[str, str] = {}  # zone name -> hosted zone id
        self.unread: Dict[str, str] = {}  # zone name -> why its records are unknown
        for zone in (config.data("hosted_zones") or {}).get("HostedZoneSummaries") or []:
            name, zone_id = zone["Name"].rstrip(".").lower(), zone["HostedZoneId"]
            call = config.calls.get("records:" + zone_id)
            if call is None:
                continue
            if call.ok:
                self.zones.setdefault(name, zone_id)
            else:
                self.unread[name] = call.error or "not readable"

    def covering_zone(self, hostname: str) -> Optional[str]:
        """The most specific private zone on the VPC that holds hostname or a parent of it: Route 53
        Resolver answers the name from that zone, and only from it."""
        hostname = hostname.lower()
        found = [z for z in list(self.zones) + list(self.unread) if hostname == z or hostname.endswith("." + z)]
        return max(found, key=len) if found else None

    def answer_for(self, hostname: str) -> Optional[ZoneRecord]:
        hostname = hostname.lower()
        if hostname in self.records:
            return self.records[hostname]
        wildcard = "*." + hostname.split(".", 1)[-1]
        return self.records.get(wildcard)


@dataclass(frozen=True)
class ForwardingRule:
    id: str
    domain: str
    targets: str


def resolver_rule_for(config: Configuration, hostname: str) -> Optional[ForwardingRule]:
    """The most specific Resolver rule on the VPC for the name, when it forwards (a SYSTEM rule
    for a more specific name keeps the name in the VPC)."""
    best, best_len = None, -1
    for key, call in config.calls.items():
        if not key.startswith("rule:") or not call.ok:
            continue
        rule = call.data.get("ResolverRule") or {}
        domain = str(rule.get("DomainName", "")).rstrip(".").lower()
        if not domain or not (hostname == domain or hostname.endswith("." + domain)):
            continue
        if len(domain) > best_len:
            best, best_len = rule, len(domain)
    if best is None or best.get("RuleType") != "FORWARD":
        return None
    targets = ", ".join("%s:%s" % (t.get("Ip") or t.get("Ipv6"), t.get("Port", 53)) for t in best.get("TargetIps") or [])
    return ForwardingRule(best["Id"], str(best["DomainName"]).rstrip("."), targets or "its targets")


def vpc_cidrs_of(config: Configuration) -> List[str]:
    vpcs = config.items("vpc", "Vpcs") or []
    if not vpcs:
        return []
    vpc = vpcs[0]
    cidrs = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or []
             if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"] or [vpc["CidrBlock"]]
    cidrs += [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet") or [] if a.get("Ipv6CidrBlock")]
    return cidrs


