"""Fixes for the DNS path (verdicts_dns.py): a private hosted zone that shadows AWS names, a name
no resolver the node uses has, and the VPC resolver's different view under centralised DNS.
Filled in like remediation.py; what the node cannot know is an <ANGLE-BRACKETED> placeholder
with the command that finds it placed first."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from ..core.model import FixAction, Remediation
from .probes.dns import DnsLookup
from .remediation import Where, alias_change, q


def _vpc(where: Where) -> str:
    return where.vpc_id or "<VPC-ID>"


def find_zone(where: Where, zone: str) -> str:
    query = "HostedZoneSummaries[?Name=='%s.'].HostedZoneId" % zone.rstrip(".")
    # a zone name comes from a DNS answer: only a plain one goes between double quotes unescaped
    quoted = '"%s"' % query if re.fullmatch(r"[a-z0-9_.-]+", zone) else q(query)
    return ("aws route53 list-hosted-zones-by-vpc --region %s --vpc-id %s --vpc-region %s --query %s --output text"
            % (q(where.region), q(_vpc(where)), q(where.region), quoted))


def private_zone_shadows(where: Where, hostname: str, zone: str, service_id: str, endpoint_type: str,
                         endpoint_id: Optional[str], dns_entries: Sequence[dict],
                         zone_id: Optional[str] = None) -> Remediation:
    """zone_id: when the caller read it (preflight); else the first command finds it."""
    # A private zone answers every name under it (Route 53 Resolver uses the most specific private zone
    # associated with the VPC and does not fall back to public DNS for a name that zone lacks).
    commands: List[str] = [] if zone_id else [find_zone(where, zone)]
    zone_id = q(zone_id.rsplit("/", 1)[-1]) if zone_id else "<ZONE-ID>"
    # DisassociateVPCFromHostedZone refuses to take the last VPC off a private zone: then it is deleted
    detach = ("aws route53 disassociate-vpc-from-hosted-zone --hosted-zone-id %s --vpc VPCRegion=%s,VPCId=%s"
              % (zone_id, q(where.region), q(_vpc(where))))
    if endpoint_type == "Gateway":
        return Remediation(
            text="Route 53 private hosted zone %s is associated with %s and answers every name under it, so %s's "
                 "names under it (%s among them) get NXDOMAIN instead of the public addresses the gateway endpoint "
                 "routes. No private zone may cover the gateway's names: move the records it holds into one zone per "
                 "interface service name (or turn on each endpoint's private DNS), then take %s off the VPC (or "
                 "delete it, if this is its only VPC)." % (zone, _vpc(where), service_id, hostname, zone),
            commands=tuple(commands + ["aws route53 list-resource-record-sets --hosted-zone-id %s "
                                       "--query 'ResourceRecordSets[].Name' --output text" % zone_id, detach]))
    change, target, target_zone = alias_change(hostname, dns_entries)
    commands.append("aws route53 change-resource-record-sets --hosted-zone-id %s --change-batch %s" % (zone_id, q(change)))
    return Remediation(
        text="Route 53 private hosted zone %s is associated with %s and answers every name under it, but holds no "
             "record for %s. Add the record (an alias to the %s endpoint%s), or better: one zone per service name "
             "(or the endpoint's own private DNS) instead of the parent zone, so that names without an endpoint "
             "keep their public answer and the S3 gateway's names are never covered."
             % (zone, _vpc(where), hostname, service_id, " " + endpoint_id if endpoint_id else ", once it exists"),
        commands=tuple(commands),
        actions=(FixAction("private_hosted_zone", {"region": where.region, "vpc_id": _vpc(where), "name": hostname,
                                                   "alias_dns_name": target, "alias_hosted_zone_id": target_zone}),)
        if endpoint_id else ())


def record_missing(where: Where, hostname: str, lookup: DnsLookup, service_id: str, service_name: str,
                   endpoint_type: str, endpoint_id: Optional[str], dns_entries: Sequence[dict]) -> Remediation:
    """The resolver the node uses says the name does not exist, and no parent zone of Route 53's explains it."""
    host, _, port = lookup.server.rpartition(":")
    dig = "dig %s -p %s %s A +time=2 +tries=1" % (q("@" + host.strip("[]")), q(port), q(hostname))
    soa = lookup.soa
    if soa is not None and soa.route53 and soa.zone == hostname.lower().rstrip("."):
        remedy = zone_record_missing(where, hostname, service_id, endpoint_id, dns_entries)
        return Remediation(text=remedy.text, commands=remedy.commands + (dig,), actions=remedy.actions)
    zone = "zone %s (SOA %s, %s)" % (soa.zone, soa.mname, soa.rname) if soa is not None else "a zone that sends no SOA"
    return Remediation(
        text="Resolver %s answers %s for %s from %s. A private zone or a forwarder on the way holds the name's parent "
             "and not the name: give the zone the record (an alias to the %s endpoint) or take the zone off the "
             "path so the name resolves through the VPC resolver, where the endpoint's private DNS answers it%s."
             % (lookup.server, lookup.status.upper(), hostname, zone, service_id,
                "" if endpoint_type == "Gateway" or endpoint_id else " (no %s endpoint was found: create it, %s)"
                % (service_id, service_name)),
        commands=(dig,
                  "aws route53 list-hosted-zones-by-vpc --region %s --vpc-id %s --vpc-region %s"
                  % (q(where.region), q(_vpc(where)), q(where.region)),
                  "aws route53resolver list-resolver-rule-associations --region %s --filters Name=VPCId,Values=%s"
                  % (q(where.region), q(_vpc(where)))))


def zone_record_missing(where: Where, hostname: str, service_id: str, endpoint_id: Optional[str],
                        dns_entries: Sequence[dict], zone_id: Optional[str] = None) -> Remediation:
    """A private zone for the service's own name, without its A record (NODATA at the apex)."""
    change, _, _ = alias_change(hostname, dns_entries)
    commands = [] if zone_id else [find_zone(where, hostname)]
    commands.append("aws route53 change-resource-record-sets --hosted-zone-id %s --change-batch %s"
                    % (q(zone_id.rsplit("/", 1)[-1]) if zone_id else "<ZONE-ID>", q(change)))
    return Remediation(
        text="Route 53 private hosted zone %s exists for the service's own name but holds no A record at its apex: "
             "add the alias record to the %s endpoint%s." % (hostname, service_id,
                                                             " " + endpoint_id if endpoint_id else ", once it exists"),
        commands=tuple(commands))


def vpc_resolver_differs(where: Where, hostname: str, resolver: str) -> Remediation:
    return Remediation(
        text="Nothing to fix for the node's components: kubelet, containerd, the VPC CNI and CoreDNS ask the node's "
             "resolvers (%s), which answer %s with an endpoint. Only a workload that asks the VPC resolver "
             "itself (169.254.169.253, or the VPC CIDR base + 2) sees the other answer; if one must, associate the "
             "hub's private hosted zones with %s, or add a Route 53 Resolver forwarding rule for the names to the "
             "hub's inbound endpoint." % (resolver, hostname, _vpc(where)),
        commands=("aws route53 list-hosted-zones-by-vpc --region %s --vpc-id %s --vpc-region %s"
                  % (q(where.region), q(_vpc(where)), q(where.region)),))
