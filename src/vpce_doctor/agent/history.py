"""Timer mode (`check --state-dir DIR`): keep last.json and a bounded history, and say in the
journal what changed since the last run instead of repeating the same alarm every 15 minutes.

Lines go to stdout with a `<N>` syslog priority prefix, which journald reads as the priority
(SyslogLevelPrefix=, on by default for a service's output)."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from .render import RENDERERS, write_atomic

ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6
STATUS_PRIORITY = {"ok": INFO, "warn": WARNING, "critical": ERR, "unknown": WARNING}
LAST = "last.json"
PROMETHEUS_FILE = "vpce_doctor.prom"
CARRIED_NOTE = "API and inventory evidence carried over"  # agent/carry.py's note


def _key(finding: Dict[str, Any]) -> Tuple[str, str]:
    return finding.get("code", "?"), finding.get("service") or ""


def _label(finding: Dict[str, Any]) -> str:
    return "%s (%s)" % (finding.get("code"), finding.get("service") or "node")


def read_last(state_dir: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(state_dir, LAST), encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None  # first run, or a file someone broke: every finding then counts as new


def changes(previous: Optional[Dict[str, Any]], report: Dict[str, Any]) -> List[Tuple[int, str]]:
    before = {_key(f): f for f in (previous or {}).get("findings") or []}
    now = {_key(f): f for f in report.get("findings") or []}
    lines = []
    for key, finding in now.items():
        if key not in before:
            lines.append((ERR if finding.get("severity") == "critical" else WARNING,
                          "finding appeared: %s: %s" % (_label(finding), finding.get("message"))))
    for key, finding in before.items():
        if key not in now:
            lines.append((NOTICE, "finding cleared: %s" % _label(finding)))
    return lines


def summary(report: Dict[str, Any], state_dir: str) -> Tuple[int, str]:
    findings = report.get("findings") or []
    critical = sum(1 for f in findings if f.get("severity") == "critical")
    status = report.get("status", "unknown")
    line = "vpce-doctor: %s: %d critical, %d warning across %d services (%.2f s); %s" % (
        status, critical, len(findings) - critical, len(report.get("services") or []),
        (report.get("duration_ms") or 0) / 1000.0, os.path.join(state_dir, LAST))
    # timer mode's cheap runs say plainly that the API evidence is an earlier run's (agent/carry.py)
    carried = [n for n in (report.get("node") or {}).get("notes") or [] if str(n).startswith(CARRIED_NOTE)]
    return STATUS_PRIORITY.get(status, WARNING), line + "".join("; " + n for n in carried[:1])


def record(report: Dict[str, Any], state_dir: str, keep: int, prometheus_dir: Optional[str] = None) -> List[str]:
    """Writes last.json, history/ (newest `keep`) and the Prometheus textfile; returns the journal lines."""
    os.makedirs(os.path.join(state_dir, "history"), exist_ok=True)
    previous = read_last(state_dir)
    content = RENDERERS["json"](report)
    stamp = (report.get("generated_at") or "unknown").replace(":", "").replace("-", "")
    write_atomic(os.path.join(state_dir, "history", "%s.json" % stamp), content)
    write_atomic(os.path.join(state_dir, LAST), content)
    history = sorted(os.listdir(os.path.join(state_dir, "history")))
    for old in history[:-keep] if keep > 0 else history:
        try:
            os.unlink(os.path.join(state_dir, "history", old))
        except OSError:
            pass
    if prometheus_dir:
        write_atomic(os.path.join(prometheus_dir, PROMETHEUS_FILE), RENDERERS["prometheus"](report))
    return ["<%d>%s" % line for line in [summary(report, state_dir)] + changes(previous, report)]
