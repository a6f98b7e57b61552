"""Verdict rules for what running components need beyond the catalogue's endpoints.
Pure functions of evidence, like verdicts.py, which calls component_findings() for the node.

| evidence                                                                  | code                           |
|---------------------------------------------------------------------------|--------------------------------|
| a component needs an API with no VPC endpoint, no setting turns it off:    |                                |
|   its name does not complete TLS                                          | no_privatelink_service (crit)  |
|   it completes TLS outside the VPC (a public path)                        | no_privatelink_service (warn)  |
|   it resolves inside the VPC and completes TLS (an endpoint serves it)    | -                              |
| a component selects sts.amazonaws.com and that name does not complete TLS | sts_global_endpoint            |
| eks-pod-identity-agent runs and an address of it gives no HTTP answer     | pod_identity_agent_unreachable |
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..core.model import CRITICAL, WARNING, Finding
from . import remediation as fix

CODES = ("no_privatelink_service", "sts_global_endpoint", "pod_identity_agent_unreachable")


def _finding(code, severity, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=None, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def _answers(lookup) -> str:
    if lookup is None:
        return "not asked"
    return ", ".join(a.address for a in lookup.addresses) or lookup.status.upper()


def _probe_lines(probe: Dict[str, Any]) -> List[str]:
    lines = []
    if probe.get("vpc_dns") is not None:
        lines.append("VPC resolver %s: %s -> %s" % (probe["vpc_dns"].server, probe["hostname"], _answers(probe["vpc_dns"])))
    if probe.get("node_dns") is not None:
        lines.append("node resolver %s: %s -> %s" % (probe["node_dns"].server, probe["hostname"],
                                                    _answers(probe["node_dns"])))
    lines += ["tls %s: %s" % (t.address, "ok" if t.ok else t.error) for t in probe.get("tls") or ()]
    if probe.get("error"):
        lines.append("probe failed: %s" % probe["error"])
    return lines


def _why_not(probe: Dict[str, Any]) -> str:
    """Why a name does not work, in one phrase."""
    vpc = probe.get("vpc_dns")
    tls = probe.get("tls") or []
    if not tls:
        lookup = probe.get("node_dns") or vpc
        return "%s gives %s" % (probe["hostname"], lookup.status.upper() if lookup is not None else "no answer")
    first = next(t for t in tls if not t.ok)
    where = "outside the VPC" if vpc is not None and not vpc.any_in_vpc else "inside the VPC"
    return "%s resolves %s (%s) and %s" % (probe["hostname"], where, _answers(vpc), first.error)


def no_privatelink_findings(entries: Optional[Sequence[Dict[str, Any]]], where: fix.Where) -> List[Finding]:
    findings = []
    for entry in entries or ():
        if entry.get("disabled_by"):
            continue
        probe = entry.get("probe") or {}
        if probe.get("connects") and probe.get("resolves_in_vpc"):
            continue  # an endpoint (where AWS offers one) or a private zone serves the name
        what = "%s (pid %s) needs the %s at %s, which has no VPC endpoint here" % (
            entry["component"], entry.get("pid"), entry["api"], entry["hostname"])
        images = ["image %s (%s)" % (i["image"], i["source"]) for i in entry.get("images", ())]
        evidence = images + _probe_lines(probe) + ["source: %s" % entry["source"]]
        remedy = fix.no_privatelink_service(where, entry["id"], entry["component"])
        if probe.get("connects"):
            findings.append(_finding("no_privatelink_service", WARNING,
                                     what + "; it answers now only through a path outside the VPC (NAT, proxy)",
                                     remedy, evidence))
        elif "tls" in probe:
            findings.append(_finding("no_privatelink_service", CRITICAL,
                                     what + ": every call fails (%s)" % _why_not(probe), remedy, evidence))
        else:
            findings.append(_finding("no_privatelink_service", WARNING,
                                     what + " (its reachability could not be probed)", remedy, evidence))
    return findings


def sts_global_findings(evidence: Optional[Dict[str, Any]], where: fix.Where) -> List[Finding]:
    if not evidence or not evidence.get("components"):
        return []
    probe = evidence.get("probe") or {}
    if probe.get("connects"):
        return []
    reason = _why_not(probe) if "tls" in probe else "it could not be probed"
    return [_finding("sts_global_endpoint", CRITICAL,
                     "%s (pid %s) calls the global STS endpoint %s (%s), which no VPC endpoint serves: %s; its IAM "
                     "role credentials (IRSA) cannot be fetched" % (c["component"], c.get("pid"), evidence["hostname"],
                                                                    c["setting"], reason),
                     fix.sts_global_endpoint(where, c["component"], c["setting"]), _probe_lines(probe))
            for c in evidence["components"]]


def _probe_words(p: Dict[str, Any]) -> str:
    bound = ("bound on %s" % p["bound_on"]) if p.get("bound_on") else "not bound on any interface of this node"
    what = {"refused": "connection refused", "timeout": "timed out", "unreachable": "unreachable",
            "not_http": "not an HTTP answer"}.get(p.get("error_kind") or "", p.get("error") or "no answer")
    return "%s:%s: %s (address %s)" % (p.get("address"), p.get("port"), what, bound)


def pod_identity_findings(evidence: Optional[Dict[str, Any]], where: fix.Where) -> List[Finding]:
    if not evidence or not evidence.get("running"):
        return []
    down = [p for p in evidence.get("probes") or () if p.get("up") is False]
    if not down:
        return []
    return [_finding("pod_identity_agent_unreachable", CRITICAL,
                     "eks-pod-identity-agent runs (pid %s) but gives no HTTP answer on %s: pods with a Pod Identity "
                     "association get no credentials" % (evidence.get("pid"), ", ".join(_probe_words(p) for p in down)),
                     fix.pod_identity_agent_unreachable(where, [p["url"] for p in down]),
                     ["process eks-pod-identity-agent running, pid %s" % evidence.get("pid")]
                     + ["GET %s/: %s" % (p["url"], p.get("error")) for p in down])]


def component_findings(no_privatelink, sts_global, pod_identity, where: fix.Where) -> List[Finding]:
    return (no_privatelink_findings(no_privatelink, where) + sts_global_findings(sts_global, where)
            + pod_identity_findings(pod_identity, where))
