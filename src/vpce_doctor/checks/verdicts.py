"""Verdict rules: pure functions from evidence to findings. No I/O, no clock.

Read top to bottom, each service is judged like this (first root cause wins; the
failures it explains stay as its evidence instead of becoming findings of their own):

| evidence                                                        | code                      |
|-----------------------------------------------------------------|---------------------------|
| VPC resolver times out / SERVFAIL / REFUSED                     | dns_failure               |
| VPC resolver answers outside the VPC, an endpoint exists        | private_dns_disabled      |
| VPC resolver answers outside the VPC, no endpoint (or no inventory) | endpoint_missing      |
| (gateway: S3 public addresses do not connect on 443)           | endpoint_missing          |
| a node resolver fails                                           | dns_failure               |
| a node resolver answers NXDOMAIN / NODATA                       | dns_record_missing        |
| a node resolver answers outside the VPC                         | custom_dns_not_forwarding |
| TCP 443 to endpoint addresses times out / is refused            | port_blocked              |
| TLS handshake or certificate fails                              | tls_failure               |
| API: "... VPC endpoint policy ..." denial                       | policy_denied             |
| API: AccessDenied from an identity policy                       | iam_denied                |
| endpoint has no ENI in the node's AZ                            | endpoint_az_missing       |

Node level: clock_skew, no_credentials, proxy_bypass_missing, imds_unreachable,
cluster_endpoint_unreachable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ..core.model import CRITICAL, WARNING, Finding
from . import remediation as fix
from .probes import aws_call
from .probes import dns as dns_probe
from .probes.inventory import Endpoint, Inventory
from .probes.tls import CONNECT, TlsResult

CODES = (
    "endpoint_missing", "private_dns_disabled", "custom_dns_not_forwarding", "dns_record_missing",
    "dns_failure", "port_blocked", "tls_failure", "policy_denied", "iam_denied", "endpoint_az_missing",
    "clock_skew", "no_credentials", "proxy_bypass_missing", "imds_unreachable", "cluster_endpoint_unreachable",
)


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
    api_results: Sequence[aws_call.ApiResult] = field(default_factory=tuple)
    clock_tolerance: float = 60.0


def _finding(code, severity, service, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=service, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def _primary(ev: ServiceEvidence, role: str) -> List[dns_probe.DnsLookup]:
    return [d for d in ev.dns or () if d.hostname == ev.hostname and d.rdtype == "A" and d.resolver_role == role]


def _api_symptom(ev: ServiceEvidence) -> List[str]:
    if ev.api is not None and ev.api.outcome not in (aws_call.SUCCESS, aws_call.SKIPPED):
        return ["api %s: %s" % (ev.api.operation, ev.api.message or ev.api.outcome)]
    return []


def _symptoms(ev: ServiceEvidence) -> List[str]:
    """Downstream failures a root cause explains, kept as its evidence."""
    return ["tls %s: %s" % (t.address, t.error) for t in ev.tls or () if not t.ok] + _api_symptom(ev)


def _addresses(lookup: dns_probe.DnsLookup) -> str:
    return ", ".join(a.address for a in lookup.addresses) or lookup.status.upper()


def service_findings(ev: ServiceEvidence, node: NodeEvidence) -> List[Finding]:
    if ev.dns is None:
        return []  # the DNS check itself failed: the service is "unknown", not judged
    inventory = node.inventory if node.inventory is not None and node.inventory.available else None
    endpoint = inventory.endpoint_for(ev.endpoint_service_name) if inventory else None
    vpc = _primary(ev, "vpc")
    if not vpc:
        return []
    vpc = vpc[0]
    if vpc.failed:
        return [_finding("dns_failure", CRITICAL, ev.id,
                         "VPC resolver %s gave %s for %s" % (vpc.server, vpc.status.upper(), ev.hostname),
                         fix.dns_failure(ev.hostname, vpc.server, vpc.status),
                         ["%s %s" % (e.server, e.error) for e in vpc.errors] + _symptoms(ev))]
    if not vpc.any_in_vpc:
        if ev.endpoint_type == "Gateway":
            return _gateway_findings(ev, node, endpoint)
        return [_outside_vpc_finding(ev, node, vpc, endpoint, inventory)]
    node_dns = _node_dns_findings(ev, node, endpoint)
    if node_dns:
        return node_dns
    findings = _tls_findings(ev, node, endpoint)
    if not any(f.severity == CRITICAL for f in findings):
        findings += _api_findings(ev, node, endpoint)
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
    why = ("no endpoint for %s in %s" % (ev.endpoint_service_name, node.where.vpc_id) if inventory
           else "no endpoint found (inventory not readable: %s)"
           % (node.inventory.reason if node.inventory is not None else "the inventory check did not finish"))
    return _finding(
        "endpoint_missing", CRITICAL if ev.required else WARNING, ev.id,
        "%s resolves outside the VPC (%s): %s" % (ev.hostname, _addresses(vpc), why),
        fix.endpoint_missing(node.where, ev.id, ev.endpoint_service_name, ev.endpoint_type), evidence)


def _gateway_findings(ev, node, endpoint) -> List[Finding]:
    """S3 through a gateway endpoint: public names and public addresses are right; what
    matters is whether 443 to them connects (the route table sends it to the endpoint)."""
    tls = list(ev.tls or ())
    if tls and not any(t.phase != CONNECT for t in tls):
        return [_finding(
            "endpoint_missing", CRITICAL if ev.required else WARNING, ev.id,
            "%s resolves to public addresses (as it should with a gateway endpoint) but TCP 443 to them does not "
            "connect: %s" % (ev.hostname, "no gateway endpoint routes this subnet's S3 traffic" if endpoint is None
                             else "gateway endpoint %s is not in this subnet's route table" % endpoint.id),
            fix.endpoint_missing(node.where, ev.id, ev.endpoint_service_name, "Gateway",
                                 existing_gateway=endpoint.id if endpoint is not None else None),
            _symptoms(ev))]
    return _tls_findings(ev, node, endpoint) + _api_findings(ev, node, endpoint)


def _node_dns_findings(ev, node, endpoint) -> List[Finding]:
    findings = []
    for lookup in _primary(ev, "node"):
        if lookup.server == node.vpc_resolver:
            continue
        evidence = ["node resolver %s: %s -> %s" % (lookup.server, ev.hostname, _addresses(lookup))] + _symptoms(ev)
        dns_entries = endpoint.dns_entries if endpoint is not None else ()
        endpoint_id = endpoint.id if endpoint is not None else None
        if lookup.failed:
            findings.append(_finding(
                "dns_failure", CRITICAL, ev.id,
                "node resolver %s gave %s for %s" % (lookup.server, lookup.status.upper(), ev.hostname),
                fix.dns_failure(ev.hostname, lookup.server, lookup.status),
                ["%s %s" % (e.server, e.error) for e in lookup.errors] + evidence))
        elif lookup.status in (dns_probe.NXDOMAIN, dns_probe.NODATA):
            findings.append(_finding(
                "dns_record_missing", CRITICAL, ev.id,
                "node resolver %s answers %s for %s where the VPC resolver answers the endpoint"
                % (lookup.server, lookup.status.upper(), ev.hostname),
                fix.custom_dns(node.where, ev.hostname, lookup.server, endpoint_id, dns_entries, missing_record=True),
                evidence))
        elif lookup.any_outside_vpc and not lookup.any_in_vpc:
            findings.append(_finding(
                "custom_dns_not_forwarding", CRITICAL, ev.id,
                "node resolver %s answers %s outside the VPC (%s) where the VPC resolver answers the endpoint"
                % (lookup.server, ev.hostname, _addresses(lookup)),
                fix.custom_dns(node.where, ev.hostname, lookup.server, endpoint_id, dns_entries, missing_record=False),
                evidence))
    return findings


def _tls_findings(ev, node, endpoint) -> List[Finding]:
    tls = list(ev.tls or ())
    if not tls:
        return []
    findings = []
    blocked = [t for t in tls if not t.ok and t.phase == CONNECT]
    if blocked:
        every = len(blocked) == len(tls)
        findings.append(_finding(
            "port_blocked", CRITICAL if every else WARNING, ev.id,
            "TCP 443 to %s of %d %s address(es) does not connect (%s)"
            % ("all" if every else "%d" % len(blocked), len(tls), ev.id, ", ".join(
                "%s %s" % (t.address, t.error_kind) for t in blocked)),
            fix.port_blocked(node.where, ev.id, [t.address for t in blocked],
                             endpoint.security_group_ids if endpoint is not None else ()),
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


def _api_findings(ev, node, endpoint) -> List[Finding]:
    api = ev.api
    if api is None:
        return []
    endpoint_id = endpoint.id if endpoint is not None else None
    detail = "%s: %s" % (api.error_code or api.http_status, api.message or "")
    if api.outcome == aws_call.POLICY_DENIED:
        return [_finding("policy_denied", CRITICAL, ev.id,
                         "%s through the endpoint is denied by a VPC endpoint policy (%s)" % (api.operation, detail),
                         fix.policy_denied(node.where, ev.id, endpoint_id, api.operation), [detail])]
    if api.outcome == aws_call.IAM_DENIED:
        return [_finding("iam_denied", WARNING, ev.id,
                         "%s reached AWS through the endpoint but the node's identity is denied (%s)" % (api.operation, detail),
                         fix.iam_denied(node.where, ev.id, api.operation), [detail])]
    return []


def api_inconclusive(ev: ServiceEvidence) -> bool:
    """The API answered, but with nothing that proves the service works or names a cause: HTTP 5xx,
    throttled twice, an answer not shaped like AWS's (a captive portal's page), an unknown error code.
    The service is then unknown (with the reason in its API evidence), never ok."""
    return ev.api is not None and ev.api.outcome in aws_call.INCONCLUSIVE


def node_findings(node: NodeEvidence) -> List[Finding]:
    findings = []
    where = node.where
    if node.imds is not None and not node.imds.get("reachable", True):
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
    return findings


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
    elif not lookup.any_in_vpc:
        reason = "%s resolves outside the VPC (%s): private endpoint access is off" % (cluster["hostname"], _addresses(lookup))
    elif tls and not any(t.ok for t in tls):
        reason = "no TLS on 443: %s" % tls[0].error
    if reason is None:
        return []
    return [_finding("cluster_endpoint_unreachable", CRITICAL, None,
                     "the EKS API server is unreachable from this node: %s" % reason,
                     fix.cluster_endpoint_unreachable(node.where, cluster["url"], reason))]
