"""node-problem-detector's custom plugin contract: one short line on stdout and an exit code.

NPD reads exit 0 as OK (the node condition goes False), 1 as NonOK (True, with our line as its
message) and anything else as Unknown; it keeps at most `max_output_length` bytes of stdout
(the Go code slices bytes, so a cut could split a UTF-8 character: the line is plain ASCII).
Our own codes are 0 ok, 1 warn, 2 critical, 3 unknown; warnings become a problem only when the
operator says so (`--npd-warn-as-problem`), since NPD has no middle state.

The line must not change while the node's state does not: NPD (with message-change-based
updates on) patches the node and emits an event on every new message, so it names codes and
services only, never durations or addresses."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

NPD_OK, NPD_PROBLEM, NPD_UNKNOWN = 0, 1, 2
DEFAULT_MAX_LENGTH = 80  # NPD's own default max_output_length
# Worst first; a severity another version adds (e.g. "info") ranks below warning.
SEVERITY_RANK = {"critical": 3, "warning": 2}


def exit_code(status: Optional[str], warn_as_problem: bool = False) -> int:
    if status == "ok":
        return NPD_OK
    if status == "critical":
        return NPD_PROBLEM
    if status == "warn":
        return NPD_PROBLEM if warn_as_problem else NPD_OK
    return NPD_UNKNOWN  # "unknown", or a status word this version does not know


def clean(text: str) -> str:
    """Printable ASCII on one line: no control character reaches the node object."""
    chars = [c if " " <= c <= "~" else ("?" if ord(c) > 127 else " ") for c in str(text)]
    return " ".join("".join(chars).split())


def fit(head: str, names: Sequence[str], tail: str, max_length: int, brackets: str = "") -> str:
    """`head` + as many of `names` as fit + "+N more" + `tail`, within max_length bytes."""
    opening, closing = (brackets[0], brackets[1]) if brackets else ("", "")
    for ending in (tail, ""):  # the services matter more than the count of other findings
        for shown in range(len(names), -1, -1):
            listed = ", ".join(names[:shown])
            more = len(names) - shown
            if more:
                listed = (listed + " +%d more" % more) if listed else "%d services" % len(names)
            line = head + (opening + listed + closing if listed else "") + ending
            if len(line) <= max_length:
                return line
    return head.rstrip()[:max_length].rstrip()


def _worst_code(findings: List[Dict[str, Any]], required: Dict[str, bool]) -> Optional[str]:
    """The code that matters most: most severe, then node-wide or hitting a required service,
    then hitting the most services; the name breaks ties so the line is stable."""
    by_code: Dict[str, List[Dict[str, Any]]] = {}
    for finding in findings:
        by_code.setdefault(str(finding.get("code") or "?"), []).append(finding)

    def rank(code: str):
        group = by_code[code]
        severity = max(SEVERITY_RANK.get(f.get("severity"), 0) for f in group)
        wide = any(not f.get("service") or required.get(f.get("service"), False) for f in group)
        return (-severity, not wide, -len(group), code)

    return min(by_code, key=rank) if by_code else None


def line(report: Dict[str, Any], max_length: int = DEFAULT_MAX_LENGTH) -> str:
    status = clean(report.get("status") or "unknown")
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    services = report.get("services") or []
    required = {s.get("id"): bool(s.get("required")) for s in services}
    code = _worst_code(findings, required)
    if status == "unknown" and not any(SEVERITY_RANK.get(f.get("severity"), 0) for f in findings):
        code = None  # what could not run says more than an informational finding
    if code is not None:
        same = [f for f in findings if str(f.get("code") or "?") == code]
        worst = max(SEVERITY_RANK.get(f.get("severity"), 0) for f in same)
        hit = [f for f in same if SEVERITY_RANK.get(f.get("severity"), 0) == worst]
        names = [clean(f.get("service") or "node") for f in hit]
        others = len(findings) - len(hit)
        tail = "; %d more finding%s" % (others, "" if others == 1 else "s") if others else ""
        # "code (service, ...)" as in the journal lines (agent/history.py)
        return fit("%s: %s " % (status, clean(code)), names, tail, max_length, brackets="()")
    if status == "unknown":
        stuck = ["%s %s" % (s.get("id"), c.get("check")) for s in services for c in s.get("checks") or []
                 if c.get("state") != "done"]
        stuck += [str(c.get("check")) for c in report.get("checks") or [] if c.get("state") not in ("done", "skipped")]
        if stuck:
            return fit("unknown: could not run: ", [clean(s) for s in stuck], "", max_length)
        return fit("unknown: a check could not run", [], "", max_length)
    return fit("%s: %d services reachable through their endpoints" % (status, len(services)), [], "", max_length)


def render(report: Dict[str, Any], max_length: int = DEFAULT_MAX_LENGTH) -> str:
    return line(report, max_length) + "\n"


def failed(reason: str, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """The line for a run that could not happen (bad settings, unwritable state)."""
    return fit("unknown: vpce-doctor could not run: %s" % clean(reason), [], "", max_length) + "\n"
