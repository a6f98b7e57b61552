"""Timer mode (`check --state-dir DIR`): keep last.json and a bounded history, and say in the
journal what changed since the last run instead of repeating the same alarm every 15 minutes.

Lines go to stdout with a `<N>` syslog priority prefix, which journald reads as the priority
(SyslogLevelPrefix=, on by default for a service's output)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from ..core.text import printable
from .render import RENDERERS, write_atomic
from .report_file import ReportFileError, normalize, read_report

ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6
STATUS_PRIORITY = {"ok": INFO, "warn": WARNING, "critical": ERR, "unknown": WARNING}
LAST = "last.json"
PROMETHEUS_FILE = "vpce_doctor.prom"
CARRIED_NOTE = "API and inventory evidence carried over"  # agent/carry.py's note


def _key(finding: Dict[str, Any]) -> Tuple[str, str]:
    return str(finding.get("code", "?")), str(finding.get("service") or "")


def _findings(report: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The findings of a report, skipping what is not one (a last.json someone edited)."""
    found = (report or {}).get("findings")
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _label(finding: Dict[str, Any]) -> str:
    return "%s (%s)" % (finding.get("code"), finding.get("service") or "node")


def read_last(state_dir: str) -> Optional[Dict[str, Any]]:
    try:
        # capped and regular files only: a FIFO or /dev/zero in place of last.json must not hang the timer
        return normalize(read_report(os.path.join(state_dir, LAST)))  # findings as dicts, whatever was there
    except ReportFileError:
        return None  # first run, or a file someone broke: every finding then counts as new


def changes(previous: Optional[Dict[str, Any]], report: Dict[str, Any]) -> List[Tuple[int, str]]:
    before = {_key(f): f for f in _findings(previous)}
    now = {_key(f): f for f in report.get("findings") or []}
    lines = []
    for key, finding in now.items():
        if key not in before:
            lines.append((ERR if finding.get("severity") == "critical" else NOTICE if finding.get("severity") == "info"
                          else WARNING,
                          "finding appeared: %s: %s" % (_label(finding), finding.get("message"))))
    for key, finding in before.items():
        if key not in now:
            lines.append((NOTICE, "finding cleared: %s" % _label(finding)))
    return lines


def summary(report: Dict[str, Any], state_dir: str) -> Tuple[int, str]:
    findings = report.get("findings") or []
    critical = sum(1 for f in findings if f.get("severity") == "critical")
    warning = sum(1 for f in findings if f.get("severity") == "warning")
    status = report.get("status", "unknown")
    line = "vpce-doctor: %s: %d critical, %d warning across %d services (%.2f s); %s" % (
        status, critical, warning, len(report.get("services") or []),
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
    # one journal line per entry: a newline in an API message must not start a forged `<0>` line
    return ["<%d>%s" % (priority, printable(text)) for priority, text in [summary(report, state_dir)] + changes(previous, report)]
