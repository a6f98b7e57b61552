"""The static readers as tables: endpoint policies, security groups, network ACLs, route tables."""
import json

import pytest

from vpce_doctor.checks import endpoint_policy as policy
from vpce_doctor.preflight import network

ROLE = "arn:aws:iam::123456789012:role/eks-node-role"
ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize("document, action, resource, role, verdict", [
    (None, "ecr:GetAuthorizationToken", None, None, policy.ALLOWED),  # the default full-access policy
    (doc(ALLOW_ALL), "sts:GetCallerIdentity", None, None, policy.ALLOWED),
    (doc(ALLOW_ALL, {"Effect": "Deny", "Principal": "*", "Action": "ecr:Get*", "Resource": "*"}),
     "ecr:GetAuthorizationToken", None, None, policy.DENIED),
    (doc({"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"], "Resource": "*"}),
     "ecr:GetDownloadUrlForLayer", None, None, policy.DENIED),  # no statement allows it
    (doc({"Effect": "Allow", "Principal": "*", "Action": "ECR:batchgetimage", "Resource": "*"}),
     "ecr:BatchGetImage", None, None, policy.ALLOWED),  # actions match case-insensitively
    (doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/other"}, "Action": "*",
          "Resource": "*"}), "ecr:BatchGetImage", None, ROLE, policy.DENIED),
    (doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}),
     "ecr:BatchGetImage", None, ROLE, policy.ALLOWED),
    (doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}),
     "ecr:BatchGetImage", None, None, policy.UNKNOWN),  # the role is not known: cannot tell
    (doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}), "sts:GetCallerIdentity", None, ROLE,
     policy.UNKNOWN),
    (doc(ALLOW_ALL, {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                     "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}), "ec2:DescribeInstances", None,
     ROLE, policy.UNKNOWN),  # a conditional deny may apply
    (doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
          "Resource": "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"}), "s3:GetObject",
     "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/layer", ROLE, policy.ALLOWED),
    (doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"}),
     "s3:GetObject", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/layer", ROLE, policy.DENIED),
    (doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": "arn:aws:ecr:*:*:repository/app"}),
     "ecr:BatchGetImage", None, ROLE, policy.UNKNOWN),  # which repositories the node pulls: cannot tell
    (doc({"Effect": "Allow", "Principal": "*", "NotAction": "s3:*", "Resource": "*"}), "sts:GetCallerIdentity",
     None, ROLE, policy.ALLOWED),
    ("{not json", "sts:GetCallerIdentity", None, ROLE, policy.UNKNOWN),
])
def test_endpoint_policy(document, action, resource, role, verdict):
    assert policy.evaluate(document, action, resource, role)[0] == verdict


def group(*perms):
    return {"GroupId": "sg-1", "IpPermissions": list(perms)}


def perm(protocol="tcp", low=443, high=443, cidrs=(), groups=()):
    return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, "IpRanges": [{"CidrIp": c} for c in cidrs],
            "UserIdGroupPairs": [{"GroupId": g} for g in groups]}


@pytest.mark.parametrize("groups, allowed", [
    ([group(perm(cidrs=["10.0.0.0/16"]))], True),
    ([group(perm(protocol="-1", low=-1, high=-1, cidrs=["0.0.0.0/0"]))], True),
    ([group(perm(low=0, high=1000, cidrs=["10.0.1.0/24"]))], True),
    ([group(perm(cidrs=["10.0.2.0/24"]))], False),  # another subnet only
    ([group(perm(low=80, high=80, cidrs=["10.0.0.0/16"]))], False),
    ([group(perm(protocol="udp", cidrs=["10.0.0.0/16"]))], False),
    ([group(perm(cidrs=["10.0.1.0/25"]))], None),  # half the subnet: cannot tell
    ([group(perm(groups=["sg-node"]))], True),  # the node security group
    ([], False),
])
def test_security_group_https(groups, allowed):
    assert network.sg_allows_https(groups, "10.0.1.0/24", ["sg-node"]) is allowed


def acl(*entries):
    return {"NetworkAclId": "acl-1", "Entries": [
        {"RuleNumber": n, "Egress": e, "Protocol": p, "RuleAction": a, "CidrBlock": c,
         **({"PortRange": {"From": r[0], "To": r[1]}} if r else {})} for n, e, p, a, c, r in entries]}


