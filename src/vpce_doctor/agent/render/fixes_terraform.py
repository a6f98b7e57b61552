"""The fixes as Terraform for the AWS provider: new resources (endpoints, the security group
and its rules, route table associations, private hosted zones, Resolver SYSTEM rules) filled
in with this VPC's ids; placeholders become variables; changes to resources that already
exist elsewhere are comments with the CLI commands (Terraform cannot patch what it does not own).

Resource types and arguments are limited to what the provider documents (registry.terraform.io/
providers/hashicorp/aws/latest/docs); tests/preflight/test_fix_code.py holds that list.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

from .fix_actions import collect, names, placeholder


class _Raw(str):
    """An HCL expression (a reference), written without quotes."""


def _value(value: Any, variables: Dict[str, str]) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, variables) for v in value) + "]"
    name = placeholder(value)
    if name:
        variable = name.lower().replace("-", "_").replace("+", "_plus_")
        variables.setdefault(variable, "<%s>" % name)
        return "var.%s" % variable
    return json.dumps(str(value)).replace("${", "$${").replace("%{", "%%{")


def _block(kind: str, labels: List[str], body: List[Any], variables: Dict[str, str], indent: str = "") -> List[str]:
    head = indent + kind + "".join(' "%s"' % label for label in labels) + " {"
    lines = [head]
    for key, value in body:
        if isinstance(value, list) and value and isinstance(value[0], tuple):  # a nested block
            lines += _block(key, [], value, variables, indent + "  ")
        else:
            lines.append("%s  %s = %s" % (indent, key, _value(value, variables)))
    lines.append(indent + "}")
    return lines


def render(report: Dict[str, Any]) -> str:
    actions, manual = collect(report)
    variables: Dict[str, str] = {}
    taken: Dict[str, int] = {}
    blocks: List[List[str]] = []
    group_ref = None
    region = (report.get("node") or {}).get("region") or "<REGION>"
    for action in actions:
        p = action["params"]
        kind = action["kind"]
        if kind == "create_security_group":
            name = names("sg", taken, "vpce_https")
            group_ref = _Raw("aws_security_group.%s.id" % name)
            blocks.append(_block("resource", ["aws_security_group", name], [
                ("name_prefix", p["group_name"] + "-"), ("description", p["description"]), ("vpc_id", p["vpc_id"])],
                variables))
            for cidr in p["ingress_cidrs"]:
                blocks.append(_block("resource", ["aws_security_group_rule", names("rule", taken, name + "_443")], [
                    ("type", "ingress"), ("from_port", p["port"]), ("to_port", p["port"]), ("protocol", "tcp"),
                    ("cidr_blocks", [cidr]), ("security_group_id", group_ref)], variables))
        elif kind == "create_interface_endpoint":
            groups = [group_ref if g == "<SG-ID>" and group_ref else g for g in p["security_group_ids"]]
            blocks.append(_block("resource", ["aws_vpc_endpoint", names("vpce", taken, p["service_id"])], [
                ("vpc_id", p["vpc_id"]), ("service_name", p["service_name"]), ("vpc_endpoint_type", "Interface"),
                ("subnet_ids", p["subnet_ids"]), ("security_group_ids", groups),
                ("private_dns_enabled", p["private_dns_enabled"])], variables))
        elif kind == "create_gateway_endpoint":
            blocks.append(_block("resource", ["aws_vpc_endpoint", names("vpce", taken, p["service_id"])], [
                ("vpc_id", p["vpc_id"]), ("service_name", p["service_name"]), ("vpc_endpoint_type", "Gateway"),
                ("route_table_ids", p["route_table_ids"])], variables))
        elif kind == "associate_route_table":
            blocks.append(_block("resource", ["aws_vpc_endpoint_route_table_association",
                                              names("rta", taken, p["route_table_id"])], [
                ("vpc_endpoint_id", p["vpc_endpoint_id"]), ("route_table_id", p["route_table_id"])], variables))
        elif kind == "security_group_ingress":
            blocks.append(_block("resource", ["aws_security_group_rule", names("rule", taken, p["security_group_id"] + "_443")], [
                ("type", "ingress"), ("from_port", p["port"]), ("to_port", p["port"]), ("protocol", "tcp"),
                ("cidr_blocks", [p["cidr"]]), ("security_group_id", p["security_group_id"])], variables))
        elif kind == "private_hosted_zone":
            zone = names("zone", taken, p["name"])
            blocks.append(_block("resource", ["aws_route53_zone", zone], [
                ("name", p["name"]), ("vpc", [("vpc_id", p["vpc_id"]), ("vpc_region", p["region"])])], variables))
            blocks.append(_block("resource", ["aws_route53_record", zone], [
                ("zone_id", _Raw("aws_route53_zone.%s.zone_id" % zone)), ("name", p["name"]), ("type", "A"),
                ("alias", [("name", p["alias_dns_name"]), ("zone_id", p["alias_hosted_zone_id"]),
                           ("evaluate_target_health", False)])], variables))
        elif kind == "resolver_system_rule":
            rule = names("rule", taken, p["domain_name"])
            blocks.append(_block("resource", ["aws_route53_resolver_rule", rule], [
                ("domain_name", p["domain_name"]), ("rule_type", "SYSTEM"), ("name", "vpce-doctor-" + rule[:40])],
                variables))
            blocks.append(_block("resource", ["aws_route53_resolver_rule_association", rule], [
                ("resolver_rule_id", _Raw("aws_route53_resolver_rule.%s.id" % rule)), ("vpc_id", p["vpc_id"])],
                variables))
    out = ["# vpce-doctor fixes as Terraform (%s mode, %s). Review, then terraform plan."
           % (report.get("mode", "check"), report.get("generated_at")), ""]
    out += _block("terraform", [], [("required_providers", [("aws", _Raw('{ source = "hashicorp/aws" }'))])], variables)
    out += [""] + _block("provider", ["aws"], [("region", region)], variables)
    for name, shown in sorted(variables.items()):
        out += ["", 'variable "%s" {' % name, "  type        = string",
                "  description = %s" % json.dumps("vpce-doctor could not know %s: fill it in" % shown), "}"]
    for block in blocks:
        out += [""] + block
    for step in manual:
        out += ["", "# %s: not expressible as new Terraform resources (it changes something that exists, or is "
                    "a node setting)." % step["finding"], "# %s" % step["text"]]
        out += ["#   %s" % c for c in step["commands"]]
    return "\n".join(out) + "\n"
