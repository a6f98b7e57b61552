"""The DNS path: which resolvers' answers decide a service, and what a name that resolves nowhere means.

The node's components (kubelet, containerd, the VPC CNI, and CoreDNS, which forwards to the node's
resolv.conf) ask the node's own resolvers, not 169.254.169.253. So:

| evidence                                                                   | code                      |
|----------------------------------------------------------------------------|---------------------------|
| the node's resolvers answer an endpoint the VPC resolver does not see      | (the node's path decides) |
|   (centralised DNS: a corporate resolver forwarding to a hub's inbound      | vpc_resolver_differs      |
|   endpoint), the VPC resolver answers public / NXDOMAIN / nothing           | (info, context only)      |
| a resolver on the path answers NXDOMAIN / NODATA and the SOA in its         |                           |
|   authority section is a Route 53 zone for a parent of the service name     | private_zone_shadows      |
| a resolver on the path answers NXDOMAIN / NODATA otherwise                  | dns_record_missing        |
| a node resolver fails / answers public where another resolver answers the   | dns_failure /             |
|   endpoint                                                                  | custom_dns_not_forwarding |

Pure functions of evidence, like verdicts.py, which calls in here.
"""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence

from ..core.model import CRITICAL, INFO, WARNING, Finding
from . import remediation as fix
from . import remediation_dns as dns_fix
from .probes import dns as dns_probe

CODES = ("private_zone_shadows", "vpc_resolver_differs")
MISSING = (dns_probe.NXDOMAIN, dns_probe.NODATA)


