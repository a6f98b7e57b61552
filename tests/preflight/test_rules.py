"""Preflight rules on hand-made configurations (what moto cannot hold or what is quicker as a
table): a private zone with VPC DNS off, a SYSTEM rule under a forwarding rule, a security
group rule that covers half the subnet."""
from vpce_doctor.checks.catalogue import load_catalogue, partition_for_region
from vpce_doctor.preflight.aws import Call
from vpce_doctor.preflight.gather import Configuration
from vpce_doctor.preflight.records import ZoneRecords
from vpce_doctor.preflight.rules import Context, judge
from vpce_doctor.preflight.subnets import node_subnets, subnet_index

STS = next(s for s in load_catalogue() if s.id == "sts")
HOST = "sts.eu-west-1.amazonaws.com"


SUBNET_A = {"SubnetId": "subnet-a", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "eu-west-1a", "VpcId": "vpc-1"}


def config(endpoints=(), zones=None, rules=(), groups=(), hostnames=True, subnets=(SUBNET_A,), routes=(),
           remote=(), acl_entries=None, zone_names=None, spec=STS, host=None):
    calls = {
        "subnets": {"Subnets": list(subnets)},
        "vpc_subnets": {"Subnets": [{"SubnetId": "subnet-a", "CidrBlock": "10.0.1.0/24",
                                     "AvailabilityZone": "eu-west-1a", "VpcId": "vpc-1"}]},
        "vpc": {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "OwnerId": "123456789012"}]},
        "endpoints": {"VpcEndpoints": list(endpoints)},
        "route_tables": {"RouteTables": [{"RouteTableId": "rtb-1", "Associations": [{"Main": True}],
                                          "Routes": list(routes)}]},
        "network_acls": {"NetworkAcls": [{"NetworkAclId": "acl-1", "IsDefault": True, "Associations": [],
                                          "Entries": acl_entries if acl_entries is not None else [
            {"RuleNumber": 100, "Egress": e, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"}
            for e in (True, False)]}]},
        "security_groups": {"SecurityGroups": list(groups)},
        "hosted_zones": {"HostedZoneSummaries": [{"HostedZoneId": zone_id, "Name": name + "."}
                                                 for zone_id, name in (zone_names or {}).items()]},
        "resolver_associations": {"ResolverRuleAssociations": []},
    }
    for zone_id, records in (zones or {}).items():
        calls["records:" + zone_id] = {"ResourceRecordSets": records}
    for rule in rules:
        calls["rule:" + rule["Id"]] = {"ResolverRule": rule}
    conf = Configuration(region="eu-west-1", subnet_ids=[n["SubnetId"] for n in subnets], vpc_id="vpc-1",
                         calls={k: Call("x", k, True, data=v) for k, v in calls.items()})
    partition = partition_for_region("eu-west-1")
    subnet_views = node_subnets(conf)
    remote_cidrs = sorted({c for v in subnet_views for c in v.remote_cidrs} | set(remote))
    ctx = Context(config=conf, partition=partition, vpc_cidrs=["10.0.0.0/16"], subnets=subnet_views,
                  all_subnets=subnet_index(conf), zones=ZoneRecords(conf, ["10.0.0.0/16"], remote_cidrs), role_arn=None,
                  dns_support=True, dns_hostnames=hostnames, remote_cidrs=list(remote))
    return judge(ctx, spec, host or spec.hostnames("eu-west-1", partition, "123456789012")[0], True)


def endpoint(group_id="sg-1", private_dns=True):
    return {"VpcEndpointId": "vpce-1", "VpcEndpointType": "Interface", "State": "available",
            "ServiceName": "com.amazonaws.eu-west-1.sts", "PrivateDnsEnabled": private_dns,
            "SubnetIds": ["subnet-a"], "Groups": [{"GroupId": group_id}]}


def sg(cidr):
    return {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                   "IpRanges": [{"CidrIp": cidr}]}]}


HUB = {"Z1": [{"Name": HOST + ".", "Type": "A", "AliasTarget": {
    "DNSName": "vpce-0hub-abc.sts.eu-west-1.vpce.amazonaws.com.", "HostedZoneId": "Z7", "EvaluateTargetHealth": False}}]}


def codes(verdict):
    return [f.code for f in verdict.findings]


def test_a_hub_zone_works_and_needs_the_vpc_dns_attributes():
    assert codes(config(zones=HUB)) == []
    assert codes(config(zones=HUB, hostnames=False)) == ["vpc_dns_disabled"]


def test_a_system_rule_for_the_name_wins_over_a_forwarding_rule_for_the_domain():
    forward = {"Id": "rslvr-rr-1", "RuleType": "FORWARD", "DomainName": "amazonaws.com.",
               "TargetIps": [{"Ip": "10.9.9.9", "Port": 53}]}
    system = {"Id": "rslvr-rr-2", "RuleType": "SYSTEM", "DomainName": HOST + "."}
    ok = [endpoint()], [sg("10.0.0.0/16")]
    assert codes(config(endpoints=ok[0], groups=ok[1], rules=[forward])) == ["resolver_rule_overrides"]
    assert codes(config(endpoints=ok[0], groups=ok[1], rules=[forward, system])) == []


