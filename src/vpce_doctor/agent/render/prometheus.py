"""node_exporter textfile format.

Labels stay few and bounded: service ids (the catalogue), finding codes, severities, and one info
series per node carrying its identity (region, AZ, VPC, subnet, instance). No address, hostname or
message ever becomes a label: a fleet's series count is nodes x services, not nodes x addresses.
The alert rules (packaging/prometheus/) and the dashboard (packaging/grafana/) read these names;
CI checks them against this output (`promtool check metrics`, tests/packaging/)."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

STATUS_VALUE = {"ok": 0, "warn": 1, "critical": 2, "unknown": 3}
UNKNOWN_VALUE = STATUS_VALUE["unknown"]  # a status word this version does not know


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _epoch(stamp: Any) -> Optional[float]:
    """generated_at ("2026-11-24T00:00:00Z") as Unix seconds; None when unreadable."""
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def worst_clock_skew(report: Dict[str, Any]) -> Optional[float]:
    """AWS minus local clock, seconds, the largest in size any signed call measured (its Date header)."""
    skews = []
    for service in report.get("services") or []:
        api = (service.get("probes") or {}).get("api") or {}
        value = api.get("skew_seconds") if isinstance(api, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            skews.append(float(value))
    return max(skews, key=abs) if skews else None


def render(report: Dict[str, Any]) -> str:
    lines: List[str] = []

    def metric(name: str, help_text: str, kind: str, samples):
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels.items())
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", value))

    node = report.get("node") or {}
    metric("vpce_doctor_status", "Overall status: 0 ok, 1 warn, 2 critical, 3 unknown.", "gauge",
           [({}, STATUS_VALUE.get(report.get("status"), UNKNOWN_VALUE))])
    metric("vpce_doctor_service_status", "Per-service status: 0 ok, 1 warn, 2 critical, 3 unknown.", "gauge",
           [({"service": s["id"], "required": str(s["required"]).lower()}, STATUS_VALUE.get(s["status"], UNKNOWN_VALUE))
            for s in report["services"]])
    metric("vpce_doctor_finding", "A current finding (1 while it holds); service is empty for the node.", "gauge",
           [({"code": f["code"], "service": f["service"] or "", "severity": f["severity"]}, 1)
            for f in report["findings"]])
    counts = {"critical": 0, "warning": 0, "info": 0}  # info: worth knowing, never part of the status
    for f in report["findings"]:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    metric("vpce_doctor_findings", "Number of current findings by severity.", "gauge",
           [({"severity": k}, v) for k, v in sorted(counts.items())])
    metric("vpce_doctor_run_duration_seconds", "Wall time of the last run, seconds.", "gauge",
           [({}, "%.3f" % (report["duration_ms"] / 1000.0))])
    finished = _epoch(report.get("generated_at"))
    if finished is not None:
        # the timer stopping leaves this file in place: its age is what says so (alert VpceDoctorReportStale)
        metric("vpce_doctor_last_run_timestamp_seconds", "When the last run started, Unix time in seconds.", "gauge",
               [({}, "%.0f" % finished)])
    skew = worst_clock_skew(report)
    if skew is not None:
        metric("vpce_doctor_clock_skew_seconds", "AWS clock minus the node clock, seconds (largest seen by a signed "
               "call).", "gauge", [({}, "%.1f" % skew)])
    metric("vpce_doctor_info", "Tool version and node identity (join on instance for the AZ).", "gauge",
           [({"version": (report.get("tool") or {}).get("version") or "", "region": node.get("region") or "",
              "availability_zone": node.get("availability_zone") or "", "vpc_id": node.get("vpc_id") or "",
              "subnet_id": node.get("subnet_id") or "", "instance_id": node.get("instance_id") or ""}, 1)])
    return "\n".join(lines) + "\n"