def _finding(code, severity, service, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=service, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def addresses_text(lookup: dns_probe.DnsLookup) -> str:
    return ", ".join(a.address for a in lookup.addresses) or lookup.status.upper()


def primary(ev, role: str) -> List[dns_probe.DnsLookup]:
    return [d for d in ev.dns or () if d.hostname == ev.hostname and d.rdtype == "A" and d.resolver_role == role]


def own_lookups(ev, vpc_resolver: str) -> List[dns_probe.DnsLookup]:
    """The node's own resolvers' answers for the service's name (a resolv.conf naming the VPC
    resolver itself adds nothing: that server is judged as the VPC resolver)."""
    return [d for d in primary(ev, "node") if d.server != vpc_resolver]


def answers(ev, lookup: dns_probe.DnsLookup) -> bool:
    """Does this answer lead to the service? An interface service needs an endpoint (private) address;
    a gateway service's public addresses are right (the route table sends them to the endpoint)."""
    return lookup.any_private if ev.endpoint_type == "Interface" else bool(lookup.addresses)


def _who(lookup: dns_probe.DnsLookup) -> str:
    return "%s resolver %s" % ("VPC" if lookup.resolver_role == "vpc" else "node", lookup.server)


def _soa_text(soa: Optional[dns_probe.Soa]) -> str:
    if soa is None:
        return "no SOA in the authority section"
    return "SOA %s (%s %s)" % (soa.zone, soa.mname, soa.rname)


def shadowing_zone(hostname: str, lookup: dns_probe.DnsLookup) -> Optional[str]:
    """The Route 53 zone that answered NXDOMAIN / NODATA for a parent of hostname, or None."""
    soa = lookup.soa
    if lookup.status not in MISSING or soa is None or not soa.route53:
        return None
    name = hostname.lower().rstrip(".")
    return soa.zone if name != soa.zone and name.endswith("." + soa.zone) else None


def name_missing(ev, node, lookup: dns_probe.DnsLookup, endpoint, symptoms: Sequence[str],
                 reference: Optional[dns_probe.DnsLookup] = None) -> Finding:
    """A resolver on the node's path says the name does not exist. `reference`: another resolver
    that does answer it (then the cause is this resolver's zone data, as before this module)."""
    severity = CRITICAL if ev.required or reference is not None else WARNING
    evidence = ["%s: %s -> %s (%s)" % (_who(lookup), ev.hostname, lookup.status.upper(), _soa_text(lookup.soa))]
    if reference is not None:
        evidence.append("%s: %s -> %s" % (_who(reference), ev.hostname, addresses_text(reference)))
    evidence += list(symptoms)
    zone = shadowing_zone(ev.hostname, lookup)
    if zone is not None:
        return _finding(
            "private_zone_shadows", severity, ev.id,
            "%s answers %s for %s from Route 53 zone %s: a private hosted zone for a parent of the service name "
            "answers every name under it, and holds no record for this one%s"
            % (_who(lookup), lookup.status.upper(), ev.hostname, zone,
               " (the S3 gateway endpoint needs the public answer: no private zone may cover S3's names)"
               if ev.endpoint_type == "Gateway" else ""),
            # a zone the VPC resolver answers from is on this VPC; one only a node resolver sees is on the VPC
            # its queries reach (a hub's, with centralised DNS), whose id the node cannot know
            dns_fix.private_zone_shadows(node.where if lookup.resolver_role == "vpc"
                                         else replace(node.where, vpc_id="<ZONE-VPC-ID>"),
                                         ev.hostname, zone, ev.id, ev.endpoint_type,
                                         endpoint.id if endpoint is not None else None,
                                         endpoint.dns_entries if endpoint is not None else ()),
            evidence)
    in_zone = " (zone %s)" % lookup.soa.zone if lookup.soa is not None else ""
    if reference is not None:
        return _finding(
            "dns_record_missing", severity, ev.id,
            "%s answers %s for %s%s where %s answers the endpoint"
            % (_who(lookup), lookup.status.upper(), ev.hostname, in_zone, _who(reference)),
            fix.custom_dns(node.where, ev.hostname, lookup.server, endpoint.id if endpoint is not None else None,
                           endpoint.dns_entries if endpoint is not None else (), missing_record=True),
            evidence)
    return _finding(
        "dns_record_missing", severity, ev.id,
        "%s answers %s for %s%s: no resolver the node uses gives it an address, so nothing on the node can reach "
        "%s" % (_who(lookup), lookup.status.upper(), ev.hostname, in_zone, ev.id),
        dns_fix.record_missing(node.where, ev.hostname, lookup, ev.id, ev.endpoint_service_name, ev.endpoint_type,
                               endpoint.id if endpoint is not None else None,
                               endpoint.dns_entries if endpoint is not None else ()),
        evidence)


def node_resolver_findings(ev, node, endpoint, reference: dns_probe.DnsLookup, symptoms: Sequence[str],
                           own: Sequence[dns_probe.DnsLookup]) -> List[Finding]:
    """Each of the node's resolvers that does not answer what `reference` (the VPC resolver, or another
    node resolver) answers: it fails, says the name does not exist, or (interface) answers public."""
    findings = []
    for lookup in own:
        if lookup is reference or answers(ev, lookup):
            continue
        evidence = ["%s: %s -> %s" % (_who(lookup), ev.hostname, addresses_text(lookup))] + list(symptoms)
        if lookup.failed:
            findings.append(_finding(
                "dns_failure", CRITICAL, ev.id,
                "node resolver %s gave %s for %s" % (lookup.server, lookup.status.upper(), ev.hostname),
                fix.dns_failure(ev.hostname, lookup.server, lookup.status),
                ["%s %s" % (e.server, e.error) for e in lookup.errors] + evidence))
        elif lookup.status in MISSING:
            findings.append(name_missing(ev, node, lookup, endpoint, symptoms, reference))
        elif ev.endpoint_type == "Interface" and lookup.all_public:
            findings.append(_finding(
                "custom_dns_not_forwarding", CRITICAL, ev.id,
                "node resolver %s answers %s outside the VPC (%s) where %s answers the endpoint"
                % (lookup.server, ev.hostname, addresses_text(lookup), _who(reference)),
                fix.custom_dns(node.where, ev.hostname, lookup.server, endpoint.id if endpoint is not None else None,
                               endpoint.dns_entries if endpoint is not None else (), missing_record=False),
                evidence))
    return findings


def vpc_resolver_differs(ev, node, vpc: dns_probe.DnsLookup, reference: dns_probe.DnsLookup) -> Finding:
    """Context, never the verdict: the node's components ask the node's resolvers, which work."""
    seen = {dns_probe.NXDOMAIN: "NXDOMAIN", dns_probe.NODATA: "no address"}.get(vpc.status) or (
        "public addresses" if vpc.addresses else "no answer (%s)" % vpc.status.upper())
    scope = "a hub's endpoint" if reference.any_remote and not reference.any_in_vpc else "an endpoint"
    if ev.endpoint_type == "Gateway":
        scope = "its addresses"
    return _finding(
        "vpc_resolver_differs", INFO, ev.id,
        "the node's resolver %s answers %s with %s (%s), which the node's components use; the VPC resolver %s "
        "answers %s: it does not see the zones the node's resolvers use, so a workload that asks it directly gets "
        "%s" % (reference.server, ev.hostname, scope, addresses_text(reference), vpc.server, addresses_text(vpc),
                seen),
        dns_fix.vpc_resolver_differs(node.where, ev.hostname, reference.server),
        ["%s: %s -> %s" % (_who(vpc), ev.hostname, addresses_text(vpc))])
