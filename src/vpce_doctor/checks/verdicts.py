"""Verdict rules: pure functions from evidence to findings. No I/O, no clock.

Read top to bottom, each service is judged like this (first root cause wins; the
failures it explains stay as its evidence instead of becoming findings of their own):

| evidence                                                        | code                      |
|-----------------------------------------------------------------|---------------------------|
| the node's resolvers reach the service, the VPC resolver does   | the node's path decides;  |
|   not (centralised DNS: a corporate resolver to a hub)          | vpc_resolver_differs info |
| VPC resolver times out / SERVFAIL / REFUSED                     | dns_failure               |
| VPC resolver NXDOMAIN / NODATA from a Route 53 parent zone      | private_zone_shadows      |
| VPC resolver NXDOMAIN / NODATA otherwise                        | dns_record_missing        |
| VPC resolver answers public, an endpoint exists                 | private_dns_disabled      |
| VPC resolver answers public, no endpoint (or no inventory)      | endpoint_missing          |
| (gateway: the endpoint exists, not on the subnet's route table) | gateway_route_missing     |
| (gateway: S3 public addresses do not connect on 443)           | endpoint_missing          |
| a node resolver fails                                           | dns_failure               |
| a node resolver answers NXDOMAIN / NODATA                       | dns_record_missing (private_zone_shadows: a Route 53 parent zone) |
| a node resolver answers public                                  | custom_dns_not_forwarding |
| TCP 443 to endpoint addresses (this VPC's or a hub's) fails     | port_blocked              |
| TLS handshake or certificate fails                              | tls_failure               |
| API denials and path-only probes (verdicts_access.py)           | policy_denied, iam_denied, org_policy_denied, access_denied, layer_bucket_unverified |
| endpoint has no ENI in the node's AZ                            | endpoint_az_missing       |
| the image pull's failing step, nothing above explains it (verdicts_pull.py) | layer_bucket_denied, layer_bucket_unreachable, image_pull_denied, image_not_found, image_pull_failed |

Addresses are vpc (this VPC's CIDR blocks), remote (private elsewhere: a hub VPC reached over a
transit gateway or peering) or public (core/addresses.py). A remote answer that takes TLS is a
working centralised endpoint, not a finding. The DNS path (verdicts_dns.py): the node's components ask
the node's own resolvers, so where those and the VPC resolver disagree the node's answer decides; a
name that resolves nowhere always has a finding.

Node level: clock_skew, no_credentials, proxy_bypass_missing, imds_unreachable,
cluster_endpoint_unreachable, inventory_unavailable (info); and what running components need
(verdicts_components.py): no_privatelink_service, sts_global_endpoint, pod_identity_agent_unreachable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ..core.addresses import SCOPE_REMOTE, containing_network
from ..core.model import CRITICAL, INFO, WARNING, Finding
from . import remediation as fix
from . import verdicts_access, verdicts_components, verdicts_pull
from . import verdicts_dns as dns_path
from .probes import aws_call
from .probes import dns as dns_probe
from .probes.inventory import Endpoint, Inventory
from .probes.route_table import RouteTable
from .probes.tls import CONNECT, TlsResult

CODES = (
    "endpoint_missing", "private_dns_disabled", "custom_dns_not_forwarding", "dns_record_missing",
    "dns_failure", "port_blocked", "tls_failure", "policy_denied", "iam_denied", "endpoint_az_missing",
    "clock_skew", "no_credentials", "proxy_bypass_missing", "imds_unreachable", "cluster_endpoint_unreachable",
    "gateway_route_missing", "inventory_unavailable",
) + verdicts_access.CODES + dns_path.CODES + verdicts_components.CODES + verdicts_pull.CODES


@dataclass(frozen=True)
class ServiceEvidence:
    id: str
    endpoint_type: str
    endpoint_service_name: str
    hostname: str
    required: bool
    dns: Optional[Sequence[dns_probe.DnsLookup]]  # None: the check did not produce evidence
    tls: Optional[Sequence[TlsResult]]
    api: Optional[aws_call.ApiResult]
    # running components that call the API probe's own action with the node role
    action_needed_by: Sequence[str] = ()
    # the IAM action (and resource) the API probe stands for, to judge a denial against the endpoint policy
    iam_action: Optional[str] = None
    iam_resource: Optional[str] = None


@dataclass(frozen=True)
class NodeEvidence:
    where: fix.Where
    availability_zone: Optional[str]
    vpc_resolver: str
    inventory: Optional[Inventory]
    imds: Optional[Dict[str, Any]] = None
    credentials: Optional[Dict[str, Any]] = None
    proxy: Optional[Sequence[Dict[str, Any]]] = None
    cluster: Optional[Dict[str, Any]] = None
    no_privatelink: Optional[Sequence[Dict[str, Any]]] = None  # checks/no_privatelink.py
    sts_global: Optional[Dict[str, Any]] = None  # checks/sts_global.py
    pod_identity: Optional[Dict[str, Any]] = None  # checks/pod_identity.py
    api_results: Sequence[aws_call.ApiResult] = field(default_factory=tuple)
    clock_tolerance: float = 60.0
    endpoint_cidrs: Sequence[str] = ()  # --endpoint-cidr: where a hub's endpoints are
    iam_role: Optional[str] = None  # the instance profile's role (IMDS), for IAM fixes
    role_arn: Optional[str] = None  # arn:<partition>:iam::<account>:role/<iam_role>, for endpoint policy principals
    image_pull: Optional[Any] = None  # checks/image_pull.py's evidence, judged by verdicts_pull.py

    @property
    def route_table(self) -> Optional[RouteTable]:
        table = self.inventory.route_table if self.inventory is not None else None
        return table if table is not None and table.available else None


def _finding(code, severity, service, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=service, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def _primary(ev: ServiceEvidence, role: str) -> List[dns_probe.DnsLookup]:
    return dns_path.primary(ev, role)


def _api_symptom(ev: ServiceEvidence) -> List[str]:
    if ev.api is not None and ev.api.outcome not in (aws_call.SUCCESS, aws_call.REACHED, aws_call.SKIPPED):
        return ["api %s: %s" % (ev.api.operation, ev.api.message or ev.api.outcome)]
    return []


def _symptoms(ev: ServiceEvidence) -> List[str]:
    """Downstream failures a root cause explains, kept as its evidence."""
    return ["tls %s: %s" % (t.address, t.error) for t in ev.tls or () if not t.ok] + _api_symptom(ev)


def _addresses(lookup: dns_probe.DnsLookup) -> str:
    return dns_path.addresses_text(lookup)


def service_findings(ev: ServiceEvidence, node: NodeEvidence) -> List[Finding]:
    if ev.dns is None:
        return []  # the DNS check itself failed: the service is "unknown", not judged
    inventory = node.inventory if node.inventory is not None and node.inventory.available else None
    endpoint = inventory.endpoint_for(ev.endpoint_service_name) if inventory else None
    vpc = _primary(ev, "vpc")
    if not vpc:
        return []
    vpc = vpc[0]
    own = dns_path.own_lookups(ev, node.vpc_resolver)
    reaching = [d for d in own if dns_path.answers(ev, d)]
    if reaching and not dns_path.answers(ev, vpc):
        # the node's resolvers reach the service where the VPC resolver does not (centralised DNS):
        # the node's components use them, so their answers and the TLS and API evidence decide
        return _node_path_findings(ev, node, endpoint, inventory, vpc, own, reaching[0])
    if vpc.failed:
        return [_finding("dns_failure", CRITICAL, ev.id,
                         "VPC resolver %s gave %s for %s" % (vpc.server, vpc.status.upper(), ev.hostname),
                         fix.dns_failure(ev.hostname, vpc.server, vpc.status),
                         ["%s %s" % (e.server, e.error) for e in vpc.errors] + _symptoms(ev))]
    if vpc.status in dns_path.MISSING:
        # a name that resolves nowhere is never ok: its probes were skipped for want of an address
        return [dns_path.name_missing(ev, node, vpc, endpoint, _symptoms(ev))]
    if ev.endpoint_type == "Gateway" and not vpc.any_private:
        return dns_path.node_resolver_findings(ev, node, endpoint, vpc, _symptoms(ev), own) \
            or _gateway_findings(ev, node, inventory)
    if not vpc.any_private:
        return [_outside_vpc_finding(ev, node, vpc, endpoint, inventory)]
    node_dns = dns_path.node_resolver_findings(ev, node, endpoint, vpc, _symptoms(ev), own)
    if node_dns:
        return node_dns
    return _path_findings(ev, node, endpoint)


def _node_path_findings(ev, node, endpoint, inventory, vpc, own, reference) -> List[Finding]:
    """The node's own path decides; what the VPC resolver says instead is context (info)."""
    findings = dns_path.node_resolver_findings(ev, node, endpoint, reference, _symptoms(ev), own)
    if not any(f.severity == CRITICAL for f in findings):
        findings += _gateway_findings(ev, node, inventory) if ev.endpoint_type == "Gateway" \
            else _path_findings(ev, node, endpoint)
    return findings + [dns_path.vpc_resolver_differs(ev, node, vpc, reference)]


