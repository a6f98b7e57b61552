"""Preflight in text: the target, one table of services by node subnet (as `fleet` lays out
nodes by subnet), what could not be read, then the findings and fixes grouped by subnet."""
from __future__ import annotations

from typing import Any, Dict

from .text_layout import finding_lines, table


def _endpoint_cell(service: Dict[str, Any]) -> str:
    config = service["probes"].get("config") or {}
    endpoint, record = config.get("endpoint"), config.get("private_zone_record")
    if record and record.get("class") == "remote":  # a hub's endpoint, through a private zone
        return "remote (zone %s)" % record.get("zone_id", "?").rsplit("/", 1)[-1]
    if not endpoint:
        return "zone %s (%s)" % (record.get("zone_id", "?").rsplit("/", 1)[-1], record.get("class")) if record else "none"
    words = [endpoint["id"], endpoint.get("state") or "?"]
    if endpoint.get("type") == "Interface":
        words.append("dns-on" if endpoint.get("private_dns_enabled") else "dns-off")
    return " ".join(words)


def _cell(service: Dict[str, Any], subnet: str) -> str:
    codes = [f["code"] for f in service["findings"] if f.get("subnet") in (subnet, None)]
    if codes:
        return ",".join(dict.fromkeys(codes))
    return "unknown" if service["status"] == "unknown" else "ok"


def render(report: Dict[str, Any]) -> str:
    target = report.get("target") or {}
    subnets = target.get("subnets") or []
    cluster = target.get("cluster")
    out = ["vpce-doctor %s preflight  %s  %s (%s)%s" % (
        report["tool"]["version"], report["node"]["region"], target.get("vpc_id"), ", ".join(target.get("vpc_cidrs") or []),
        "  cluster %s" % cluster["name"] if cluster else ""),
        "status: %s   findings: %d   %.2f s   VPC DNS support %s, hostnames %s" % (
            report["status"].upper(), len(report["findings"]), report["duration_ms"] / 1000.0,
            _onoff(target.get("dns_support")), _onoff(target.get("dns_hostnames"))), ""]
    out += table([["SUBNET", "AZ", "CIDR", "ROUTE TABLE", "NACL"]] + [
        [s["id"] or "?", s["availability_zone"] or "?", s["cidr"] or "?", s["route_table_id"] or "?",
         s["network_acl_id"] or "?"]
        for s in subnets])
    out.append("")
    rows = [["SERVICE", "ENDPOINT"] + [s["id"] or "?" for s in subnets]]
    for service in report["services"]:
        rows.append([service["id"] + ("" if service["required"] else " (opt)"), _endpoint_cell(service)]
                    + [_cell(service, s["id"]) for s in subnets])
    out += table(rows)
    failed = [c for c in report.get("checks", []) if c["state"] != "done"]
    for check in failed:
        out.append("unknown: %s %s (%s)" % (check["check"], check["state"], check.get("error")))
    for service in report["services"]:
        for why in (service["probes"].get("config") or {}).get("cannot_tell") or []:
            out.append("cannot tell (%s): %s" % (service["id"], why))
    for note in report["node"].get("notes", []):
        out.append("note: %s" % note)
    index = 0
    for group in [s["id"] for s in subnets] + [None]:
        found = [f for f in report["findings"] if f.get("subnet") == group]
        if not found:
            continue
        out += ["", "FINDINGS AND FIXES: %s" % (group or "VPC / cluster")]
        for f in found:
            index += 1
            out += finding_lines(index, f, f["service"] or "cluster")
    if not report["findings"] and report["status"] == "ok":
        out += ["", "Nodes in these subnets would reach every checked service through its endpoint."]
    return "\n".join(out) + "\n"


def _onoff(value: Any) -> str:
    return "?" if value is None else "on" if value else "OFF"
