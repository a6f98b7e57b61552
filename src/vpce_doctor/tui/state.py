"""What the TUI shows, kept apart from Textual so it can be tested as plain data.

While a run is going, check results arrive one at a time; each fills in its part of the
service's probes. When the run ends the finished report replaces the partial state."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from ..core.model import to_jsonable
from ..core.text import printable, printable_data
from ..agent.redact import Redactor
from ..agent.render.text import api_cell, dns_cell, tls_cell
from ..agent.report_file import SUPPORTED_SCHEMA, normalize, schema_notice

STATUS_LABEL = {"ok": "✔ ok", "warn": "▲ warn", "critical": "✖ crit", "unknown": "? unkn"}
STATUS_MARK = {"ok": "✔", "warn": "▲", "critical": "✖", "unknown": "?"}
# narrow terminals (80x24 over SSM) get short cell words; the detail screen has the full story
SHORT = {"in-vpc": "vpc", "public": "pub", "mixed": "mix", "NXDOMAIN": "NXDOM", "NODATA": "NODAT",
         "SERVFAIL": "SRVFL", "REFUSED": "REFUS", "timeout": "t/o", "error": "err",
         "denied(policy)": "policy", "denied(iam)": "iam", "no_credentials": "nocred", "invalid_credentials": "badcred",
         "clock_skew": "skew", "skipped": "skip", "unexpected_response": "odd", "connect_error": "conn",
         "tls_error": "tls"}
WIDE_COLUMNS = ("STATUS", "SERVICE", "VPC DNS", "NODE DNS", "TLS", "API", "FINDING")
COMPACT_COLUMNS = ("SERVICE", "VPC", "NODE", "TLS", "API", "FINDING")
PENDING = "…"
SERVICE_CHECKS = ("dns", "tls", "api")


def primary_lookups(service: Dict[str, Any], role: str) -> List[Dict[str, Any]]:
    return [d for d in service.get("probes", {}).get("dns", []) or []
            if d.get("hostname") == service.get("hostname") and d.get("rdtype") == "A" and d.get("resolver_role") == role]


class ViewState:
    def __init__(self) -> None:
        self.reset()
        self.redactor = Redactor()

    def reset(self) -> None:
        self.report: Optional[Dict[str, Any]] = None  # exactly as received: what `e` exports
        self.shown: Dict[str, Any] = {}  # normalized and printable: what every widget reads
        self.node: Dict[str, Any] = {}
        self.services: List[Dict[str, Any]] = []
        self.done: Dict[str, set] = {}
        self.started = time.monotonic()
        self.running = False
        self.error: Optional[str] = None
        self.notice: Optional[str] = None

    # --- live -----------------------------------------------------------------------
    def begin(self) -> None:
        self.reset()
        self.running = True

    def on_facts(self, facts, specs, hostnames: Dict[str, str]) -> None:
        self.node = printable_data(facts.to_report())
        self.services = [{"id": s.id, "hostname": hostnames.get(s.id, ""), "endpoint_type": s.endpoint_type,
                          "required": None, "status": None, "findings": [],
                          "probes": {"dns": [], "tls": [], "api": {}}, "checks": []} for s in specs]
        self.done = {s.id: set() for s in specs}

    def on_result(self, result) -> None:
        service = next((s for s in self.services if s["id"] == result.service), None)
        if service is None:
            return
        self.done[service["id"]].add(result.check)
        if result.check in SERVICE_CHECKS and result.ok:
            service["probes"][result.check] = printable_data(self.redactor.data(to_jsonable(result.evidence)))
        service["checks"].append(printable_data(result.to_report()))

    def finish(self, report: Dict[str, Any]) -> None:
        self.load(report)
        self.running = False

    def fail(self, message: str) -> None:
        self.running = False
        self.error = printable(message)

    # --- saved ----------------------------------------------------------------------
    def load(self, report: Dict[str, Any]) -> None:
        """A finished run's report or a saved one (of any version, any shape: see report_file)."""
        notice = schema_notice(report)
        self.notice = printable(notice) if notice else None
        self.report = report
        self.shown = printable_data(normalize(report))
        self.node = self.shown["node"]
        self.services = self.shown["services"]

    # --- what the table shows -------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def cells(self, service: Dict[str, Any], compact: bool = False) -> List[str]:
        done = self.done.get(service["id"], set()) if self.report is None else set(SERVICE_CHECKS)
        pending = PENDING if compact else "%s %.1fs" % (PENDING, self.elapsed())
        status = service.get("status")
        findings = [f.get("code", "?") for f in service.get("findings") or []]
        finding_cell = ", ".join(findings) if findings else ("-" if status is not None else "")
        if status == "unknown" and not findings:
            failed = [c for c in service.get("checks") or [] if c.get("state") != "done"]
            finding_cell = "unknown: %s %s" % (failed[0].get("check"), failed[0].get("state")) if failed else "unknown"
        probes = [
            dns_cell(primary_lookups(service, "vpc")) if "dns" in done else pending,
            dns_cell(primary_lookups(service, "node")) if "dns" in done else pending,
            tls_cell(service) if "tls" in done else pending,
            api_cell(service) if "api" in done else pending,
        ]
        if compact:
            name = service["id"] if len(service["id"]) <= 16 else service["id"][:15] + "…"
            probes[2] = probes[2].split(" ")[0]
            probes = [SHORT.get(p, SHORT.get(p.split("(")[0], p)) for p in probes]
            return ["%s %s" % (STATUS_MARK.get(status, PENDING), name)] + probes + [finding_cell]
        status_cell = PENDING + " run" if status is None else STATUS_LABEL.get(status, status)
        name = service["id"] + ("" if service.get("required", True) is not False else " (opt)")
        return [status_cell, name] + probes + [finding_cell]

    def visible(self, problems_only: bool) -> List[Dict[str, Any]]:
        if not problems_only:
            return self.services
        return [s for s in self.services if s.get("status") not in ("ok",)]

    def counts(self) -> Dict[str, int]:
        out = {"critical": 0, "warning": 0}
        for f in self.shown.get("findings") or []:
            out[f.get("severity", "?")] = out.get(f.get("severity", "?"), 0) + 1
        return out

    def node_findings(self) -> List[Dict[str, Any]]:
        return [f for f in self.shown.get("findings") or [] if not f.get("service")]
