"""preflight through the real command line against moto: more than one subnet, a cluster and
node group, a call that fails (an explicit unknown), a target that does not exist."""
import json

import pytest

from vpce_doctor.agent.render import text
from vpce_doctor.demo.aws_config import CLUSTER_NAME
from vpce_doctor.demo.scenarios import PREFLIGHT_SCENARIOS, SCENARIOS

from ..conftest import run_cli
from .conftest import Moto


@pytest.mark.integration
def test_two_subnets_grouped_by_subnet(tmp_path):
    with Moto(SCENARIOS["az-missing"]) as moto:
        a, b = moto.aws.subnet_ids["a"], moto.aws.subnet_ids["b"]
        done = run_cli(["preflight", "--region", "us-east-1", "--subnet", a, "--subnet", b], env=moto.env())
        as_json = run_cli(["preflight", "--region", "us-east-1", "--subnet", a, "--subnet", b, "--format", "json"],
                          env=moto.env())
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("SERVICE"))
    assert a in header and b in header
    ecr = next(line for line in lines if line.startswith("ecr.dkr "))
    assert ecr.split()[-2:] == ["endpoint_az_missing", "ok"]  # AZ a misses the ENI, AZ b has it
    assert "FINDINGS AND FIXES: %s" % a in done.stdout and "FINDINGS AND FIXES: %s" % b not in done.stdout
    report = json.loads(as_json.stdout)
    assert [(f["code"], f["service"], f["subnet"]) for f in report["findings"]] == [("endpoint_az_missing", "ecr.dkr", a)]
    # the default service set: what every node needs plus every service with an endpoint in the VPC
    assert {"ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "kms"} <= {s["id"] for s in report["services"]}
    # the saved report, viewed on a pipe: preflight's own text report, exit code as preflight's
    saved = tmp_path / "preflight.json"
    saved.write_text(as_json.stdout)
    viewed = run_cli(["view", str(saved)], timeout=30)
    assert viewed.returncode == as_json.returncode == 1 and viewed.stdout == text.render(report), viewed.stderr
    assert viewed.stdout.split("\n", 2)[2] == done.stdout.split("\n", 2)[2]  # all but the timed header lines


@pytest.mark.integration
def test_cluster_and_nodegroup_give_subnets_and_the_node_role():
    scenario = PREFLIGHT_SCENARIOS["policy-not-node-role"]
    with Moto(scenario) as moto:
        eks = moto.aws._client("eks")
        eks.delete_cluster(name=CLUSTER_NAME)  # the simulated VPC's own, without private access: this one has it
        eks.create_cluster(name=CLUSTER_NAME, roleArn="arn:aws:iam::123456789012:role/eks-cluster-role",
                           resourcesVpcConfig={"subnetIds": [moto.aws.subnet_ids["a"], moto.aws.subnet_ids["b"]],
                                               "endpointPrivateAccess": True})
        eks.create_nodegroup(clusterName=CLUSTER_NAME, nodegroupName="ng", subnets=[moto.aws.subnet_ids["a"]],
                             nodeRole="arn:aws:iam::123456789012:role/eks-node-role")
        done = run_cli(["preflight", "--region", "us-east-1", "--cluster", CLUSTER_NAME, "--nodegroup", "ng",
                        "--format", "json"], env=moto.env())
        requests = list(moto.proxy.requests)
    report = json.loads(done.stdout)
    assert report["target"]["cluster"]["name"] == CLUSTER_NAME and report["target"]["nodegroup"] == "ng"
    assert [s["id"] for s in report["target"]["subnets"]] == [moto.aws.subnet_ids["a"]]
    assert report["target"]["node_role_arn"].endswith(":role/eks-node-role")
    assert [(f["code"], f["service"]) for f in report["findings"]] == [("policy_denied", "ecr.dkr")]
    assert ("eks", "GET /clusters/%s/node-groups/ng" % CLUSTER_NAME) in requests


@pytest.mark.integration
def test_a_failed_call_is_an_explicit_unknown():
    """AWS_ENDPOINT_URL_ROUTE53RESOLVER sends that one service somewhere that refuses: the rest
    still runs, and every verdict that needed the Resolver rules says unknown, naming the call."""
    with Moto(SCENARIOS["healthy"]) as moto:
        env = moto.env(AWS_ENDPOINT_URL_ROUTE53RESOLVER="http://127.0.0.1:9")
        args = ["preflight", "--region", "us-east-1", "--subnet", moto.aws.subnet_ids["a"], "--timeout", "1"]
        done = run_cli(args + ["--format", "json"], env=env)
        text = run_cli(args, env=env)
    report = json.loads(done.stdout)
    assert done.returncode == 3 and report["status"] == "unknown"
    failed = [c for c in report["checks"] if c["state"] != "done"]
    assert [c["check"] for c in failed] == ["route53resolver:ListResolverRuleAssociations"]
    assert all(s["status"] == "unknown" for s in report["services"])
    assert report["findings"] == []
    assert "unknown: route53resolver:ListResolverRuleAssociations error" in text.stdout


@pytest.mark.integration
def test_a_target_that_does_not_exist_is_one_line():
    with Moto(SCENARIOS["healthy"]) as moto:
        done = run_cli(["preflight", "--region", "us-east-1", "--subnet", "subnet-0123456789abcdef0"], env=moto.env())
        none = run_cli(["preflight", "--region", "us-east-1"], env=moto.env())
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("vpce-doctor: cannot read subnets subnet-0123456789abcdef0")
    assert none.returncode == 3 and "no subnet to examine" in none.stderr


@pytest.mark.integration
def test_a_profile_gives_region_credentials_and_endpoint(tmp_path):
    """The SDK's own settings: a named profile with its region, keys and endpoint_url, no flag but --profile."""
    with Moto(SCENARIOS["private-dns-off"]) as moto:
        config = tmp_path / "config"
        config.write_text("[profile lab]\nregion = us-east-1\naws_access_key_id = lab\naws_secret_access_key = lab\n"
                          "endpoint_url = %s\n" % moto.proxy.url)
        env = {k: v for k, v in moto.env().items() if k not in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                                                 "AWS_SECRET_ACCESS_KEY")}
        env["AWS_CONFIG_FILE"] = str(config)
        done = run_cli(["preflight", "--profile", "lab", "--subnet", moto.aws.subnet_ids["a"], "--format", "json"],
                       env=env)
        requests = len(moto.proxy.requests)
    report = json.loads(done.stdout)
    assert report["node"]["region"] == "us-east-1" and requests > 5
    assert sorted((f["code"], f["service"]) for f in report["findings"]) == [
        ("private_dns_disabled", "ecr.api"), ("private_dns_disabled", "ecr.dkr")]
