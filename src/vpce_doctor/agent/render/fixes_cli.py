"""The fixes as one reviewable shell script: each finding's text as a comment, then its commands."""
from __future__ import annotations

from typing import Any, Dict


def render(report: Dict[str, Any]) -> str:
    out = ["#!/bin/sh", "# vpce-doctor fixes (%s mode), %s. Review before running: commands with <PLACEHOLDERS>"
           % (report.get("mode", "check"), report.get("generated_at")),
           "# need a value first (the command that finds it comes before them).", "set -eu"]
    for finding in report.get("findings", []):
        remedy = finding["remediation"]
        where = finding.get("service") or "node"
        if finding.get("subnet"):
            where += ", " + finding["subnet"]
        out += ["", "# %s (%s): %s" % (finding["code"], where, finding["message"]), "# fix: %s" % remedy["text"]]
        out += list(remedy["commands"])
    return "\n".join(out) + "\n"