OPEN = acl((100, False, "-1", "allow", "0.0.0.0/0", None), (100, True, "-1", "allow", "0.0.0.0/0", None),
           (32767, False, "-1", "deny", "0.0.0.0/0", None), (32767, True, "-1", "deny", "0.0.0.0/0", None))
NO_EPHEMERAL = acl((100, False, "6", "allow", "0.0.0.0/0", (443, 443)), (100, True, "-1", "allow", "0.0.0.0/0", None))
DENY_FIRST = acl((90, False, "6", "deny", "0.0.0.0/0", (443, 443)), (100, False, "-1", "allow", "0.0.0.0/0", None),
                 (100, True, "-1", "allow", "0.0.0.0/0", None))
PARTIAL = acl((100, False, "-1", "allow", "10.0.1.0/25", None), (100, True, "-1", "allow", "0.0.0.0/0", None))


@pytest.mark.parametrize("node_acl, eni_acl, blocked, unsure", [
    (OPEN, OPEN, 0, 0),
    (NO_EPHEMERAL, OPEN, 1, 0),  # the answers cannot come back into the node subnet
    (OPEN, DENY_FIRST, 1, 0),  # the lower-numbered deny wins
    (OPEN, PARTIAL, 0, 1),  # a rule for half the node subnet: cannot tell
])
def test_nacl_path(node_acl, eni_acl, blocked, unsure):
    problems = network.nacl_path(node_acl, "10.0.1.0/24", eni_acl, "10.0.2.0/24")
    assert len([p for p in problems if p.startswith("denied")]) == blocked
    assert len([p for p in problems if p.startswith("cannot tell")]) == unsure


def test_route_table_association_then_main_and_hub_routes():
    main = {"RouteTableId": "rtb-main", "Associations": [{"Main": True}], "Routes": []}
    own = {"RouteTableId": "rtb-own", "Associations": [{"SubnetId": "subnet-1"}], "Routes": [
        {"DestinationCidrBlock": "10.99.0.0/16", "TransitGatewayId": "tgw-1"},
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}]}
    assert network.route_table_for_subnet([main, own], "subnet-1")["RouteTableId"] == "rtb-own"
    assert network.route_table_for_subnet([main, own], "subnet-2")["RouteTableId"] == "rtb-main"
    assert network.remote_destinations(own) == ["10.99.0.0/16"]


def test_default_and_blackhole_routes_name_no_hub():
    """As on the node: central egress (0.0.0.0/0, ::/0 to a transit gateway) and blackhole routes
    say nothing about where endpoints are."""
    table = {"RouteTableId": "rtb-1", "Routes": [
        {"DestinationCidrBlock": "0.0.0.0/0", "TransitGatewayId": "tgw-1"},
        {"DestinationIpv6CidrBlock": "::/0", "TransitGatewayId": "tgw-1"},
        {"DestinationCidrBlock": "10.98.0.0/16", "TransitGatewayId": "tgw-1", "State": "blackhole"},
        {"DestinationCidrBlock": "127.172.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"},
        {"DestinationIpv6CidrBlock": "fd00:99::/48", "TransitGatewayId": "tgw-1"}]}
    assert network.remote_destinations(table) == ["127.172.0.0/16", "fd00:99::/48"]


@pytest.mark.parametrize("addresses, remote, scope", [
    (["127.10.1.20", "127.10.2.20"], [], "vpc"),
    (["127.172.1.20", "127.172.2.20"], ["127.172.0.0/16"], "remote"),  # a routed hub, or --endpoint-cidr
    (["127.172.1.20"], [], "public"),  # neither private nor routed nor named: public, as on the node
    (["10.99.1.20", "127.10.1.20"], [], "remote"),
    (["10.99.1.20", "127.203.0.9"], [], "public"),  # any public address: the name is not kept inside
    ([], [], "public"),
])
def test_zone_records_are_classed_as_the_node_classes_answers(addresses, remote, scope):
    from vpce_doctor.preflight.records import records_scope

    assert records_scope(addresses, ["127.10.0.0/16"], remote) == scope


def test_only_read_only_calls_can_be_built():
    from vpce_doctor.preflight.aws import NotReadOnly, request

    assert request("k", "ec2", "DescribeVpcEndpoints").operation == "DescribeVpcEndpoints"
    for operation in ("ModifyVpcEndpoint", "CreateVpcEndpoint", "DeleteVpcEndpoints", "Describevpcs"):
        with pytest.raises(NotReadOnly):
            request("k", "ec2", operation)
