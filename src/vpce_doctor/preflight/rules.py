"""Preflight verdicts: from the configuration to the findings a node in each subnet would get.

Per service and node subnet, first root cause wins (as on the node):

| configuration                                                        | code                    |
|----------------------------------------------------------------------|-------------------------|
| a Resolver forwarding rule on the VPC covers an interface's name     | resolver_rule_overrides |
|   while this VPC's endpoint has private DNS on (no endpoint here: the |                         |
|   rule's target answers, a hub's with centralised DNS: cannot tell)  |                         |
| a private zone on the VPC for a parent of the name, no record for it | private_zone_shadows    |
| a private zone for the name itself without its A record             | dns_record_missing      |
| a private zone answers with a hub's addresses that the node subnet's |                         |
| route table does not route, or its NACL blocks                       | port_blocked            |
| no endpoint (and no private hosted zone record for the name)         | endpoint_missing        |
| the endpoint is pending, pendingAcceptance, failed, rejected...      | endpoint_not_available  |
| gateway endpoint not on the subnet's route table                     | gateway_route_missing   |
| private DNS on or a private zone answers; VPC DNS attributes off     | vpc_dns_disabled        |
| interface endpoint with private DNS off, no private zone record      | private_dns_disabled    |
| endpoint security groups allow no 443 from the subnet / node SGs     | port_blocked (critical) |
| a NACL drops 443 or the ephemeral ports back (some/all ENI subnets)  | port_blocked            |
| the endpoint policy denies an action the node role needs             | policy_denied           |
| the endpoint has no subnet in the node subnet's AZ                   | endpoint_az_missing     |

A failed call makes the services that needed it unknown; what the rules cannot tell (a
policy condition, a rule covering part of a CIDR) is listed in the evidence. Neither
becomes a finding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..checks import remediation as fix
from ..checks import remediation_access as access_fix
from ..checks import remediation_dns as dns_fix
from ..checks.catalogue import Partition, ServiceSpec
from ..checks.probes.inventory import name_variants
from ..core.addresses import SCOPE_REMOTE, SCOPE_VPC, containing_network, in_networks
from ..core.model import CRITICAL, WARNING, Finding
from ..checks import endpoint_policy as policy
from . import fixes, network
from .gather import Configuration
from .needs import needed_actions
from .records import ZoneRecords, resolver_rule_for
from .subnets import SubnetView

UNAVAILABLE = ("pending", "pendingacceptance", "failed", "rejected", "deleting", "deleted", "expired", "partial")


@dataclass
class ServiceVerdict:
    spec: ServiceSpec
    hostname: str
    endpoint_service_name: str
    required: bool
    findings: List[Finding] = field(default_factory=list)
    evidence: Dict[str, Any] = field(default_factory=dict)
    depends: List[str] = field(default_factory=list)  # the Configuration keys this verdict read
    cannot_tell: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    config: Configuration
    partition: Partition
    vpc_cidrs: List[str]
    subnets: List[SubnetView]
    all_subnets: Dict[str, Dict[str, Any]]
    zones: ZoneRecords
    role_arn: Optional[str]
    dns_support: Optional[bool]
    dns_hostnames: Optional[bool]
    remote_cidrs: List[str] = field(default_factory=list)  # --endpoint-cidr

    def where(self, subnet: SubnetView) -> fix.Where:
        return fix.Where(region=self.config.region, vpc_id=self.config.vpc_id or "<VPC-ID>", subnet_id=subnet.id,
                         vpc_cidrs=tuple(self.vpc_cidrs))


def _finding(v: ServiceVerdict, code: str, severity: str, subnet: SubnetView, message: str, remedy,
             evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=v.spec.id, message=message, remediation=remedy,
                   evidence=tuple(evidence), subnet=subnet.id)


def _endpoint(ctx: Context, v: ServiceVerdict) -> Optional[Dict[str, Any]]:
    names = name_variants(v.endpoint_service_name)
    found = [e for e in ctx.config.items("endpoints", "VpcEndpoints") or []
             if e.get("ServiceName") in names and e.get("VpcEndpointType", "Interface") == v.spec.endpoint_type]
    found.sort(key=lambda e: str(e.get("State", "")).lower() != "available")
    return found[0] if found else None


def judge(ctx: Context, spec: ServiceSpec, hostname: str, required: bool) -> ServiceVerdict:
    v = ServiceVerdict(spec, hostname, spec.endpoint_service_name(ctx.config.region, ctx.partition), required)
    v.depends = ["endpoints", "resolver_associations", "hosted_zones"]
    if ctx.config.data("endpoints") is None:
        v.cannot_tell.append("the endpoints could not be read")
        return v
    endpoint = _endpoint(ctx, v)
    v.evidence["endpoint"] = _endpoint_evidence(endpoint)
    for subnet in ctx.subnets:
        v.findings += _judge_subnet(ctx, v, endpoint, subnet)
    return v


def _one_per_az(subnets: List[SubnetView]) -> List[str]:
    """An interface endpoint takes at most one subnet per AZ."""
    chosen: Dict[str, str] = {}
    for subnet in subnets:
        chosen.setdefault(subnet.availability_zone, subnet.id)
    return list(chosen.values())


def _endpoint_evidence(endpoint: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if endpoint is None:
        return None
    return {"id": endpoint["VpcEndpointId"], "type": endpoint.get("VpcEndpointType"), "state": endpoint.get("State"),
            "private_dns_enabled": endpoint.get("PrivateDnsEnabled"), "subnet_ids": endpoint.get("SubnetIds") or [],
            "security_group_ids": [g["GroupId"] for g in endpoint.get("Groups") or []],
            "route_table_ids": endpoint.get("RouteTableIds") or []}


def _judge_subnet(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView) -> List[Finding]:
    severity = CRITICAL if v.required else WARNING
    # a gateway's names rightly resolve to public addresses, wherever they are resolved
    rule = resolver_rule_for(ctx.config, v.hostname) if v.spec.endpoint_type == "Interface" else None
    if rule is not None and endpoint is not None and endpoint.get("PrivateDnsEnabled"):
        return [_finding(v, "resolver_rule_overrides", severity, subnet,
                         "Resolver rule %s forwards %s to %s: %s never reaches the VPC resolver, where endpoint %s's "
                         "private DNS answers it" % (rule.id, rule.domain, rule.targets, v.hostname,
                                                     endpoint["VpcEndpointId"]),
                         fixes.resolver_rule_overrides(ctx.config.region, ctx.config.vpc_id, rule.id, rule.domain,
                                                       v.hostname, rule.targets))]
    if rule is not None:
        # centralised DNS: the rule's targets (a hub's Resolver inbound endpoint) answer the name for the node
        v.cannot_tell.append("Resolver rule %s forwards %s to %s: nodes get %s's answer from there (a hub's resolver, "
                             "with centralised DNS), which preflight cannot see; the node check judges that path"
                             % (rule.id, rule.domain, rule.targets, v.hostname))
        return []
    record = ctx.zones.answer_for(v.hostname)
    if record is not None:
        v.evidence["private_zone_record"] = record.to_report()
    shadowed = _zone_without_record(ctx, v, endpoint, subnet, record)
    if shadowed is not None:
        return shadowed
    if record is not None and record.classification == SCOPE_REMOTE:
        # a private zone sends the name to a hub VPC's endpoint, whatever this VPC holds
        return _vpc_dns(ctx, v, subnet, "private hosted zone %s answers %s" % (record.zone_id, v.hostname)) \
            or _remote_path(ctx, v, subnet, record)
    if endpoint is None:
        if record is not None and record.classification == SCOPE_VPC:
            # a private zone answers inside the VPC: the node check sees it as working
            return _vpc_dns(ctx, v, subnet, "private hosted zone %s answers %s" % (record.zone_id, v.hostname))
        return [_finding(v, "endpoint_missing", severity, subnet,
                         "no %s endpoint for %s in %s" % (v.spec.endpoint_type.lower(), v.endpoint_service_name,
                                                          ctx.config.vpc_id),
                         fix.endpoint_missing(ctx.where(subnet), v.spec.id, v.endpoint_service_name,
                                              v.spec.endpoint_type, route_table_id=subnet.route_table_id,
                                              subnet_ids=_one_per_az(ctx.subnets)),
                         ["private hosted zone %s answers %s with %s (public)" % (record.zone_id, v.hostname,
                                                                                 ", ".join(record.values))]
                         if record is not None else ())]
    endpoint_id, state = endpoint["VpcEndpointId"], str(endpoint.get("State", ""))
    if state.lower() in UNAVAILABLE:
        return [_finding(v, "endpoint_not_available", severity, subnet,
                         "endpoint %s for %s is %s, not available" % (endpoint_id, v.endpoint_service_name, state),
                         fixes.endpoint_not_available(ctx.config.region, endpoint_id, state))]
    if v.spec.endpoint_type == "Gateway":
        return _gateway(ctx, v, endpoint, subnet)
    return _interface(ctx, v, endpoint, subnet, record)


def _zone_without_record(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView, record) -> Optional[List[Finding]]:
    """A private zone on the VPC holds the name (or a parent of it) but no record for it: Route 53 answers
    NXDOMAIN (NODATA at the zone's apex), as the node check reads it (checks/verdicts_dns.py). None: no such
    zone, or a more specific one answers (an interface endpoint's own private DNS zone)."""
    zone = ctx.zones.covering_zone(v.hostname)
    if zone is None or (record is not None and record.zone_id == ctx.zones.zones.get(zone)):
        return None  # no zone holds the name, or the one Route 53 answers from has its record
    if zone in ctx.zones.unread:
        v.cannot_tell.append("the records of private zone %s could not be read (%s)" % (zone, ctx.zones.unread[zone]))
        return None
    if zone != v.hostname and v.spec.endpoint_type == "Interface" and endpoint is not None \
            and endpoint.get("PrivateDnsEnabled"):
        return None
    zone_id = ctx.zones.zones[zone]
    v.evidence["private_zone"] = {"zone_id": zone_id, "name": zone, "record": None}
    entries = [{"dns_name": e.get("DnsName", ""), "hosted_zone_id": e.get("HostedZoneId", "")}
               for e in (endpoint or {}).get("DnsEntries") or []]
    endpoint_id = endpoint["VpcEndpointId"] if endpoint is not None and v.spec.endpoint_type == "Interface" else None
    severity = CRITICAL if v.required else WARNING
    if zone == v.hostname:
        return [_finding(v, "dns_record_missing", severity, subnet,
                         "private hosted zone %s (%s) on %s is for %s itself and holds no A record for it: the VPC "
                         "resolver answers it with no address" % (zone, zone_id.rsplit("/", 1)[-1], ctx.config.vpc_id,
                                                                  v.hostname),
                         dns_fix.zone_record_missing(ctx.where(subnet), v.hostname, v.spec.id, endpoint_id, entries,
                                                     zone_id))]
    return [_finding(v, "private_zone_shadows", severity, subnet,
                     "private hosted zone %s (%s) on %s is for a parent of %s and holds no record for it: Route 53 "
                     "answers it NXDOMAIN%s" % (zone, zone_id.rsplit("/", 1)[-1], ctx.config.vpc_id, v.hostname,
                                                " (the gateway endpoint needs the public answer)"
                                                if v.spec.endpoint_type == "Gateway" else ""),
                     dns_fix.private_zone_shadows(ctx.where(subnet), v.hostname, zone, v.spec.id, v.spec.endpoint_type,
                                                  endpoint_id, entries, zone_id))]


def _gateway(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView) -> List[Finding]:
    v.depends.append("route_tables")
    endpoint_id = endpoint["VpcEndpointId"]
    if subnet.route_table is None:
        v.cannot_tell.append("route table of %s not readable" % subnet.id)
        return []
    if subnet.route_table_id not in (endpoint.get("RouteTableIds") or []):
        return [_finding(v, "gateway_route_missing", CRITICAL if v.required else WARNING, subnet,
                         "gateway endpoint %s exists but is not on route table %s of subnet %s"
                         % (endpoint_id, subnet.route_table_id, subnet.id),
                         fix.gateway_route_missing(ctx.where(subnet), v.spec.id, endpoint_id, subnet.route_table_id))]
    v.depends.append("network_acls")
    # the gateway's addresses are the service's public ranges: the node subnet's NACL must let them through
    problems = network.nacl_path(subnet.nacl, subnet.cidr, None, "0.0.0.0/0") if subnet.nacl is not None else []
    v.cannot_tell += [p for p in problems if p.startswith("cannot tell")]
    denied = [p for p in problems if p.startswith("denied")]
    if denied:
        return [_finding(v, "port_blocked", CRITICAL, subnet,
                         "the network ACL of subnet %s blocks the way to the %s gateway endpoint's addresses"
                         % (subnet.id, v.spec.id), fixes.nacl_blocked(ctx.config.region, denied, subnet.cidr), denied)]
    return _policy(ctx, v, endpoint, subnet)


def _vpc_dns(ctx: Context, v: ServiceVerdict, subnet: SubnetView, what: str) -> List[Finding]:
    """Private DNS and private hosted zones both need enableDnsSupport and enableDnsHostnames."""
    v.depends += ["dns_support", "dns_hostnames"]
    if ctx.dns_support is None or ctx.dns_hostnames is None:
        v.cannot_tell.append("the VPC's DNS attributes could not be read")
    if ctx.dns_support is not False and ctx.dns_hostnames is not False:
        return []
    return [_finding(v, "vpc_dns_disabled", CRITICAL, subnet,
                     "%s, but VPC %s has %s off, so the VPC resolver does not answer %s from it"
                     % (what, ctx.config.vpc_id, "enableDnsSupport" if ctx.dns_support is False
                        else "enableDnsHostnames", v.hostname),
                     fixes.vpc_dns_disabled(ctx.config.region, ctx.config.vpc_id, ctx.dns_support is not False,
                                            ctx.dns_hostnames is not False))]


def _interface(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView, record) -> List[Finding]:
    endpoint_id = endpoint["VpcEndpointId"]
    zone_answers = record is not None and record.classification == SCOPE_VPC
    if zone_answers:
        dns = _vpc_dns(ctx, v, subnet, "private hosted zone %s answers %s" % (record.zone_id, v.hostname))
    elif endpoint.get("PrivateDnsEnabled"):
        dns = _vpc_dns(ctx, v, subnet, "endpoint %s has private DNS on" % endpoint_id)
    else:
        return [_finding(v, "private_dns_disabled", CRITICAL, subnet,
                         "endpoint %s for %s exists with private DNS off and no private hosted zone answers %s"
                         % (endpoint_id, v.endpoint_service_name, v.hostname),
                         fix.private_dns_disabled(ctx.where(subnet), endpoint_id, False))]
    if dns:
        return dns
    findings = _reachability(ctx, v, endpoint, subnet)
    if not any(f.severity == CRITICAL for f in findings):
        findings += _policy(ctx, v, endpoint, subnet)
    findings += _az(ctx, v, endpoint, subnet)
    return findings


def _remote_path(ctx: Context, v: ServiceVerdict, subnet: SubnetView, record) -> List[Finding]:
    """A hub's endpoint answers the name. This VPC's side of the way there is readable: a route for
    the hub addresses in the node subnet's table, and its NACL. The hub's side (the endpoint's
    security groups, policy and state, the transit gateway's own route tables) lives in another
    VPC, often another account: never a finding here, said in the evidence."""
    v.cannot_tell.append("a hub's endpoint answers (private zone %s): its security groups, policy and state, and the "
                         "transit gateway's route tables, are outside this VPC" % record.zone_id.rsplit("/", 1)[-1])
    addresses = [a for a in record.values if in_networks(a, ("0.0.0.0/0", "::/0"))]  # none for an alias
    if not addresses:
        return []
    v.depends += ["route_tables", "network_acls"]
    if subnet.route_table is None:
        v.cannot_tell.append("route table of %s not readable" % subnet.id)
        return []
    problems: Dict[str, List[str]] = {}
    for address in addresses:
        if network.route_to(subnet.route_table, address) is None:
            problems.setdefault(address, []).append("no route in %s for %s" % (subnet.route_table_id, address))
        if subnet.nacl is not None:
            found = network.nacl_path(subnet.nacl, subnet.cidr, None, "%s/32" % address if "." in address
                                      else "%s/128" % address)
            v.cannot_tell += [p for p in found if p.startswith("cannot tell")]
            problems[address] = problems.get(address, []) + [p for p in found if p.startswith("denied")]
    blocked = [a for a in addresses if problems.get(a)]
    if not blocked:
        return []
    route = network.route_to(subnet.route_table, blocked[0])
    hub_cidr = containing_network(blocked[0], ctx.remote_cidrs + subnet.remote_cidrs) or "<HUB-CIDR>"
    evidence = sorted({p for a in blocked for p in problems[a]})
    return [_finding(v, "port_blocked", CRITICAL if len(blocked) == len(addresses) else WARNING, subnet,
                     "TCP 443 from subnet %s cannot get to %d of %d hub endpoint address(es) of %s (%s)"
                     % (subnet.id, len(blocked), len(addresses), v.spec.id, "; ".join(evidence)),
                     fix.remote_port_blocked(ctx.where(subnet), v.spec.id, v.endpoint_service_name, blocked,
                                             hub_cidr, subnet.route_table_id,
                                             network.route_target(route) if route is not None else None),
                     evidence)]


def _reachability(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView) -> List[Finding]:
    v.depends += ["security_groups", "network_acls"]
    groups_by_id = {g["GroupId"]: g for g in ctx.config.items("security_groups", "SecurityGroups") or []}
    group_ids = [g["GroupId"] for g in endpoint.get("Groups") or []]
    if ctx.config.data("security_groups") is None:
        v.cannot_tell.append("security groups not readable")
    else:
        allowed = network.sg_allows_https([groups_by_id[g] for g in group_ids if g in groups_by_id], subnet.cidr,
                                          ctx.config.node_security_groups)
        if allowed is False:
            return [_finding(v, "port_blocked", CRITICAL, subnet,
                             "the security groups of endpoint %s (%s) allow no TCP 443 from subnet %s (%s)%s"
                             % (endpoint["VpcEndpointId"], ", ".join(group_ids) or "none", subnet.id, subnet.cidr,
                                " or the node security groups" if ctx.config.node_security_groups else ""),
                             fix.port_blocked(ctx.where(subnet), v.spec.id, [subnet.cidr], group_ids))]
        if allowed is None:
            v.cannot_tell.append("a security group rule covers part of %s (or a prefix list)" % subnet.cidr)
    if ctx.config.data("network_acls") is None:
        v.cannot_tell.append("network ACLs not readable")
        return []
    acls = ctx.config.items("network_acls", "NetworkAcls")
    blocked, paths = [], 0
    for eni_subnet_id in endpoint.get("SubnetIds") or []:
        eni_subnet = ctx.all_subnets.get(eni_subnet_id)
        if eni_subnet is None:
            continue
        paths += 1
        problems = network.nacl_path(subnet.nacl, subnet.cidr, network.nacl_for_subnet(acls, eni_subnet_id),
                                     eni_subnet["CidrBlock"])
        v.cannot_tell += [p for p in problems if p.startswith("cannot tell")]
        denied = [p for p in problems if p.startswith("denied")]
        if denied:
            blocked.append((eni_subnet_id, denied))
    if not blocked:
        return []
    every = len(blocked) == paths
    problems = ["%s: %s" % (sid, ", ".join(p)) for sid, p in blocked]
    return [_finding(v, "port_blocked", CRITICAL if every else WARNING, subnet,
                     "network ACLs block TCP 443 from subnet %s to %s of %d endpoint subnet(s) of %s"
                     % (subnet.id, "all" if every else "%d" % len(blocked), paths, endpoint["VpcEndpointId"]),
                     fixes.nacl_blocked(ctx.config.region, problems, subnet.cidr), problems)]


def _policy(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView) -> List[Finding]:
    document = endpoint.get("PolicyDocument")
    verdicts = []
    for action, resource in needed_actions(v.spec, ctx.config.region, ctx.partition):
        answer, why = policy.evaluate(document, action, resource, ctx.role_arn)
        verdicts.append({"action": action, "resource": resource or "*", "verdict": answer, "why": why})
    v.evidence["policy"] = verdicts
    v.cannot_tell += ["policy: %s" % d["why"] for d in verdicts if d["verdict"] == policy.UNKNOWN]
    denied = [d for d in verdicts if d["verdict"] == policy.DENIED]
    if not denied:
        return []
    message = "the policy of endpoint %s denies %s" % (endpoint["VpcEndpointId"], ", ".join(d["action"] for d in denied))
    remedy = fix.policy_denied(ctx.where(subnet), v.spec.id, endpoint["VpcEndpointId"], denied[0]["action"])
    layers = v.spec.iam_resource(ctx.config.region, ctx.partition)
    if layers:
        # the S3 gateway and AWS's ECR layer bucket: what a node's image pull meets as S3's bare 403
        # (layer_bucket_denied); the fix is the one statement to add
        message += " on %s: every image layer pull through it fails with 403" % layers
        remedy = access_fix.path_policy_statement(ctx.where(subnet), v.spec.id, endpoint["VpcEndpointId"],
                                                  denied[0]["action"], layers, v.endpoint_service_name)
    return [_finding(v, "policy_denied", CRITICAL, subnet, message, remedy, [d["why"] for d in denied])]


def _az(ctx: Context, v: ServiceVerdict, endpoint, subnet: SubnetView) -> List[Finding]:
    azs = sorted({ctx.all_subnets[s]["AvailabilityZone"] for s in endpoint.get("SubnetIds") or []
                  if s in ctx.all_subnets})
    if not azs or subnet.availability_zone in azs:
        return []
    return [_finding(v, "endpoint_az_missing", WARNING, subnet,
                     "endpoint %s has network interfaces in %s but none in %s (subnet %s)"
                     % (endpoint["VpcEndpointId"], ", ".join(azs), subnet.availability_zone, subnet.id),
                     fix.endpoint_az_missing(ctx.where(subnet), endpoint["VpcEndpointId"], subnet.availability_zone))]