def test_security_group_for_half_the_subnet_is_cannot_tell_not_a_finding():
    verdict = config(endpoints=[endpoint()], groups=[sg("10.0.1.0/25")])
    assert codes(verdict) == []
    assert any("covers part of 10.0.1.0/24" in why for why in verdict.cannot_tell)
    assert codes(config(endpoints=[endpoint()], groups=[sg("10.0.2.0/24")])) == ["port_blocked"]


def test_a_missing_endpoint_is_created_in_one_subnet_per_az():
    second = dict(SUBNET_A, SubnetId="subnet-a2", CidrBlock="10.0.11.0/24")
    other = dict(SUBNET_A, SubnetId="subnet-b", CidrBlock="10.0.2.0/24", AvailabilityZone="eu-west-1b")
    verdict = config(subnets=(SUBNET_A, second, other))
    assert codes(verdict) == ["endpoint_missing"] * 3  # one per node subnet
    create = next(a for a in verdict.findings[0].remediation.actions if a.kind == "create_interface_endpoint")
    assert create.params["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert "--subnet-ids subnet-a subnet-b" in " ".join(verdict.findings[0].remediation.commands)


HUB_ADDRESSES = {"Z2": [{"Name": HOST + ".", "Type": "A", "TTL": 60,
                         "ResourceRecords": [{"Value": "127.172.1.20"}, {"Value": "127.172.2.20"}]}]}
TGW_ROUTE = {"DestinationCidrBlock": "127.172.0.0/16", "TransitGatewayId": "tgw-1", "State": "active"}
DEFAULT_ROUTE = {"DestinationCidrBlock": "0.0.0.0/0", "TransitGatewayId": "tgw-1", "State": "active"}


def test_hub_addresses_are_remote_through_a_route_or_the_endpoint_cidr_and_public_otherwise():
    """As on the node: 127.172/16 is neither the VPC nor private space; a transit gateway route for it,
    or --endpoint-cidr with only a default route, makes it a hub; else the name answers public."""
    routed = config(zones=HUB_ADDRESSES, routes=[TGW_ROUTE])
    assert codes(routed) == [] and routed.evidence["private_zone_record"]["class"] == "remote"
    assert any("outside this VPC" in why for why in routed.cannot_tell)  # the hub's side, said not read
    named = config(zones=HUB_ADDRESSES, routes=[DEFAULT_ROUTE], remote=["127.172.0.0/16"])
    assert codes(named) == [] and named.evidence["private_zone_record"]["class"] == "remote"
    assert codes(config(zones=HUB_ADDRESSES, routes=[DEFAULT_ROUTE])) == ["endpoint_missing"]


def test_hub_addresses_without_a_route_or_behind_the_node_nacl_are_port_blocked():
    unrouted = config(zones=HUB_ADDRESSES, remote=["127.172.0.0/16"])
    assert [(f.code, f.severity) for f in unrouted.findings] == [("port_blocked", "critical")]
    assert "create-route --region eu-west-1 --route-table-id rtb-1 --destination-cidr-block 127.172.0.0/16" in \
        " ".join(unrouted.findings[0].remediation.commands)
    blackhole = dict(TGW_ROUTE, State="blackhole")
    assert codes(config(zones=HUB_ADDRESSES, routes=[blackhole], remote=["127.172.0.0/16"])) == ["port_blocked"]
    no_way_out = [{"RuleNumber": 90, "Egress": True, "Protocol": "6", "RuleAction": "deny",
                   "CidrBlock": "127.172.2.0/24", "PortRange": {"From": 443, "To": 443}}] + [
        {"RuleNumber": 100, "Egress": e, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"}
        for e in (True, False)]
    half = config(zones=HUB_ADDRESSES, routes=[TGW_ROUTE], acl_entries=no_way_out)
    assert [(f.code, f.severity) for f in half.findings] == [("port_blocked", "warning")]
    assert "127.172.2.20" in half.findings[0].message and "transit gateway tgw-1" in half.findings[0].remediation.text


S3 = next(s for s in load_catalogue() if s.id == "s3")
REGION_ZONE = {"Z9REGION": "eu-west-1.amazonaws.com"}
GATEWAY = {"VpcEndpointId": "vpce-gw", "VpcEndpointType": "Gateway", "State": "available",
           "ServiceName": "com.amazonaws.eu-west-1.s3", "RouteTableIds": ["rtb-1"]}


def test_a_private_zone_for_a_parent_name_shadows_what_it_does_not_hold():
    """The region-wide zone answers NXDOMAIN for every name under it it has no record for (the node reads
    the same from the SOA in the VPC resolver's negative answer): S3's names, sts without a record."""
    held = {"Z9REGION": [{"Name": "ec2.eu-west-1.amazonaws.com.", "Type": "A", "TTL": 60,
                          "ResourceRecords": [{"Value": "10.0.1.20"}]}]}
    s3 = config(endpoints=[GATEWAY], zones=held, zone_names=REGION_ZONE, spec=S3)
    assert [(f.code, f.severity) for f in s3.findings] == [("private_zone_shadows", "critical")]
    commands = " ".join(s3.findings[0].remediation.commands)
    assert "disassociate-vpc-from-hosted-zone --hosted-zone-id Z9REGION" in commands
    assert s3.evidence["private_zone"] == {"zone_id": "Z9REGION", "name": "eu-west-1.amazonaws.com", "record": None}
    sts = config(endpoints=[endpoint(private_dns=False)], groups=[sg("10.0.0.0/16")], zones=held,
                 zone_names=REGION_ZONE)
    assert codes(sts) == ["private_zone_shadows"]
    assert "change-resource-record-sets --hosted-zone-id Z9REGION" in " ".join(sts.findings[0].remediation.commands)
    # the endpoint's own private DNS zone for the name is more specific than the parent zone
    assert codes(config(endpoints=[endpoint()], groups=[sg("10.0.0.0/16")], zones=held, zone_names=REGION_ZONE)) == []
    # a zone for amazonaws.com itself shadows just the same
    assert codes(config(endpoints=[GATEWAY], zones={"Z8": []}, zone_names={"Z8": "amazonaws.com"}, spec=S3)) == \
        ["private_zone_shadows"]


def test_a_zone_for_the_name_itself_without_its_record_is_dns_record_missing():
    empty = config(endpoints=[endpoint(private_dns=False)], groups=[sg("10.0.0.0/16")], zones={"Z7STS": []},
                   zone_names={"Z7STS": HOST})
    assert codes(empty) == ["dns_record_missing"]
    held = {"Z7STS": [{"Name": HOST + ".", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.1.20"}]}]}
    assert codes(config(endpoints=[endpoint(private_dns=False)], groups=[sg("10.0.0.0/16")], zones=held,
                        zone_names={"Z7STS": HOST})) == []


def test_a_forwarding_rule_without_an_endpoint_here_is_the_hubs_path_said_not_judged():
    """Centralised DNS through a Resolver rule: the rule's targets answer the name; preflight cannot see them."""
    forward = {"Id": "rslvr-rr-hub", "RuleType": "FORWARD", "DomainName": "amazonaws.com.",
               "TargetIps": [{"Ip": "10.99.0.2", "Port": 53}]}
    verdict = config(rules=[forward])
    assert codes(verdict) == []
    assert any("rslvr-rr-hub forwards amazonaws.com to 10.99.0.2:53" in why and "cannot see" in why
               for why in verdict.cannot_tell)


def test_the_most_specific_zone_answers_even_when_a_parent_zone_holds_the_record():
    """Route 53 Resolver answers from the most specific private zone: an empty zone for sts.<region> hides the
    record the region-wide zone holds."""
    zones = {"Z9REGION": [{"Name": HOST + ".", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.1.20"}]}],
             "Z7STS": []}
    verdict = config(endpoints=[endpoint(private_dns=False)], groups=[sg("10.0.0.0/16")], zones=zones,
                     zone_names=dict(REGION_ZONE, Z7STS=HOST))
    assert codes(verdict) == ["dns_record_missing"]

LAYER_HOST = "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"


def s3_gateway(*resources):
    import json

    return {"VpcEndpointId": "vpce-0gw", "VpcEndpointType": "Gateway", "ServiceName": "com.amazonaws.eu-west-1.s3",
            "State": "available", "VpcId": "vpc-1", "RouteTableIds": ["rtb-1"],
            "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": list(resources)}]})}


def test_preflight_predicts_the_layer_bucket_left_out_of_the_gateway_policy():
    """What the image pull finds on a node (layer_bucket_denied: S3's bare 403 on the presigned layer GET),
    preflight reads from the gateway endpoint's policy: s3:GetObject on AWS's layer bucket."""
    routes = [{"DestinationPrefixListId": "pl-6da54004", "GatewayId": "vpce-0gw", "State": "active"}]
    own = config(endpoints=[s3_gateway("arn:aws:s3:::mine", "arn:aws:s3:::mine/*")], routes=routes, spec=S3,
                 host=LAYER_HOST)
    assert [(f.code, f.service) for f in own.findings] == [("policy_denied", "s3")]
    assert "prod-eu-west-1-starport-layer-bucket" in own.findings[0].message + own.findings[0].remediation.text
    layers = config(endpoints=[s3_gateway("arn:aws:s3:::mine/*", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*")],
                    routes=routes, spec=S3, host=LAYER_HOST)
    assert codes(layers) == []
