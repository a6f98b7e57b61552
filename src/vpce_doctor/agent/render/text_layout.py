"""What both text reports (a node's check and preflight) are laid out with: a table of columns
and a numbered finding with its fix. Its own module so each report's renderer stands on it
without reaching into the other."""
from __future__ import annotations

from typing import Any, Dict, List

SEVERITY_WORD = {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"}


def table(rows: List[List[str]]) -> List[str]:
    """Rows as left-aligned columns, two spaces apart, no trailing blanks."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def finding_lines(index: int, finding: Dict[str, Any], about: str) -> List[str]:
    """One numbered finding with its fix, as the text reports (check and preflight) print it."""
    severity = finding["severity"] or "?"  # None only in a saved report read through report_file.normalize
    lines = ["", "%d. [%s] %s (%s)" % (index, SEVERITY_WORD.get(severity, severity), finding["code"], about),
             "   %s" % (finding["message"] or "?"), "   fix: %s" % finding["remediation"]["text"]]
    return lines + ["     $ %s" % command for command in finding["remediation"]["commands"]]
