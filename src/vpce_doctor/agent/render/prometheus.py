"""node_exporter textfile format."""
from __future__ import annotations

from typing import Any, Dict, List

STATUS_VALUE = {"ok": 0, "warn": 1, "critical": 2, "unknown": 3}


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(report: Dict[str, Any]) -> str:
    lines: List[str] = []

    def metric(name: str, help_text: str, kind: str, samples):
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels.items())
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", value))

    metric("vpce_doctor_status", "Overall status: 0 ok, 1 warn, 2 critical, 3 unknown.", "gauge",
           [({}, STATUS_VALUE[report["status"]])])
    metric("vpce_doctor_service_status", "Per-service status: 0 ok, 1 warn, 2 critical, 3 unknown.", "gauge",
           [({"service": s["id"], "required": str(s["required"]).lower()}, STATUS_VALUE[s["status"]])
            for s in report["services"]])
    metric("vpce_doctor_finding", "A current finding (1 while it holds).", "gauge",
           [({"code": f["code"], "service": f["service"] or "", "severity": f["severity"]}, 1)
            for f in report["findings"]])
    counts = {"critical": 0, "warning": 0, "info": 0}  # info: worth knowing, never part of the status
    for f in report["findings"]:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    metric("vpce_doctor_findings", "Number of current findings by severity.", "gauge",
           [({"severity": k}, v) for k, v in sorted(counts.items())])
    metric("vpce_doctor_run_duration_seconds", "Wall time of the last run.", "gauge",
           [({}, "%.3f" % (report["duration_ms"] / 1000.0))])
    metric("vpce_doctor_info", "Tool version and node identity.", "gauge",
           [({"version": report["tool"]["version"], "region": report["node"]["region"] or "",
              "availability_zone": report["node"]["availability_zone"] or "",
              "vpc_id": report["node"]["vpc_id"] or ""}, 1)])
    return "\n".join(lines) + "\n"
