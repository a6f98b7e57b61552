"""The fixes as a CloudFormation template (JSON): new endpoints, the security group and its
ingress rules, private hosted zones with alias records, Resolver SYSTEM rules; placeholders
become Parameters. What a template cannot do (change a resource that exists outside it:
private DNS on an endpoint, a route table on an existing gateway endpoint, VPC DNS
attributes) is listed under Metadata with the CLI commands. Checked with cfn-lint in the tests."""
from __future__ import annotations

import json
import re
from typing import Any, Dict

from .fix_actions import collect, names, placeholder


def _logical(taken: Dict[str, int], prefix: str, hint: str) -> str:
    return prefix + "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", names(prefix, taken, hint)) if w)


def render(report: Dict[str, Any]) -> str:
    actions, manual = collect(report)
    parameters: Dict[str, Any] = {}
    resources: Dict[str, Any] = {}
    taken: Dict[str, int] = {}
    group = None

    def v(value: Any) -> Any:
        if isinstance(value, list):
            return [v(x) for x in value]
        name = placeholder(value)
        if not name:
            return value
        logical = "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", name) if w)
        parameters.setdefault(logical, {"Type": "String", "Description": "vpce-doctor could not know <%s>" % name})
        return {"Ref": logical}

    for action in actions:
        p, kind = action["params"], action["kind"]
        if kind == "create_security_group":
            group = _logical(taken, "SecurityGroup", "vpce https")
            resources[group] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": p["description"], "VpcId": v(p["vpc_id"]),
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": p["port"], "ToPort": p["port"],
                                          "CidrIp": v(cidr)} for cidr in p["ingress_cidrs"]]}}
        elif kind in ("create_interface_endpoint", "create_gateway_endpoint"):
            props: Dict[str, Any] = {"VpcId": v(p["vpc_id"]), "ServiceName": p["service_name"]}
            if kind == "create_interface_endpoint":
                props.update(VpcEndpointType="Interface", SubnetIds=v(p["subnet_ids"]), PrivateDnsEnabled=True,
                             SecurityGroupIds=[{"Ref": group} if g == "<SG-ID>" and group else v(g)
                                               for g in p["security_group_ids"]])
            else:
                props.update(VpcEndpointType="Gateway", RouteTableIds=v(p["route_table_ids"]))
            resources[_logical(taken, "Endpoint", p["service_id"])] = {"Type": "AWS::EC2::VPCEndpoint",
                                                                        "Properties": props}
        elif kind == "security_group_ingress":
            resources[_logical(taken, "Ingress", p["security_group_id"])] = {
                "Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                    "GroupId": v(p["security_group_id"]), "IpProtocol": "tcp", "FromPort": p["port"],
                    "ToPort": p["port"], "CidrIp": v(p["cidr"])}}
        elif kind == "private_hosted_zone":
            zone = _logical(taken, "Zone", p["name"])
            resources[zone] = {"Type": "AWS::Route53::HostedZone", "Properties": {
                "Name": p["name"], "VPCs": [{"VPCId": v(p["vpc_id"]), "VPCRegion": p["region"]}]}}
            resources[zone + "Record"] = {"Type": "AWS::Route53::RecordSet", "Properties": {
                "HostedZoneId": {"Ref": zone}, "Name": p["name"], "Type": "A",
                "AliasTarget": {"DNSName": v(p["alias_dns_name"]), "HostedZoneId": v(p["alias_hosted_zone_id"]),
                                "EvaluateTargetHealth": False}}}
        elif kind == "resolver_system_rule":
            rule = _logical(taken, "ResolverRule", p["domain_name"])
            resources[rule] = {"Type": "AWS::Route53Resolver::ResolverRule", "Properties": {
                "DomainName": p["domain_name"], "RuleType": "SYSTEM"}}
            resources[rule + "Association"] = {"Type": "AWS::Route53Resolver::ResolverRuleAssociation", "Properties": {
                "ResolverRuleId": {"Fn::GetAtt": [rule, "ResolverRuleId"]}, "VPCId": v(p["vpc_id"])}}
        elif kind == "associate_route_table":
            # no resource attaches a route table to an endpoint that exists outside the template
            manual.insert(0, {"finding": "gateway route", "text": "add route table %s to endpoint %s"
                              % (p["route_table_id"], p["vpc_endpoint_id"]),
                              "commands": ["aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --add-route-table-ids %s"
                                           % (p["vpc_endpoint_id"], p["route_table_id"])]})
    template: Dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "vpce-doctor fixes (%s mode, %s): review before deploying"
                       % (report.get("mode", "check"), report.get("generated_at")),
    }
    if manual:
        template["Metadata"] = {"VpceDoctorManualSteps": manual}
    if parameters:
        template["Parameters"] = parameters
    if not resources:
        # a template needs one resource; with nothing to create, a wait-condition handle is the
        # cheapest valid one (it creates nothing in the account)
        resources["NothingToCreate"] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    template["Resources"] = resources
    return json.dumps(template, indent=2) + "\n"