def _path_findings(ev, node, endpoint) -> List[Finding]:
    """Past DNS: TCP and TLS on the addresses the node resolves, the signed call, the endpoint's AZs."""
    findings = _tls_findings(ev, node, endpoint)
    if not any(f.severity == CRITICAL for f in findings):
        findings += verdicts_access.api_findings(ev, node, endpoint)
    if endpoint is not None and node.availability_zone and endpoint.availability_zones \
            and node.availability_zone not in endpoint.availability_zones:
        findings.append(_finding(
            "endpoint_az_missing", WARNING, ev.id,
            "endpoint %s has network interfaces in %s but none in this node's AZ %s"
            % (endpoint.id, ", ".join(endpoint.availability_zones), node.availability_zone),
            fix.endpoint_az_missing(node.where, endpoint.id, node.availability_zone)))
    return findings


def _outside_vpc_finding(ev, node, vpc, endpoint: Optional[Endpoint], inventory) -> Finding:
    evidence = ["VPC resolver %s: %s -> %s" % (vpc.server, ev.hostname, _addresses(vpc))] + _symptoms(ev)
    if endpoint is not None:
        state = "with private DNS on" if endpoint.private_dns_enabled else "with private DNS off"
        return _finding(
            "private_dns_disabled", CRITICAL, ev.id,
            "endpoint %s for %s exists %s, but %s resolves outside the VPC (%s)"
            % (endpoint.id, ev.endpoint_service_name, state, ev.hostname, _addresses(vpc)),
            fix.private_dns_disabled(node.where, endpoint.id, endpoint.private_dns_enabled), evidence)
    severity = CRITICAL if ev.required else WARNING
    if inventory:
        return _finding(
            "endpoint_missing", severity, ev.id,
            "%s resolves outside the VPC (%s): no endpoint for %s in %s, and no shared private zone answers it "
            "with a hub's address" % (ev.hostname, _addresses(vpc), ev.endpoint_service_name, node.where.vpc_id),
            fix.endpoint_missing(node.where, ev.id, ev.endpoint_service_name, ev.endpoint_type), evidence)
    # Without the inventory a missing endpoint and one whose private DNS is off look the same.
    reason = node.inventory.reason if node.inventory is not None else "the inventory check did not finish"
    return _finding(
        "endpoint_missing", severity, ev.id,
        "%s resolves to public addresses (%s): either no endpoint for %s exists, or one exists with private DNS off "
        "(the endpoint inventory is not readable, so the two cannot be told apart: %s)"
        % (ev.hostname, _addresses(vpc), ev.endpoint_service_name, reason),
        fix.endpoint_missing_or_private_dns_off(node.where, ev.id, ev.endpoint_service_name), evidence)


