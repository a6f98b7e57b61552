"""Fixes as code: the Terraform parses as HCL (python-hcl2) and uses only resource types and
arguments the AWS provider documents; the CloudFormation template passes cfn-lint; the CLI
script holds every command of every finding. Over the preflight reports of every scenario,
and over a node check's report."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from vpce_doctor.agent.render import RENDERERS
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli
from .conftest import ALL

# The arguments each generated resource type may use, from the provider documentation
# (registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/<type without aws_>).
TERRAFORM_ARGUMENTS = {
    "aws_vpc_endpoint": {"vpc_id", "service_name", "vpc_endpoint_type", "auto_accept", "policy", "private_dns_enabled",
                         "dns_options", "ip_address_type", "route_table_ids", "subnet_ids", "subnet_configuration",
                         "security_group_ids", "tags", "service_region", "resource_configuration_arn",
                         "service_network_arn"},
    "aws_vpc_endpoint_route_table_association": {"route_table_id", "vpc_endpoint_id"},
    "aws_security_group": {"name", "name_prefix", "description", "egress", "ingress", "revoke_rules_on_delete", "tags",
                           "vpc_id"},
    "aws_security_group_rule": {"type", "from_port", "to_port", "protocol", "cidr_blocks", "ipv6_cidr_blocks",
                                "prefix_list_ids", "security_group_id", "source_security_group_id", "self",
                                "description"},
    "aws_route53_zone": {"name", "comment", "delegation_set_id", "force_destroy", "tags", "vpc"},
    "aws_route53_record": {"zone_id", "name", "type", "ttl", "records", "set_identifier", "health_check_id", "alias",
                           "allow_overwrite", "multivalue_answer_routing_policy"},
    "aws_route53_resolver_rule": {"domain_name", "rule_type", "name", "resolver_endpoint_id", "target_ip", "tags"},
    "aws_route53_resolver_rule_association": {"resolver_rule_id", "vpc_id", "name"},
}
NESTED = {("aws_route53_zone", "vpc"): {"vpc_id", "vpc_region"},
          ("aws_route53_record", "alias"): {"name", "zone_id", "evaluate_target_health"}}
# scenarios whose fixes create or change something (the others' code is a header only)
WITH_FIXES = ("nothing-at-all", "s3-gateway-missing", "private-dns-off", "sg-drops-443", "az-missing",
              "resolver-rule-amazonaws", "dns-support-off", "cluster-endpoint-public", "policy-denied",
              "s3-gateway-other-route-table")


def _unquote(text):
    return text.strip('"')


def check_terraform(text):
    import hcl2

    parsed = hcl2.loads(text)
    declared = {_unquote(name) for block in parsed.get("variable", []) for name in block}
    used = set(re.findall(r"\bvar\.([a-z0-9_]+)", text))
    assert used <= declared, "undeclared variables: %s" % (used - declared)
    types = []
    for block in parsed.get("resource", []):
        for rtype, named in block.items():
            rtype = _unquote(rtype)
            assert rtype in TERRAFORM_ARGUMENTS, "resource type %s is not one we checked against the docs" % rtype
            for body in named.values():
                for argument, value in body.items():
                    if argument == "__is_block__":
                        continue
                    assert argument in TERRAFORM_ARGUMENTS[rtype], "%s.%s" % (rtype, argument)
                    if (rtype, argument) in NESTED:
                        for nested in value:
                            assert set(nested) - {"__is_block__"} <= NESTED[(rtype, argument)]
                types.append(rtype)
    return types


@pytest.mark.integration
@pytest.mark.parametrize("name", WITH_FIXES)
def test_terraform_parses_and_uses_documented_arguments(name, preflight_runs):
    report = preflight_runs[name][0]
    text = RENDERERS["fixes-terraform"](report)
    types = check_terraform(text)
    creates = [a for f in report["findings"] for a in f["remediation"].get("actions", [])
               if a["kind"].startswith(("create", "associate", "security_group", "private_hosted", "resolver"))]
    assert bool(types) == bool(creates)
    # filled in with this VPC's ids, as resources or as the commands of a change code cannot own
    ids = {v for f in report["findings"] for a in f["remediation"].get("actions", []) for k, v in a["params"].items()
           if k in ("vpc_id", "vpc_endpoint_id", "route_table_id", "security_group_id", "cluster_name")}
    assert all(i in text for i in ids)
    # a fix with no structured change (an endpoint policy to write) keeps its commands, as comments
    for finding in report["findings"]:
        if not finding["remediation"].get("actions"):
            assert all("#   " + c in text for c in finding["remediation"]["commands"])


def test_terraform_for_each_kind_of_change():
    """Every kind of action a finding can carry, in one report: types and arguments as documented."""
    report = {"mode": "preflight", "generated_at": "2026-01-01T00:00:00Z", "node": {"region": "eu-west-1"},
              "findings": [_finding(kind, params) for kind, params in ACTIONS]}
    types = check_terraform(RENDERERS["fixes-terraform"](report))
    assert set(types) == set(TERRAFORM_ARGUMENTS)
    text = RENDERERS["fixes-terraform"](report)
    assert 'variable "rtb_id"' in text and "aws_security_group.vpce_https.id" in text
    assert "# vpc_dns_disabled (node)" in text  # a change Terraform cannot own, with its commands


ACTIONS = [
    ("create_security_group", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "group_name": "vpce-https",
                               "description": "HTTPS", "ingress_cidrs": ["10.0.0.0/16"], "port": 443}),
    ("create_interface_endpoint", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "service_id": "ecr.api",
                                   "service_name": "com.amazonaws.eu-west-1.ecr.api", "subnet_ids": ["subnet-0123456789abcdef0"],
                                   "security_group_ids": ["<SG-ID>"], "private_dns_enabled": True}),
    ("create_gateway_endpoint", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "service_id": "s3",
                                 "service_name": "com.amazonaws.eu-west-1.s3", "route_table_ids": ["<RTB-ID>"]}),
    ("associate_route_table", {"region": "eu-west-1", "vpc_endpoint_id": "vpce-0123456789abcdef0", "route_table_id": "rtb-0123456789abcdef2"}),
    ("security_group_ingress", {"region": "eu-west-1", "security_group_id": "sg-0123456789abcdef0", "cidr": "10.0.0.0/16",
                                "port": 443}),
    ("private_hosted_zone", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "name": "sts.eu-west-1.amazonaws.com",
                             "alias_dns_name": "vpce-0123456789abcdef0-abcdefgh.sts.eu-west-1.vpce.amazonaws.com",
                             "alias_hosted_zone_id": "Z7HUB22UULQXV"}),
    ("resolver_system_rule", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "domain_name": "sts.eu-west-1.amazonaws.com"}),
    ("vpc_dns_attributes", {"region": "eu-west-1", "vpc_id": "vpc-0123456789abcdef0", "enable_dns_support": True,
                            "enable_dns_hostnames": True}),
]


def _finding(kind, params):
    code = "vpc_dns_disabled" if kind == "vpc_dns_attributes" else "endpoint_missing"
    return {"code": code, "service": None, "severity": "critical", "message": kind, "subnet": None,
            "remediation": {"text": kind, "commands": ["aws ec2 describe-vpcs"], "actions": [{"kind": kind, "params": params}]}}


def _cfn_lint():
    exe = shutil.which("cfn-lint", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("cfn-lint is not installed for this Python (see pyproject's test extra)")
    return exe


@pytest.mark.integration
def test_cloudformation_passes_cfn_lint(preflight_runs, tmp_path):
    exe = _cfn_lint()
    paths = []
    for name in WITH_FIXES:
        path = tmp_path / ("%s.json" % name)
        path.write_text(RENDERERS["fixes-cloudformation"](preflight_runs[name][0]))
        paths.append(str(path))
    every = tmp_path / "every-kind.json"
    every.write_text(RENDERERS["fixes-cloudformation"]({
        "mode": "preflight", "generated_at": "2026-01-01T00:00:00Z", "node": {"region": "eu-west-1"},
        "findings": [_finding(kind, params) for kind, params in ACTIONS]}))
    paths.append(str(every))
    done = subprocess.run([exe, "--regions", "us-east-1", "--", *paths], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    template = json.loads(every.read_text())
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
            "AWS::Route53::HostedZone", "AWS::Route53::RecordSet", "AWS::Route53Resolver::ResolverRule",
            "AWS::Route53Resolver::ResolverRuleAssociation"} <= kinds
    # what a template cannot change is listed with its commands, not dropped
    steps = template["Metadata"]["VpceDoctorManualSteps"]
    assert any("rtb-0123456789abcdef2" in " ".join(s["commands"]) for s in steps)
    assert any(s["finding"].startswith("vpc_dns_disabled") for s in steps)


def test_gateway_route_missing_carries_its_change_for_the_node_check_too():
    from vpce_doctor.checks import remediation as fix
    from vpce_doctor.core.model import to_jsonable

    where = fix.Where(region="eu-west-1", vpc_id="vpc-1", subnet_id="subnet-1", vpc_cidrs=("10.0.0.0/16",))
    known = fix.gateway_route_missing(where, "s3", "vpce-0123456789abcdef0", "rtb-0123456789abcdef2")
    assert [(a.kind, a.params) for a in known.actions] == [("associate_route_table", {
        "region": "eu-west-1", "vpc_endpoint_id": "vpce-0123456789abcdef0", "route_table_id": "rtb-0123456789abcdef2"})]
    unknown = fix.gateway_route_missing(where, "s3", "vpce-0123456789abcdef0", None)  # the table was not readable
    assert unknown.actions[0].params["route_table_id"] == "<RTB-ID>"
    assert 'variable "rtb_id"' in RENDERERS["fixes-terraform"]({
        "mode": "check", "generated_at": "2026-01-01T00:00:00Z", "node": {"region": "eu-west-1"},
        "findings": [{"code": "gateway_route_missing", "service": "s3", "severity": "critical", "message": "m",
                      "subnet": None, "remediation": to_jsonable(unknown)}]})


@pytest.mark.integration
def test_gateway_on_another_route_table_becomes_a_route_table_association():
    """gateway_route_missing's fix as Terraform, through the real command line: the existing gateway
    endpoint joined to the node subnet's own route table, both ids filled in."""
    import hcl2

    from .conftest import Moto

    with Moto(ALL["s3-gateway-other-route-table"]) as moto:
        done = moto.preflight("--fix-format", "terraform")
        ec2 = moto.aws._ec2()
        gateway = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}])
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id",
                                                      "Values": [moto.aws.subnet_ids["a"]]}])
    assert done.returncode == 2, done.stderr
    endpoint_id = gateway["VpcEndpoints"][0]["VpcEndpointId"]
    node_table = tables["RouteTables"][0]["RouteTableId"]
    assert node_table not in gateway["VpcEndpoints"][0]["RouteTableIds"]
    assert check_terraform(done.stdout) == ["aws_vpc_endpoint_route_table_association"]
    (resource,) = [body for block in hcl2.loads(done.stdout)["resource"] for named in block.values()
                   for body in named.values()]
    assert (_unquote(resource["vpc_endpoint_id"]), _unquote(resource["route_table_id"])) == (endpoint_id, node_table)


