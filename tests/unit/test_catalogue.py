import json

import pytest

from vpce_doctor.checks import catalogue
from vpce_doctor.checks.probes.aws_call import build_request

REQUIRED = {"ec2", "ecr.api", "ecr.dkr", "s3", "sts"}


def test_catalogue_covers_the_services_a_node_needs():
    ids = catalogue.service_ids()
    assert {"ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "monitoring", "elasticloadbalancing", "autoscaling",
            "ssm", "ssmmessages", "ec2messages", "kms", "xray", "eks", "eks-auth", "elasticfilesystem",
            "aps-workspaces", "secretsmanager", "sqs", "dynamodb"} == set(ids)
    assert {s.id for s in catalogue.load_catalogue() if s.always_required} == REQUIRED
    assert [s.id for s in catalogue.load_catalogue() if s.endpoint_type == "Gateway"] == ["s3", "dynamodb"]


@pytest.mark.parametrize("region,partition,suffix", [
    ("us-east-1", "aws", "amazonaws.com"), ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"), ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
])
def test_partitions_come_from_botocore(region, partition, suffix):
    part = catalogue.partition_for_region(region)
    assert (part.id, part.dns_suffix) == (partition, suffix)


def test_hostnames_clients_really_use():
    aws = catalogue.partition_for_region("us-east-1")
    specs = {s.id: s for s in catalogue.load_catalogue()}
    assert specs["ecr.api"].hostnames("us-east-1", aws, "111122223333") == ["api.ecr.us-east-1.amazonaws.com"]
    assert specs["ecr.dkr"].hostnames("us-east-1", aws, "111122223333") == ["111122223333.dkr.ecr.us-east-1.amazonaws.com"]
    assert specs["ecr.dkr"].hostnames("us-east-1", aws, None) == []  # no account, no registry name
    assert specs["s3"].hostnames("us-east-1", aws, None)[0] == "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
    assert specs["eks-auth"].hostnames("us-east-1", aws, None) == ["eks-auth.us-east-1.api.aws"]


def test_china_endpoint_service_names():
    cn = catalogue.partition_for_region("cn-north-1")
    specs = {s.id: s for s in catalogue.load_catalogue()}
    assert specs["ec2"].endpoint_service_name("cn-north-1", cn) == "cn.com.amazonaws.cn-north-1.ec2"
    assert specs["s3"].endpoint_service_name("cn-north-1", cn) == "com.amazonaws.cn-north-1.s3"
    assert specs["eks-auth"].hostnames("cn-north-1", cn, None) == ["eks-auth.cn-north-1.api.amazonwebservices.com.cn"]
    # per service, as AWS's CDK and eksctl encode them: most cn.com.amazonaws, some com.amazonaws
    cn_prefixed = {"ec2", "ecr.api", "ecr.dkr", "sts", "eks", "autoscaling", "monitoring", "elasticfilesystem",
                   "xray", "sqs"}
    plain = {"s3", "logs", "ssm", "ssmmessages", "ec2messages", "kms", "secretsmanager", "elasticloadbalancing",
             "dynamodb"}
    for sid in cn_prefixed:
        assert specs[sid].endpoint_service_name("cn-northwest-1", cn) == "cn.com.amazonaws.cn-northwest-1." + sid
    for sid in plain:
        assert specs[sid].endpoint_service_name("cn-northwest-1", cn) == "com.amazonaws.cn-northwest-1." + sid
    aws = catalogue.partition_for_region("us-east-1")
    assert all(s.endpoint_service_name("us-east-1", aws) == "com.amazonaws.us-east-1." + s.id
               for s in catalogue.load_catalogue())


def test_probes_use_actions_the_managed_node_policies_grant():
    specs = {s.id: s for s in catalogue.load_catalogue()}
    own = specs["ec2"].probe_for({"instance_id": "i-0abc"})
    assert own["operation"] == "DescribeInstances" and own["params"] == {"Filter.1.Name": "instance-id",
                                                                         "Filter.1.Value.1": "i-0abc"}
    assert specs["ec2"].probe_for({"instance_id": None})["params"] == {"MaxResults": "5"}
    cluster = specs["eks"].probe_for({"cluster_name": "prod-1"})
    assert (cluster["operation"], cluster["path"]) == ("DescribeCluster", "/clusters/prod-1")
    assert specs["eks"].probe_for({})["operation"] == "ListClusters"
    # whatever a tag holds stays inside its path segment
    assert specs["eks"].probe_for({"cluster_name": "a/../b?x"})["path"] == "/clusters/a%2F..%2Fb%3Fx"
    for spec in catalogue.load_catalogue():
        assert "with_facts" not in spec.probe_for({"instance_id": "i-1", "cluster_name": "c"})
    assert specs["dynamodb"].endpoint_type == "Gateway" and not specs["dynamodb"].always_required


def test_every_probe_is_read_only_and_builds():
    for spec in catalogue.load_catalogue():
        assert catalogue.READ_ONLY_OPERATION.match(spec.probe["operation"]), spec.id
        method, path, headers, body = build_request(spec.probe, "us-east-1")
        assert method in ("GET", "POST") and path.startswith("/")


def test_a_mutating_probe_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="read-only"):
        build_request({"kind": "aws", "protocol": "query", "operation": "CreateVpcEndpoint", "version": "x"}, "us-east-1")
    data = json.loads(json.dumps(catalogue._catalogue_data()))
    data["services"][0]["probe"]["operation"] = "DeleteVpcEndpoints"
    monkeypatch.setattr(catalogue, "_catalogue_data", lambda: data)
    catalogue.load_catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="not read-only"):
            catalogue.load_catalogue()
    finally:
        monkeypatch.undo()
        catalogue.load_catalogue.cache_clear()


def test_inventory_calls_are_read_only():
    """The inventory's EC2 actions are spelled in its source: read them and check each."""
    import inspect
    import re

    from vpce_doctor.checks.probes import inventory

    actions = set(re.findall(r'ec2\("([A-Za-z]+)"', inspect.getsource(inventory)))
    assert actions == {"DescribeVpcEndpoints", "DescribeNetworkInterfaces", "DescribeVpcEndpointServices"}
    assert all(catalogue.READ_ONLY_OPERATION.match(a) for a in actions)


def test_select_services_keeps_catalogue_order():
    assert [s.id for s in catalogue.select_services(["sts", "ec2"])] == ["ec2", "sts"]
    with pytest.raises(ValueError):
        catalogue.select_services(["ec3"])
