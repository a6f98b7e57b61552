"""A fleet's fixes, each once: twelve nodes that all miss the kms endpoint need one endpoint, not
twelve. Findings of many nodes are grouped by the change their fix makes (Remediation.actions:
kind and target, the node's own subnet aside), in one VPC; a fix without structured actions (a
resolver to check, a clock to sync) groups by finding code and service in that VPC. Each group
says how many nodes, subnets and AZs it concerns; the subnets the nodes stand in are merged into
the fix (an interface endpoint wants one subnet per AZ the nodes use).

Built while the reports are read (fleet.load): memory grows with distinct fixes, not with nodes."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
# Action parameters that name the node's own subnet: the same change for every node but for these,
# which the group merges, one subnet per AZ (an interface endpoint takes one subnet in each AZ it
# serves: "in the node's subnet (and one subnet per other AZ your nodes use)", checks/remediation.py),
# with the command-line flag that carries them.
PER_NODE = {"subnet_ids": "--subnet-ids", "add_subnet_ids": "--add-subnet-ids"}
INSTANCES_KEPT = 5  # node names a group lists (the count says the rest)
READ_KEPT = 4096  # distinct findings whose actions are remembered (a bound, whatever the reports hold)


def _change(action: Dict[str, Any]) -> Optional[Tuple[str, str]]:
    """(kind, the change's own parameters, canonical) or None for an action without a kind. The
    parameters are the sorted items' repr: canonical for the JSON values a report holds, and at C
    speed (json.dumps per action took a third of a 10,000-node fleet's time)."""
    kind = action.get("kind")
    if not isinstance(kind, str):
        return None
    params = action.get("params")
    if not isinstance(params, dict):
        return kind, ""
    return kind, repr(sorted(item for item in params.items() if item[0] not in PER_NODE))


def _strings(value: Any) -> List[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class FixGroups:
    """Accumulates each node's findings; `groups()` gives one entry per fix, by severity, then reach."""

    def __init__(self) -> None:
        self._groups: Dict[Any, Dict[str, Any]] = {}
        # Nodes of one subnet write the very same remediation: what a finding's actions say is read
        # once per distinct (code, service, text, commands), not once per node.
        self._read: Dict[Any, Tuple[Tuple[Any, ...], Dict[str, List[str]]]] = {}

    def _changes(self, finding: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, List[str]]]:
        """(the changes the finding's fix makes, {parameter: the node's own subnets})"""
        remedy = _remedy(finding)
        commands = remedy.get("commands")
        try:
            seen = (finding["code"], finding["service"], remedy.get("text"),
                    tuple(commands) if isinstance(commands, list) else None)
            hash(seen)
        except TypeError:  # not strings where strings belong: read it, never remember it
            seen = None
        read = self._read.get(seen) if seen is not None else None
        if read is None:
            actions = _actions(finding)
            read = tuple(sorted(c for c in map(_change, actions) if c is not None)), _per_node(actions)
            if seen is not None and len(self._read) < READ_KEPT:
                self._read[seen] = read
        return read

    def add(self, node: Dict[str, Any], findings: List[Dict[str, Any]]) -> None:
        """One node's findings ({code, service, severity, remediation}); a node counts once per fix."""
        where = (node["region"], node["vpc_id"])
        mine: Dict[Any, List[Tuple[Dict[str, Any], Dict[str, List[str]]]]] = {}
        for finding in findings:
            changes, subnets = self._changes(finding)
            key = where + (changes,) if changes else where + (finding["code"], finding["service"])
            mine.setdefault(key, []).append((finding, subnets))
        for key, found in mine.items():
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = self._new(node, *found[0])
            self._count(group, node, found)

    @staticmethod
    def _new(node: Dict[str, Any], finding: Dict[str, Any], subnets: Dict[str, List[str]]) -> Dict[str, Any]:
        remedy = _remedy(finding)
        return {"severity": finding["severity"] or "?", "findings": [], "region": node["region"],
                "vpc_id": node["vpc_id"], "actions": [a for a in _actions(finding) if _change(a) is not None],
                "text": _text(remedy), "commands": _strings(remedy.get("commands")), "example": node["instance_id"],
                "example_subnets": subnets, "nodes": 0, "instances": [], "subnets": {}, "azs": {},
                "merged": {}, "texts_differ": False}

    @staticmethod
    def _count(group: Dict[str, Any], node: Dict[str, Any],
               found: List[Tuple[Dict[str, Any], Dict[str, List[str]]]]) -> None:
        group["nodes"] += 1
        if len(group["instances"]) < INSTANCES_KEPT:
            group["instances"].append(node["instance_id"])
        group["subnets"][node["subnet_id"] or "?"] = None
        group["azs"][node["availability_zone"] or "?"] = None
        for finding, subnets in found:
            label = "%s (%s)" % (finding["code"], finding["service"] or "node")
            if label not in group["findings"]:
                group["findings"].append(label)
            if SEVERITY_ORDER.get(finding["severity"], 3) < SEVERITY_ORDER.get(group["severity"], 3):
                group["severity"] = finding["severity"]
            if not group["texts_differ"]:
                group["texts_differ"] = _text(_remedy(finding)) != group["text"]
            for name, values in subnets.items():
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


def _per_node(actions: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """{parameter: subnets} of the actions' parameters that name the node's own subnets."""
    found: Dict[str, List[str]] = {}
    for action in actions:
        params = action.get("params")
        if not isinstance(params, dict):
            continue
        for name in PER_NODE:
            for value in _strings(params.get(name)):
                if value not in found.setdefault(name, []):
                    found[name].append(value)
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
