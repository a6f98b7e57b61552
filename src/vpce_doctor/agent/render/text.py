"""The compact table a human takes in at a glance, then the fixes."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...core.text import printable_data
from .text_layout import finding_lines, table

SCOPE_WORD = {"vpc": "in-vpc", "remote": "remote", "public": "public"}


def address_scope(address: Dict[str, Any]) -> str:
    """vpc | remote | public; reports from before `scope` existed only say in_vpc."""
    return address.get("scope") or ("vpc" if address.get("in_vpc") else "public")


def _primary(service: Dict[str, Any], role: str) -> List[Dict[str, Any]]:
    return [d for d in service["probes"].get("dns", [])
            if d["hostname"] == service["hostname"] and d["rdtype"] == "A" and d["resolver_role"] == role]


def dns_cell(lookups: List[Dict[str, Any]]) -> str:
    """in-vpc / remote (a hub VPC's endpoint) / public / NXDOMAIN / timeout...; 'mixed' when
    answers or resolvers disagree."""
    words = []
    for d in lookups:
        if d["status"] == "answer":
            scopes = {address_scope(a) for a in d["addresses"]}
            words.append(SCOPE_WORD.get(scopes.pop(), "mixed") if len(scopes) == 1 else "mixed")
        else:
            words.append(d["status"].upper() if d["status"] in ("nxdomain", "nodata", "servfail", "refused") else d["status"])
    if not words:
        return "-"
    return words[0] if len(set(words)) == 1 else "mixed"


def tls_cell(service: Dict[str, Any]) -> str:
    tls = service["probes"].get("tls", [])
    if not tls:
        return "-"
    ok = sum(1 for t in tls if t["ok"])
    if ok == len(tls):
        return "%d/%d ok" % (ok, len(tls))
    kinds = sorted({t["error_kind"] or t["phase"] or "failed" for t in tls if not t["ok"]})
    return "%d/%d %s" % (ok, len(tls), kinds[0])


def api_cell(service: Dict[str, Any]) -> str:
    api = service["probes"].get("api") or {}
    outcome = api.get("outcome")
    if not outcome:
        return "-"
    if outcome == "timeout" and api.get("phase"):
        return "timeout(%s)" % api["phase"]
    return {"success": "ok", "reached": "reached", "iam_denied": "denied(iam)", "policy_denied": "denied(policy)",
            "org_denied": "denied(org)", "access_denied": "denied(?)"}.get(outcome, outcome)


def _finding_cell(service: Dict[str, Any]) -> str:
    codes = [f["code"] for f in service["findings"]]
    if codes:
        return ", ".join(codes)
    if service["status"] == "unknown":
        failed = [c for c in service.get("checks", []) if c["state"] != "done"]
        return "unknown: %s %s" % (failed[0]["check"], failed[0]["state"]) if failed else "unknown"
    return "-"


def pull_lines(report: Dict[str, Any]) -> List[str]:
    """One line per image pulled (checks/image_pull.py): how far it got; or why none ran."""
    pull = (report.get("node_checks") or {}).get("image_pull") or {}
    lines = []
    for p in pull.get("pulls") or []:
        steps = p.get("steps") or []
        last = steps[-1] if steps else {}
        how = ("%d steps, one layer byte read" % len(steps) if p.get("outcome") == "ok"
               else "stopped at %s (%s)" % (last.get("step") or "?", last.get("outcome") or p.get("message") or "?"))
        lines.append("image pull: %s (%s): %s, %s in %.2f s" % (
            _value(p.get("image")), _value(p.get("source")), _value(p.get("outcome")), how, (p.get("ms") or 0) / 1000.0))
    if not lines and pull.get("note"):
        lines.append("image pull: none (%s)" % pull["note"])
    return lines


def _value(value: Optional[str]) -> str:
    return value if value else "?"


def render(report: Dict[str, Any]) -> str:
    report = printable_data(report)  # every value from outside, inert on a terminal
    if report.get("mode") == "preflight":
        from . import preflight_text

        return preflight_text.render(report)
    node = report["node"]
    resolvers = node["resolvers"]
    out = [
        "vpce-doctor %s  %s  %s  %s  %s" % (report["tool"]["version"], _value(node["region"]),
                                            _value(node["availability_zone"]), _value(node["vpc_id"]),
                                            _value(node["subnet_id"])),
        "status: %s   findings: %d   %.2f s   resolvers: vpc %s, node %s" % (
            report["status"].upper(), len(report["findings"]), report["duration_ms"] / 1000.0,
            resolvers["vpc"], ", ".join(resolvers["custom"]) or "none"),
        "",
    ]
    rows = [["SERVICE", "STATUS", "VPC DNS", "NODE DNS", "TLS", "API", "FINDING"]]
    for s in report["services"]:
        rows.append([s["id"] + ("" if s["required"] else " (opt)"), s["status"] or "?", dns_cell(_primary(s, "vpc")),
                     dns_cell(_primary(s, "node")), tls_cell(s), api_cell(s), _finding_cell(s)])
    out += table(rows)
    out += pull_lines(report)
    for note in node.get("notes", []):
        out.append("note: %s" % note)
    if report["findings"]:
        out += ["", "FINDINGS AND FIXES"]
    for index, f in enumerate(report["findings"], 1):
        out += finding_lines(index, f, f["service"] or "node")
    if not report["findings"] and report["status"] == "ok":
        out += ["", "All checked services reach their endpoints from this node."]
    return "\n".join(out) + "\n"

