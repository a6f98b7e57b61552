"""The structured fixes of a report (Remediation.actions) for the code renderers: each
distinct change once, in finding order, and the changes code cannot make (an attribute of a
resource that already exists elsewhere) with the commands that make them."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Tuple

PLACEHOLDER = re.compile(r"^<([A-Z0-9][A-Z0-9+_-]*)>$")
# Kinds a Terraform file / CloudFormation template can create as new resources.
CREATES = ("create_security_group", "create_interface_endpoint", "create_gateway_endpoint", "associate_route_table",
           "security_group_ingress", "private_hosted_zone", "resolver_system_rule")


def placeholder(value: Any) -> str:
    """'<RTB-ID>' -> 'RTB-ID'; '' when the value is a real one."""
    match = PLACEHOLDER.match(value) if isinstance(value, str) else None
    return match.group(1) if match else ""


def collect(report: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(actions to write as code, manual steps); a manual step is {finding, text, commands}."""
    actions, seen, manual = [], set(), []
    for finding in report.get("findings", []):
        remedy = finding.get("remediation") or {}
        steps = [a for a in remedy.get("actions") or [] if a["kind"] not in CREATES]
        for action in remedy.get("actions") or []:
            key = json.dumps(action, sort_keys=True)
            if action["kind"] in CREATES and key not in seen:
                seen.add(key)
                actions.append(action)
        if steps or not remedy.get("actions"):
            label = "%s (%s)" % (finding["code"], finding.get("service") or "node")
            entry = {"finding": label, "text": remedy.get("text", ""), "commands": list(remedy.get("commands") or [])}
            if entry not in manual:
                manual.append(entry)
    return actions, manual


def names(kind_prefix: str, taken: Dict[str, int], hint: str) -> str:
    """A stable, unique identifier from a hint (service id, record name)."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", hint).strip("_").lower() or kind_prefix
    if base[0].isdigit():
        base = "_" + base
    count = taken.get(base, 0)
    taken[base] = count + 1
    return base if count == 0 else "%s_%d" % (base, count + 1)
