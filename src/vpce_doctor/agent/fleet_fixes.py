"""A fleet's fixes, each once: twelve nodes that all miss the kms endpoint need one endpoint, not
twelve. Findings of many nodes are grouped by the change their fix makes (Remediation.actions:
kind and target, the node's own subnet aside), in one VPC; a fix without structured actions (a
resolver to check, a clock to sync) groups by finding code and service in that VPC. Each group
says how many nodes, subnets and AZs it concerns; the subnets the nodes stand in are merged into
the fix (an interface endpoint wants one subnet per AZ the nodes use).

Built while the reports are read (fleet.load): memory grows with distinct fixes, not with nodes."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
# Action parameters that name the node's own subnet: the same change for every node but for these,
# which the group merges, one subnet per AZ (an interface endpoint takes one subnet in each AZ it
# serves: "in the node's subnet (and one subnet per other AZ your nodes use)", checks/remediation.py),
# with the command-line flag that carries them.
PER_NODE = {"subnet_ids": "--subnet-ids", "add_subnet_ids": "--add-subnet-ids"}
INSTANCES_KEPT = 5  # node names a group lists (the count says the rest)


def _change(action: Any) -> Optional[Tuple[str, str]]:
    """(kind, the change's own parameters as canonical JSON) or None for a malformed action."""
    if not isinstance(action, dict) or not isinstance(action.get("kind"), str):
        return None
    params = action.get("params") if isinstance(action.get("params"), dict) else {}
    try:
        return action["kind"], json.dumps({k: v for k, v in params.items() if k not in PER_NODE}, sort_keys=True)
    except (TypeError, ValueError):  # a value JSON cannot write back (a report from elsewhere)
        return None


def _strings(value: Any) -> List[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class FixGroups:
    """Accumulates each node's findings; `groups()` gives one entry per fix, by severity, then reach."""

    def __init__(self) -> None:
        self._groups: Dict[Any, Dict[str, Any]] = {}

    @staticmethod
    def _key(node: Dict[str, Any], finding: Dict[str, Any]) -> Any:
        changes = tuple(sorted(c for c in (_change(a) for a in _actions(finding)) if c is not None))
        where = (node["region"], node["vpc_id"])
        return where + (changes,) if changes else where + (finding["code"], finding["service"])

    def add(self, node: Dict[str, Any], findings: List[Dict[str, Any]]) -> None:
        """One node's findings ({code, service, severity, remediation}); a node counts once per fix."""
        mine: Dict[Any, List[Dict[str, Any]]] = {}
        for finding in findings:
            mine.setdefault(self._key(node, finding), []).append(finding)
        for key, found in mine.items():
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = self._new(node, found[0])
            self._count(group, node, found)

    @staticmethod
    def _new(node: Dict[str, Any], finding: Dict[str, Any]) -> Dict[str, Any]:
        remedy = _remedy(finding)
        return {"severity": finding["severity"] or "?", "findings": [], "region": node["region"],
                "vpc_id": node["vpc_id"], "actions": [a for a in _actions(finding) if _change(a) is not None],
                "text": _text(remedy), "commands": _strings(remedy.get("commands")), "example": node["instance_id"],
                "example_subnets": _per_node(finding), "nodes": 0, "instances": [], "subnets": {}, "azs": {},
                "merged": {}, "texts_differ": False}

    @staticmethod
    def _count(group: Dict[str, Any], node: Dict[str, Any], found: List[Dict[str, Any]]) -> None:
        group["nodes"] += 1
        if len(group["instances"]) < INSTANCES_KEPT:
            group["instances"].append(node["instance_id"])
        group["subnets"][node["subnet_id"] or "?"] = None
        group["azs"][node["availability_zone"] or "?"] = None
        for finding in found:
            label = "%s (%s)" % (finding["code"], finding["service"] or "node")
            if label not in group["findings"]:
                group["findings"].append(label)
            if SEVERITY_ORDER.get(finding["severity"], 3) < SEVERITY_ORDER.get(group["severity"], 3):
                group["severity"] = finding["severity"]
            group["texts_differ"] = group["texts_differ"] or _text(_remedy(finding)) != group["text"]
            for name, values in _per_node(finding).items():
                for value in values:  # the node's own subnet stands for its AZ; any other for itself
                    slot = node["availability_zone"] if value == node["subnet_id"] else value
                    group["merged"].setdefault(name, {}).setdefault(slot, value)

    def groups(self) -> List[Dict[str, Any]]:
        out = []
        for group in self._groups.values():
            shown = dict(group, subnets=sorted(group["subnets"]), azs=sorted(group["azs"]),
                         merged={k: sorted(set(v.values())) for k, v in group["merged"].items()})
            shown["what"] = what(shown)
            shown["commands"], shown["commands_merged"] = _merged_commands(shown)
            del shown["example_subnets"]
            out.append(shown)
        return sorted(out, key=lambda g: (SEVERITY_ORDER.get(g["severity"], 3), -g["nodes"], g["findings"]))


def _remedy(finding: Dict[str, Any]) -> Dict[str, Any]:
    remedy = finding.get("remediation")
    return remedy if isinstance(remedy, dict) else {}


def _actions(finding: Dict[str, Any]) -> List[Dict[str, Any]]:
    actions = _remedy(finding).get("actions")
    return [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []


def _per_node(finding: Dict[str, Any]) -> Dict[str, List[str]]:
    """{parameter: subnets} of the finding's actions that name the node's own subnets."""
    found: Dict[str, List[str]] = {}
    for action in _actions(finding):
        params = action.get("params") if isinstance(action.get("params"), dict) else {}
        for name in PER_NODE:
            found.setdefault(name, []).extend(v for v in _strings(params.get(name)) if v not in found.get(name, []))
    return {k: v for k, v in found.items() if v}


def _merged_commands(group: Dict[str, Any]) -> Tuple[List[str], bool]:
    """The example node's commands with its own subnets replaced by the group's, where the command
    carries them as remediation.py writes them; (commands, whether any was replaced)."""
    from ..checks.remediation import q

    commands, replaced = list(group["commands"]), False
    for name, flag in PER_NODE.items():
        mine, merged = group["example_subnets"].get(name), group["merged"].get(name)
        if not mine or not merged or mine == merged:
            continue
        old, new = "%s %s" % (flag, " ".join(q(s) for s in mine)), "%s %s" % (flag, " ".join(q(s) for s in merged))
        replaced = replaced or any(old in c for c in commands)
        commands = [c.replace(old, new) for c in commands]
    return commands, replaced


def _text(remedy: Dict[str, Any]) -> str:
    return remedy["text"] if isinstance(remedy.get("text"), str) else ""


def _phrase(action: Dict[str, Any], merged: Dict[str, List[str]]) -> Optional[str]:
    """The change in a few words, or None for a kind without a phrase here."""
    kind = action["kind"]
    p = action["params"] if isinstance(action.get("params"), dict) else {}
    get = lambda name: str(p.get(name) or "?")  # noqa: E731 - one lookup, read as a word
    if kind == "create_interface_endpoint":
        return "create the %s interface endpoint in %s" % (get("service_id"), get("vpc_id"))
    if kind == "create_gateway_endpoint":
        return "create the %s gateway endpoint in %s" % (get("service_id"), get("vpc_id"))
    if kind == "associate_route_table":
        return "associate route table %s with %s" % (get("route_table_id"), get("vpc_endpoint_id"))
    if kind == "modify_endpoint" and p.get("private_dns_enabled"):
        return "turn on private DNS for %s" % get("vpc_endpoint_id")
    if kind == "modify_endpoint" and p.get("add_subnet_ids"):
        return "add %s to %s" % (", ".join(merged.get("add_subnet_ids") or _strings(p.get("add_subnet_ids"))),
                                 get("vpc_endpoint_id"))
    if kind == "security_group_ingress":
        return "allow TCP %s from %s on %s" % (get("port"), get("cidr"), get("security_group_id"))
    if kind == "vpc_dns_attributes":
        return "turn on DNS support and DNS hostnames in %s" % get("vpc_id")
    if kind == "private_hosted_zone":
        return "create a private hosted zone for %s in %s" % (get("name"), get("vpc_id"))
    if kind == "resolver_system_rule":
        return "add a Resolver system rule for %s in %s" % (get("domain_name"), get("vpc_id"))
    if kind == "eks_endpoint_access":
        return "turn on private access to the EKS API endpoint of %s" % get("cluster_name")
    return None


def what(group: Dict[str, Any]) -> str:
    """What the fix does, in a few words: from its actions (a security group made for an endpoint
    is part of that endpoint), else the first sentence of its text."""
    actions = group["actions"]
    main = [a for a in actions if a["kind"] != "create_security_group"] or actions
    phrases = [p for p in (_phrase(a, group["merged"]) for a in main) if p]
    if phrases:
        return "; ".join(dict.fromkeys(phrases))
    first = group["text"].split(". ", 1)[0].rstrip(".")
    return first or "see the node reports"
