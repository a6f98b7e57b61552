"""The report model: the one shape every renderer (text, JSON, Prometheus, TUI) reads.

Evidence flows one way: probes produce evidence, verdict rules turn evidence into
findings, the runner assembles a Report, renderers only read it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

SCHEMA_VERSION = 1

# Severity and status words are part of the JSON interface.
CRITICAL = "critical"
WARNING = "warning"
# Worth knowing, nothing to fix for the node to work: never changes the status or the exit code.
INFO = "info"

STATUS_OK = "ok"
STATUS_WARN = "warn"
STATUS_CRITICAL = "critical"
STATUS_UNKNOWN = "unknown"

# Worst first: a finding we are sure of outranks a check we could not run.
_STATUS_RANK = {STATUS_CRITICAL: 3, STATUS_WARN: 2, STATUS_UNKNOWN: 1, STATUS_OK: 0}
EXIT_CODES = {STATUS_OK: 0, STATUS_WARN: 1, STATUS_CRITICAL: 2, STATUS_UNKNOWN: 3}


def worst_status(statuses: "List[str]") -> str:
    return max(statuses, key=lambda s: _STATUS_RANK[s], default=STATUS_OK)


def severity_status(severity: str) -> str:
    if severity == INFO:
        return STATUS_OK
    return STATUS_CRITICAL if severity == CRITICAL else STATUS_WARN


def to_jsonable(value: Any) -> Any:
    """Dataclasses, tuples and nested containers to plain JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class FixAction:
    """One change a fix makes, as data: the fix renderers turn it into AWS CLI, Terraform or
    CloudFormation. `kind` names the change (e.g. "create_interface_endpoint"); `params` holds
    plain JSON values (ids, names, CIDRs; <PLACEHOLDERS> where the value is not known)."""

    kind: str
    params: Dict[str, Any] = field(default_factory=dict, hash=False)  # findings stay hashable


@dataclass(frozen=True)
class Remediation:
    text: str
    commands: Tuple[str, ...] = ()
    # The changes the commands make, structured (diagnostic-only commands have none).
    actions: Tuple[FixAction, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    service: Optional[str]
    message: str
    remediation: Remediation
    # The probe results that led here (a root cause keeps its symptoms as evidence).
    evidence: Tuple[str, ...] = ()
    # preflight: the node subnet the finding is predicted for (None on a node's own report)
    subnet: Optional[str] = None


@dataclass(frozen=True)
class NodeFacts:
    region: Optional[str] = None
    partition: str = "aws"
    availability_zone: Optional[str] = None
    instance_id: Optional[str] = None
    account_id: Optional[str] = None
    vpc_id: Optional[str] = None
    subnet_id: Optional[str] = None
    vpc_cidrs: Tuple[str, ...] = ()
    # private CIDRs outside the VPC where endpoints may live (--endpoint-cidr; a hub VPC)
    endpoint_cidrs: Tuple[str, ...] = ()
    local_ipv4: Optional[str] = None
    vpc_resolver: str = "169.254.169.253"
    custom_resolvers: Tuple[str, ...] = ()
    # Where the custom resolvers came from (flag, resolv.conf, systemd-resolved upstreams).
    resolver_sources: Dict[str, str] = field(default_factory=dict)
    cluster_endpoint: Optional[str] = None
    cluster_name: Optional[str] = None  # IMDS instance tag eks:cluster-name, when instance tags are on
    imds: Dict[str, Any] = field(default_factory=dict)
    components: Tuple[Dict[str, Any], ...] = ()
    discovery_notes: Tuple[str, ...] = ()
    # IMDS role credentials read during discovery: used to sign, never reported (to_report leaves it out)
    instance_credentials: Any = field(default=None, repr=False, compare=False)

    def to_report(self) -> Dict[str, Any]:
        return {
            "region": self.region,
            "partition": self.partition,
            "availability_zone": self.availability_zone,
            "instance_id": self.instance_id,
            "account_id": self.account_id,
            "vpc_id": self.vpc_id,
            "subnet_id": self.subnet_id,
            "vpc_cidrs": list(self.vpc_cidrs),
            "endpoint_cidrs": list(self.endpoint_cidrs),
            "local_ipv4": self.local_ipv4,
            "resolvers": {
                "vpc": self.vpc_resolver,
                "custom": list(self.custom_resolvers),
                "sources": dict(self.resolver_sources),
            },
            "cluster_endpoint": self.cluster_endpoint,
            "cluster_name": self.cluster_name,
            "imds": to_jsonable(self.imds),
            "components": to_jsonable(list(self.components)),
            "notes": list(self.discovery_notes),
        }


@dataclass(frozen=True)
class CheckResult:
    """What one check produced for one service (or the node): evidence, or why not."""

    check: str
    service: Optional[str]
    state: str  # done | error | timeout | skipped
    evidence: Any = None
    error: Optional[str] = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "done"

    def to_report(self) -> Dict[str, Any]:
        return {
            "check": self.check,
            "state": self.state,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass
class ServiceReport:
    id: str
    endpoint_service: str
    hostname: str
    endpoint_type: str
    required: bool
    required_by: List[str]
    status: str
    findings: List[Finding]
    probes: Dict[str, Any]
    checks: List[CheckResult]
    # What the VPC resolver answered for the service's own name: vpc | remote | public (None: no
    # answer). A summary of probes.dns, so `fleet` reads it without the probe details.
    vpc_dns_scope: Optional[str] = None

    def to_report(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "endpoint_service": self.endpoint_service,
            "hostname": self.hostname,
            "endpoint_type": self.endpoint_type,
            "required": self.required,
            "required_by": list(self.required_by),
            "status": self.status,
            "findings": [to_jsonable(f) for f in self.findings],
            "probes": to_jsonable(self.probes),
            "checks": [c.to_report() for c in self.checks],
            "vpc_dns_scope": self.vpc_dns_scope,
        }


@dataclass
class Report:
    tool_version: str
    generated_at: str
    duration_ms: float
    status: str
    node: NodeFacts
    findings: List[Finding]
    services: List[ServiceReport]
    node_checks: Dict[str, Any]
    node_check_results: List[CheckResult]
    redactor: Any = None  # agent.redact.Redactor; applied to every rendering
    mode: str = "check"  # check (on a node) | preflight (from the AWS configuration, no node)
    # preflight: what was examined in place of a node (VPC, subnets, cluster)
    target: Optional[Dict[str, Any]] = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> Dict[str, Any]:
        """The report as JSON data: what every renderer reads, secrets already masked."""
        data = self._raw_dict()
        return self.redactor.data(data) if self.redactor is not None else data

    def _raw_dict(self) -> Dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "vpce-doctor", "version": self.tool_version},
            "generated_at": self.generated_at,
            "duration_ms": round(self.duration_ms, 1),
            "status": self.status,
            "node": self.node.to_report(),
            "findings": [to_jsonable(f) for f in self.findings],
            "services": [s.to_report() for s in self.services],
            "node_checks": to_jsonable(self.node_checks),
            "checks": [c.to_report() for c in self.node_check_results],
            "mode": self.mode,
            **({"target": to_jsonable(self.target)} if self.target is not None else {}),
        }