def _gateway_findings(ev, node, inventory) -> List[Finding]:
    """S3 (DynamoDB) through a gateway endpoint: public names and public addresses are right;
    what matters is that the node subnet's route table sends them to the endpoint."""
    endpoints = inventory.endpoints_for(ev.endpoint_service_name) if inventory else []
    table = node.route_table
    severity = CRITICAL if ev.required else WARNING
    tls = list(ev.tls or ())
    no_connect = bool(tls) and not any(t.phase != CONNECT for t in tls)
    on_table = [e for e in endpoints if table is not None and (table.id in e.route_table_ids or table.routes_to(e.id))]
    if endpoints and not on_table and (table is not None or no_connect):
        endpoint = endpoints[0]
        where_table = ("route table %s%s" % (table.id, " (the VPC's main table)" if table.main else "")
                       if table is not None else "this subnet's route table (not readable)")
        return [_finding(
            "gateway_route_missing", severity, ev.id,
            "gateway endpoint %s for %s exists but is not on %s of subnet %s (it is on %s): %s traffic from this "
            "node does not reach it" % (endpoint.id, ev.endpoint_service_name, where_table, node.where.subnet_id,
                                        ", ".join(endpoint.route_table_ids) or "no route table", ev.id),
            fix.gateway_route_missing(node.where, ev.id, endpoint.id, table.id if table is not None else None),
            _route_evidence(table) + _symptoms(ev))]
    if no_connect:
        return [_finding(
            "endpoint_missing", severity, ev.id,
            "%s resolves to public addresses (as it should with a gateway endpoint) but TCP 443 to them does not "
            "connect: no gateway endpoint routes this subnet's %s traffic" % (ev.hostname, ev.id),
            fix.endpoint_missing(node.where, ev.id, ev.endpoint_service_name, "Gateway",
                                 route_table_id=table.id if table is not None else None),
            _route_evidence(table) + _symptoms(ev))]
    endpoint = on_table[0] if on_table else (endpoints[0] if endpoints else None)
    return _tls_findings(ev, node, endpoint) + verdicts_access.api_findings(ev, node, endpoint)


