"""Issue 9's layouts through the real command line, beyond the finding codes the scenario table
checks: what a hub-and-spoke node shows, the fixes it gets, the gateway route in the S3
evidence, the managed-policy node's exit code and the aws-cn names in the fixes."""
import json

import pytest

from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, clean_env, run_cli

pytestmark = pytest.mark.integration


def run(name, dns_backend, fmt="json", extra=(), env=None):
    with World(SCENARIOS[name], dns_backend=dns_backend) as world:
        done = run_cli(["check", "--format", fmt, *world.cli_args(timeout=SCENARIO_TIMEOUT), *extra], env=env)
        plan = world.plan
    assert "Traceback" not in done.stderr, done.stderr
    return done, plan


def primary(report, service_id, role="vpc"):
    service = next(s for s in report["services"] if s["id"] == service_id)
    return next(d for d in service["probes"]["dns"]
                if d["hostname"] == service["hostname"] and d["rdtype"] == "A" and d["resolver_role"] == role)


def test_hub_and_spoke_shows_remote_and_names_the_route_not_an_endpoint(dns_backend):
    done, plan = run("hub-spoke", dns_backend)
    report = json.loads(done.stdout)
    ec2 = primary(report, "ec2")
    assert {a["scope"] for a in ec2["addresses"]} == {"remote"} and not any(a["in_vpc"] for a in ec2["addresses"])
    assert all(a["address"].startswith(plan.hub_prefix + ".") for a in ec2["addresses"])
    [blocked] = [f for f in report["findings"] if f["code"] == "port_blocked"]
    commands = "\n".join(blocked["remediation"]["commands"])
    assert plan.hub_cidr in blocked["remediation"]["text"] and "transit gateway tgw-" in blocked["remediation"]["text"]
    assert "<HUB-ENDPOINT-SG-ID>" in commands and "create-vpc-endpoint" not in commands
    [missing] = [f for f in report["findings"] if f["code"] == "endpoint_missing"]
    assert missing["service"] == "kms" and missing["severity"] == "warning"


def test_hub_and_spoke_text_and_the_endpoint_cidr_from_the_environment(dns_backend):
    """hub-spoke-healthy's hub CIDR comes from --endpoint-cidr; here from VPCE_DOCTOR_ENDPOINT_CIDRS instead."""
    with World(SCENARIOS["hub-spoke-healthy"], dns_backend=dns_backend) as world:
        args = world.cli_args(timeout=SCENARIO_TIMEOUT)
        cut = args.index("--endpoint-cidr")
        env = dict(clean_env(), VPCE_DOCTOR_ENDPOINT_CIDRS=args[cut + 1])
        done = run_cli(["check", "--format", "text", *(args[:cut] + args[cut + 2:])], env=env)
        without = run_cli(["check", "--format", "json", *(args[:cut] + args[cut + 2:])])
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[4:] if line.strip() and "  " in line}
    assert rows["sts"][2:4] == ["remote", "remote"] and rows["ec2"][2:4] == ["remote", "remote"]
    assert rows["s3"][2] == "public"
    # without the CIDR (only a default route to the TGW) the hub is indistinguishable from the internet
    codes = {f["code"] for f in json.loads(without.stdout)["findings"]}
    assert "endpoint_missing" in codes


def test_s3_evidence_holds_the_gateway_route_and_the_fix_is_filled_in(dns_backend):
    done, _ = run("s3-gateway-other-route-table", dns_backend)
    report = json.loads(done.stdout)
    s3 = next(s for s in report["services"] if s["id"] == "s3")
    route = s3["probes"]["route"]
    assert route["route_table_id"].startswith("rtb-") and route["main"] is False and route["gateway_routes"] == []
    [finding] = s3["findings"]
    assert finding["code"] == "gateway_route_missing" and finding["severity"] == "critical"
    [command] = finding["remediation"]["commands"]
    assert command.startswith("aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-")
    assert command.endswith("--add-route-table-ids %s" % route["route_table_id"])
    done, _ = run("healthy", dns_backend)
    healthy = next(s for s in json.loads(done.stdout)["services"] if s["id"] == "s3")["probes"]["route"]
    assert healthy["main"] is True and [r["endpoint_id"][:5] for r in healthy["gateway_routes"]] == ["vpce-"]


def test_managed_policies_only_reads_ok_with_info_findings(dns_backend):
    done, _ = run("managed-policies", dns_backend, fmt="text")
    assert done.returncode == 0
    assert "status: OK" in done.stdout and "[INFO] inventory_unavailable (node)" in done.stdout
    assert "[WARNING]" not in done.stdout and "[CRITICAL]" not in done.stdout


def test_aws_cn_fixes_name_each_service_as_the_partition_does(dns_backend):
    done, _ = run("cn-managed-policies", dns_backend)
    report = json.loads(done.stdout)
    fixes = {f["service"]: "\n".join(f["remediation"]["commands"]) for f in report["findings"]
             if f["code"] == "endpoint_missing"}
    assert "--service-name cn.com.amazonaws.cn-northwest-1.sts " in fixes["sts"]
    assert "--service-name com.amazonaws.cn-northwest-1.logs " in fixes["logs"]
    assert "cn.com.amazonaws.cn-northwest-1.logs" not in fixes["logs"]
    auth = next(s for s in report["services"] if s["id"] == "eks-auth")
    assert auth["hostname"] == "eks-auth.cn-northwest-1.api.amazonwebservices.com.cn"


def test_fleet_shows_which_services_a_hub_answers(dns_backend, tmp_path):
    done, _ = run("hub-spoke-healthy", dns_backend)
    (tmp_path / "node.json").write_text(done.stdout)
    text = run_cli(["fleet", str(tmp_path)]).stdout
    node = next(line for line in text.splitlines() if "remote:" in line)
    assert "sts" in node.split("remote:")[1] and "s3" not in node.split("remote:")[1]
    data = json.loads(run_cli(["fleet", "--format", "json", str(tmp_path)]).stdout)
    assert "ec2" in data["nodes"][0]["remote"]
    page = run_cli(["fleet", "--format", "html", str(tmp_path)]).stdout
    assert "remote (a hub&#x27;s endpoint)" in page or "remote (a hub's endpoint)" in page


def test_probes_describe_the_nodes_own_instance_and_cluster(dns_backend):
    """With only the managed node policies, eks DescribeCluster on the node's own cluster (IMDS tag
    eks:cluster-name) is allowed where ListClusters would be denied; ec2 DescribeInstances likewise."""
    import dataclasses

    scenario = dataclasses.replace(SCENARIOS["managed-policies"], services=("ec2", "eks", "sts"),
                                   endpoints=("ec2", "eks", "sts"))
    with World(scenario, dns_backend=dns_backend) as world:
        done = run_cli(["check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT)])
    report = json.loads(done.stdout)
    assert report["node"]["cluster_name"] == "demo-cluster"
    api = {s["id"]: s["probes"]["api"] for s in report["services"]}
    assert api["eks"]["operation"] == "DescribeCluster" and api["eks"]["outcome"] == "success"
    assert api["ec2"]["operation"] == "DescribeInstances" and api["ec2"]["outcome"] == "success"
    assert {f["code"] for f in report["findings"]} == {"inventory_unavailable"} and done.returncode == 0