@pytest.mark.integration
def test_cli_script_holds_every_fix_command(preflight_runs):
    report = preflight_runs["nothing-at-all"][0]
    script = RENDERERS["fixes-cli"](report)
    for finding in report["findings"]:
        for command in finding["remediation"]["commands"]:
            assert command in script


@pytest.mark.integration
@pytest.mark.parametrize("name, types", [
    # no ec2 endpoint, so the node cannot read the inventory: each interface fix is "create an endpoint, or turn
    # on the private DNS of one that exists"; as code, the likelier one: the security group it needs and the
    # 11 interface endpoints, then S3's gateway
    ("nothing-at-all", ["aws_security_group", "aws_security_group_rule"] + ["aws_vpc_endpoint"] * 12),
    ("s3-gateway-other-route-table", ["aws_vpc_endpoint_route_table_association"]),
])
def test_node_check_fix_format(name, types, dns_backend, tmp_path):
    """The node check gets the same option: its findings' fixes as Terraform and CloudFormation."""
    with World(SCENARIOS[name], dns_backend=dns_backend) as world:
        args = ["check", *world.cli_args(timeout=SCENARIO_TIMEOUT)]
        terraform = run_cli(args + ["--fix-format", "terraform"])
        template = run_cli(args + ["--fix-format", "cloudformation", "--output", str(tmp_path / "node.json")])
        report = json.loads(run_cli(args + ["--format", "json"]).stdout)
        vpc = world.aws.vpc_id
    assert terraform.returncode == 2 and template.returncode == 2, terraform.stderr + template.stderr
    assert sorted(set(check_terraform(terraform.stdout))) == sorted(set(types))
    assert check_terraform(terraform.stdout).count("aws_vpc_endpoint") == types.count("aws_vpc_endpoint")
    # filled in with this VPC's ids (the VPC's, the gateway endpoint's, the node subnet's route table)
    ids = {v for f in report["findings"] for a in f["remediation"].get("actions", []) for k, v in a["params"].items()
           if k in ("vpc_id", "vpc_endpoint_id", "route_table_id")}
    assert ids and all(i in terraform.stdout and not i.startswith("<") for i in ids)
    assert (vpc in ids) == (name == "nothing-at-all")
    assert len(report["findings"]) == len(SCENARIOS[name].expect)
    for finding in report["findings"]:
        if not finding["remediation"].get("actions"):
            assert all("#   " + c in terraform.stdout for c in finding["remediation"]["commands"])
    exe = shutil.which("cfn-lint", path=os.path.dirname(sys.executable))
    if exe is not None:
        done = subprocess.run([exe, "--regions", "us-east-1", "--", str(tmp_path / "node.json")], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout
