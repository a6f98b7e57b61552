"""From judged services to the same Report the node check writes, with mode `preflight` and
the target (VPC, subnets, cluster) beside the node facts it stands in for."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..core.model import (STATUS_OK, STATUS_UNKNOWN, CheckResult, Finding, NodeFacts, Report,
                          ServiceReport, severity_status, worst_status)
from .gather import Configuration
from .rules import ServiceVerdict
from .subnets import SubnetView


def _check(key: str, config: Configuration, service: Optional[str]) -> Optional[CheckResult]:
    call = config.calls.get(key)
    if call is None:
        return None
    return CheckResult(check=call.name, service=service, state=call.state, error=call.error, duration_ms=call.ms)


def service_report(v: ServiceVerdict, config: Configuration) -> ServiceReport:
    checks = [c for c in (_check(k, config, v.spec.id) for k in dict.fromkeys(v.depends)) if c is not None]
    statuses = [severity_status(f.severity) for f in v.findings]
    if any(not c.ok for c in checks) or (v.cannot_tell and not v.evidence):
        statuses.append(STATUS_UNKNOWN)
    evidence = dict(v.evidence, cannot_tell=sorted(set(v.cannot_tell)))
    return ServiceReport(
        id=v.spec.id, endpoint_service=v.endpoint_service_name, hostname=v.hostname,
        endpoint_type=v.spec.endpoint_type, required=v.required, required_by=list(v.spec.required_by),
        status=worst_status(statuses), findings=list(v.findings),
        probes={"dns": [], "tls": [], "api": {}, "config": evidence}, checks=checks)


def target(config: Configuration, subnets: List[SubnetView], vpc_cidrs: List[str], extra: Dict[str, Any]) -> Dict[str, Any]:
    cluster = config.cluster or {}
    vpc_config = cluster.get("resourcesVpcConfig") or {}
    return dict({
        "vpc_id": config.vpc_id,
        "vpc_cidrs": vpc_cidrs,
        "subnets": [s.to_report() for s in subnets],
        "cluster": {"name": cluster.get("name"), "endpoint_private_access": vpc_config.get("endpointPrivateAccess"),
                    "endpoint_public_access": vpc_config.get("endpointPublicAccess"),
                    "public_access_cidrs": vpc_config.get("publicAccessCidrs") or []} if cluster else None,
        "nodegroup": (config.nodegroup or {}).get("nodegroupName"),
        "node_security_groups": list(config.node_security_groups),
    }, **extra)


def report(version: str, generated_at: str, duration_ms: float, config: Configuration, partition_id: str,
           account: Optional[str], vpc_cidrs: List[str], subnets: List[SubnetView], services: List[ServiceReport],
           node_findings: List[Finding], extra_target: Dict[str, Any], notes: List[str]) -> Report:
    findings = [f for s in services for f in s.findings] + node_findings
    statuses = [s.status for s in services] + [severity_status(f.severity) for f in node_findings]
    node = NodeFacts(region=config.region, partition=partition_id, account_id=account, vpc_id=config.vpc_id,
                     subnet_id=subnets[0].id if len(subnets) == 1 else None,
                     availability_zone=subnets[0].availability_zone if len(subnets) == 1 else None,
                     vpc_cidrs=tuple(vpc_cidrs), discovery_notes=tuple(notes))
    results = [CheckResult(check=c.name, service=None, state=c.state, error=c.error, duration_ms=c.ms)
               for c in config.calls.values()]
    return Report(tool_version=version, generated_at=generated_at, duration_ms=duration_ms,
                  status=worst_status(statuses) if statuses else STATUS_OK, node=node, findings=findings,
                  services=services, node_checks={}, node_check_results=results, mode="preflight",
                  target=target(config, subnets, vpc_cidrs, extra_target))