def _route_evidence(table: Optional[RouteTable]) -> List[str]:
    if table is None:
        return []
    routes = ["%s -> %s" % (r.prefix_list_id or r.destination, r.target_id) for r in table.gateway_routes()]
    return ["route table %s gateway routes: %s" % (table.id, ", ".join(routes) or "none")]


def _tls_findings(ev, node, endpoint) -> List[Finding]:
    tls = list(ev.tls or ())
    if not tls:
        return []
    findings = []
    blocked = [t for t in tls if not t.ok and t.phase == CONNECT]
    if blocked:
        every = len(blocked) == len(tls)
        remote = _remote_addresses(ev)
        hub = [t.address for t in blocked if t.address in remote]
        if hub and len(hub) == len(blocked):
            remedy = _remote_port_blocked_fix(ev, node, hub)
            where = " (a hub VPC's endpoint, answered through a shared private zone)"
        else:
            remedy = fix.port_blocked(node.where, ev.id, [t.address for t in blocked],
                                      endpoint.security_group_ids if endpoint is not None else ())
            where = ""
        findings.append(_finding(
            "port_blocked", CRITICAL if every else WARNING, ev.id,
            "TCP 443 to %s of %d %s address(es)%s does not connect (%s)"
            % ("all" if every else "%d" % len(blocked), len(tls), ev.id, where, ", ".join(
                "%s %s" % (t.address, t.error_kind) for t in blocked)),
            remedy,
            ["tls %s: %s" % (t.address, t.error) for t in blocked] + (_api_symptom(ev) if every else [])))
    broken = [t for t in tls if not t.ok and t.phase != CONNECT]
    if broken:
        first = broken[0]
        findings.append(_finding(
            "tls_failure", CRITICAL, ev.id,
            "TLS to %s fails on %d address(es): %s" % (ev.hostname, len(broken), first.error),
            fix.tls_failure(ev.hostname, first.address, first.port, first.error or first.phase),
            ["%s %s" % (t.address, t.error) for t in broken]))
    return findings


def _remote_addresses(ev: ServiceEvidence) -> set:
    return {a.address for d in ev.dns or () for a in d.addresses if a.scope == SCOPE_REMOTE}


def _remote_port_blocked_fix(ev, node, addresses: List[str]):
    """The hub's endpoint answers the name, but 443 does not get there: the spoke's route to the
    hub CIDR (transit gateway or peering), the hub endpoint's security group, or NACLs."""
    table = node.route_table
    route = table.route_for(lambda cidr: any(containing_network(a, [cidr]) for a in addresses)) if table else None
    hub_cidr = (route.destination if route is not None
                else containing_network(addresses[0], node.endpoint_cidrs) or "<HUB-CIDR>")
    return fix.remote_port_blocked(node.where, ev.id, ev.endpoint_service_name, addresses, hub_cidr,
                                   table.id if table is not None else None,
                                   (route.target, route.target_id) if route is not None else None)


def api_inconclusive(ev: ServiceEvidence) -> bool:
    """The API answered, but with nothing that proves the service works or names a cause: HTTP 5xx,
    throttled twice, an answer not shaped like AWS's (a captive portal's page), an unknown error code.
    The service is then unknown (with the reason in its API evidence), never ok."""
    return ev.api is not None and ev.api.outcome in aws_call.INCONCLUSIVE


def node_findings(node: NodeEvidence) -> List[Finding]:
    findings = []
    where = node.where
    if node.imds is not None and node.imds.get("turned_off"):
        findings.append(_finding("imds_unreachable", WARNING, None,
                                 "IMDS at %s is turned off for this instance: it answers 403 to IMDSv2 and IMDSv1 alike "
                                 "(metadata options HttpEndpoint disabled)" % node.imds.get("endpoint"),
                                 fix.imds_unreachable(where, turned_off=True)))
    elif node.imds is not None and not node.imds.get("reachable", True):
        findings.append(_finding("imds_unreachable", WARNING, None,
                                 "IMDS at %s answers neither v2 nor v1 (%s)" % (node.imds.get("endpoint"), node.imds.get("error")),
                                 fix.imds_unreachable(where)))
    invalid = [a for a in node.api_results if a.outcome == aws_call.INVALID_CREDENTIALS]
    if node.credentials is not None and not node.credentials.get("present"):
        findings.append(_finding("no_credentials", WARNING, None,
                                 "no AWS credentials to sign with: API probes and the inventory were skipped",
                                 fix.no_credentials(where, invalid=False)))
    elif invalid:
        findings.append(_finding("no_credentials", WARNING, None,
                                 "AWS rejected the node's credentials (%s)" % invalid[0].error_code,
                                 fix.no_credentials(where, invalid=True),
                                 ["%s %s" % (a.operation, a.error_code) for a in invalid]))
    findings += _clock_findings(node)
    for entry in node.proxy or ():
        if entry.get("https_proxy") and entry.get("missing"):
            findings.append(_finding(
                "proxy_bypass_missing", CRITICAL, None,
                "%s uses HTTPS_PROXY %s and NO_PROXY (%s) lacks %s"
                % (entry["component"], entry["https_proxy"], entry.get("no_proxy") or "unset", ", ".join(entry["missing"])),
                fix.proxy_bypass_missing(where, entry["component"], entry["missing"], entry.get("no_proxy"))))
    findings += _cluster_findings(node)
    findings += _inventory_findings(node)
    findings += verdicts_components.component_findings(node.no_privatelink, node.sts_global, node.pod_identity, where)
    return findings


def _inventory_findings(node: NodeEvidence) -> List[Finding]:
    inventory = node.inventory
    if inventory is None or inventory.available or not inventory.denied:
        return []
    table = inventory.route_table
    route_table_denied = table is not None and table.denied
    return [_finding(
        "inventory_unavailable", INFO, None,
        "the endpoint inventory is not readable (%s): DNS, TLS, API and route checks still ran, but a missing "
        "endpoint cannot be told apart from one with private DNS off, nor an endpoint's AZs and security groups "
        "named" % inventory.reason,
        fix.inventory_unavailable(node.where, node.iam_role, route_table_denied, inventory.denied_by_endpoint_policy))]


def _clock_findings(node: NodeEvidence) -> List[Finding]:
    rejected = [a for a in node.api_results if a.outcome == aws_call.CLOCK_SKEW]
    skews = [a.skew_seconds for a in node.api_results if a.skew_seconds is not None]
    worst = max(skews, key=abs) if skews else None
    if rejected or (worst is not None and abs(worst) > node.clock_tolerance):
        text = "AWS and the local clock disagree"
        if worst is not None:
            text += " by %+.0f s (AWS minus local; tolerance %.0f s)" % (worst, node.clock_tolerance)
        if rejected:
            text += "; %s rejected as %s" % (rejected[0].operation, rejected[0].error_code)
        return [_finding("clock_skew", CRITICAL, None, text, fix.clock_skew(worst),
                         ["%s Date: %s" % (a.operation, a.server_date) for a in node.api_results if a.server_date][:3])]
    return []


def _cluster_findings(node: NodeEvidence) -> List[Finding]:
    cluster = node.cluster
    if not cluster or not cluster.get("known"):
        return []
    lookup = cluster["dns"]
    tls = cluster.get("tls") or []
    reason = None
    if lookup.failed or not lookup.addresses:
        reason = "%s gives %s" % (cluster["hostname"], lookup.status.upper())
    elif not lookup.any_private:
        reason = "%s resolves outside the VPC (%s): private endpoint access is off" % (cluster["hostname"], _addresses(lookup))
    elif tls and not any(t.ok for t in tls):
        reason = "no TLS on 443: %s" % tls[0].error
    if reason is None:
        return []
    return [_finding("cluster_endpoint_unreachable", CRITICAL, None,
                     "the EKS API server is unreachable from this node: %s" % reason,
                     fix.cluster_endpoint_unreachable(node.where, cluster["url"], reason))]
