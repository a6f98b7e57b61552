"""The configuration side of a scenario in moto: what preflight reads where the configuration
decides what a node finds (security groups, NACLs, endpoint policies and states, VPC DNS
attributes, Resolver rules, the EKS cluster's endpoint access). aws_side.py calls in here
while it builds the VPC, so the node check and preflight see one and the same VPC.

Where one ENI of an endpoint drops 443 but its others do not (sg-drops-443's logs), the
cause a VPC can really have is a NACL on that ENI's subnet: that ENI is placed in a second
subnet of its AZ whose NACL denies inbound 443.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from .dns_zones import private_zone_records, private_zones
from .simulated_account import ACCOUNT, AZ_OCTET, CLUSTER_NAME

BLOCKED_OCTET = 100  # the "blocked" subnet of AZ x is <prefix>.<100 + AZ octet>.0/24


def endpoint_policy(sim, service_id: str) -> Optional[str]:
    sc = sim.scenario
    spec = sim.specs[service_id]
    if service_id in sc.policy_deny:
        probe = spec.probe
        action = "%s:%s" % (probe.get("signing_name", service_id.split(".")[0]), probe["operation"])
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Sid": "NoTokens", "Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"}]})
    if service_id in sc.policy_deny_unnamed:
        # a restrictive policy written for network tooling: the VPC's Describe calls, not DescribeInstances
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "NetworkDescribesOnly", "Effect": "Allow", "Principal": "*",
             "Action": ["ec2:DescribeVpc*", "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables",
                        "ec2:DescribeSubnets"], "Resource": "*"}]})
    if service_id in sc.policy_principal:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": sc.policy_principal[service_id]}, "Action": "*",
             "Resource": "*"}]})
    return None


def gateway_policy(sim) -> Optional[str]:
    """The S3 gateway endpoint's policy: "own-buckets-only" is the classic restrictive one that lets
    the account's own buckets through and forgets arn:aws:s3:::prod-<region>-starport-layer-bucket/*."""
    if sim.scenario.s3_gateway_policy != "own-buckets-only":
        return None
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "OwnBucketsOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:%s:s3:::demo-%s-*" % (sim.partition.id, sim.region),
                      "arn:%s:s3:::demo-%s-*/*" % (sim.partition.id, sim.region)]}]})


def security_groups(sim, ec2, service_id: str, azs, default_group: str) -> List[str]:
    """The endpoint's security group: the VPC-wide 443 group, or one that admits nothing /
    another CIDR only, as the scenario breaks it."""
    sc = sim.scenario
    dropped = set(sc.sg_drop_443.get(service_id, ()))
    if dropped and dropped >= set(azs):
        return [_group(sim, ec2, "vpce-%s-no-443" % service_id, None)]
    if service_id in sc.sg_443_from:
        return [_group(sim, ec2, "vpce-%s-other" % service_id, sc.sg_443_from[service_id])]
    return [default_group]


def https_group(sim, ec2) -> str:
    return _group(sim, ec2, "vpce-https", sim.plan.vpc_cidr)


def _group(sim, ec2, name: str, cidr: Optional[str]) -> str:
    group = ec2.create_security_group(GroupName=name, Description="443 to endpoints", VpcId=sim.vpc_id)["GroupId"]
    if cidr:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr}]}])
    return group


def subnets_for(sim, ec2, service_id: str, azs, subnet_ids=None) -> List[str]:
    """One subnet per ENI AZ (from subnet_ids: the endpoint subnets, the VPC's secondary block's when the
    scenario puts the ENIs there); an AZ whose ENI alone drops 443 gets the NACL-blocked subnet."""
    subnet_ids = subnet_ids or sim.subnet_ids
    dropped = set(sim.scenario.sg_drop_443.get(service_id, ()))
    partial = dropped and not dropped >= set(azs)
    return [_blocked_subnet(sim, ec2, a) if partial and a in dropped else subnet_ids[a] for a in azs]


def _blocked_subnet(sim, ec2, letter: str) -> str:
    blocked = getattr(sim, "blocked_subnets", {})
    if letter not in blocked:
        cidr = "%s.%d.0/24" % (sim.plan.subnet_prefix, BLOCKED_OCTET + AZ_OCTET[letter])
        subnet = ec2.create_subnet(VpcId=sim.vpc_id, CidrBlock=cidr, AvailabilityZone=sim.region + letter)["Subnet"]
        acl = ec2.create_network_acl(VpcId=sim.vpc_id)["NetworkAcl"]["NetworkAclId"]
        _entries(ec2, acl, [(90, False, "deny", (443, 443)), (100, False, "allow", None), (100, True, "allow", None)])
        _associate(ec2, subnet["SubnetId"], acl)
        blocked[letter] = subnet["SubnetId"]
        sim.blocked_subnets = blocked
    return blocked[letter]


def _entries(ec2, acl: str, rules) -> None:
    for number, egress, action, ports in rules:
        entry: Dict[str, Any] = dict(NetworkAclId=acl, RuleNumber=number, Egress=egress, RuleAction=action,
                                     CidrBlock="0.0.0.0/0", Protocol="6" if ports else "-1")
        if ports:
            entry["PortRange"] = {"From": ports[0], "To": ports[1]}
        ec2.create_network_acl_entry(**entry)


def _associate(ec2, subnet_id: str, acl: str) -> None:
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["NetworkAcls"]
    for current in acls:
        for association in current["Associations"]:
            if association["SubnetId"] == subnet_id:
                ec2.replace_network_acl_association(AssociationId=association["NetworkAclAssociationId"],
                                                    NetworkAclId=acl)


def finish(sim, ec2, session_client) -> None:
    """VPC-wide configuration once the endpoints exist."""
    from moto.backends import get_backend

    sc = sim.scenario
    ec2.modify_vpc_attribute(VpcId=sim.vpc_id, EnableDnsSupport={"Value": sc.vpc_dns_support})
    ec2.modify_vpc_attribute(VpcId=sim.vpc_id, EnableDnsHostnames={"Value": sc.vpc_dns_hostnames})
    if sc.endpoint_states:
        backend = get_backend("ec2")[ACCOUNT][sim.region]
        for endpoint in backend.vpc_end_points.values():
            for service_id, state in sc.endpoint_states.items():
                if endpoint.service_name == sim.specs[service_id].endpoint_service_name(sim.region, sim.partition):
                    endpoint.state = state
    if sc.nacl_no_ephemeral:
        acl = ec2.create_network_acl(VpcId=sim.vpc_id)["NetworkAcl"]["NetworkAclId"]
        # in: only 443 (as if the subnet only served HTTPS); out: everything. The answers to the node's
        # own connections come back on ephemeral ports, which nothing admits.
        _entries(ec2, acl, [(100, False, "allow", (443, 443)), (100, True, "allow", None)])
        _associate(ec2, sim.subnet_ids["a"], acl)
    if sc.resolver_forward:
        resolver = session_client("route53resolver")
        for domain in sc.resolver_forward:
            rule = resolver.create_resolver_rule(
                CreatorRequestId="vpce-doctor-" + domain, Name="corp-" + domain.replace(".", "-"), RuleType="FORWARD",
                DomainName=domain, TargetIps=[{"Ip": sim.plan.hub_resolver_ip if sc.resolver_forward_to == "hub"
                                               else sim.plan.corporate_resolver_ip, "Port": 53}])
            resolver.associate_resolver_rule(ResolverRuleId=rule["ResolverRule"]["Id"], VPCId=sim.vpc_id)
    for service_id, how in sc.private_zone_records.items():
        _private_zone(sim, session_client("route53"), service_id, how)
    if sc.node_dns == "hub":
        _corporate_dns(sim, ec2)  # the hub's zones stay the hub's: nothing of them on this VPC
    else:
        for service_id, addresses in sorted(sim.hub_addresses.items()):
            _hub_zone(sim, session_client("route53"), service_id, [ip for ip, _ in addresses])
    _own_zones(sim, session_client("route53"))
    if sc.cluster_endpoint:
        session_client("eks").create_cluster(
            name=CLUSTER_NAME, roleArn="arn:aws:iam::%s:role/eks-cluster-role" % ACCOUNT,
            resourcesVpcConfig={"subnetIds": [sim.subnet_ids[a] for a in ("a", "b")],
                                "endpointPrivateAccess": sc.cluster_endpoint == "private",
                                "endpointPublicAccess": sc.cluster_endpoint == "public"})


def _private_zone(sim, route53, service_id: str, how: str) -> None:
    """A private hosted zone for the service name, associated with the VPC (hub-and-spoke's layout)."""
    name = sim.hostnames(service_id)[0]
    zone = route53.create_hosted_zone(Name=name, VPC={"VPCRegion": sim.region, "VPCId": sim.vpc_id},
                                      CallerReference="vpce-doctor-" + service_id,
                                      HostedZoneConfig={"PrivateZone": True, "Comment": "hub-and-spoke"})["HostedZone"]["Id"]
    if how == "hub":
        record = {"AliasTarget": {"HostedZoneId": "Z7HUB22UULQXV", "EvaluateTargetHealth": False,
                                  "DNSName": "vpce-0a1b2c3d4e5f60718-hub01234.%s.%s.vpce.%s"
                                             % (service_id, sim.region, sim.partition.dns_suffix)}}
    else:
        address = ("%s.%d.77" % (sim.plan.subnet_prefix, 1)) if how == "vpc" else sim.public_address(name)
        record = {"TTL": 60, "ResourceRecords": [{"Value": address}]}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT",
                                        "ResourceRecordSet": dict(record, Name=name, Type="A")}]})


def _hub_zone(sim, route53, service_id: str, addresses: List[str]) -> None:
    """What a spoke VPC of a hub-and-spoke layout holds for a hub-served service: a private hosted
    zone for the service's DNS name, associated with the spoke VPC, whose A records give the hub
    endpoint's addresses (the same ones the simulated VPC resolver answers, aws_side.vpc_zone).
    A name under an account label (the registry's <account>.dkr.ecr...) gets its parent's zone
    with a wildcard record, as the endpoint's own private DNS covers it."""
    names = sim.hostnames(service_id)
    records = []
    for name in names:
        label, parent = name.split(".", 1)
        records.append(("*." + parent, parent) if label == ACCOUNT else (name, name))
    for zone_name in sorted({zone for _, zone in records}):
        zone = route53.create_hosted_zone(
            Name=zone_name, VPC={"VPCRegion": sim.region, "VPCId": sim.vpc_id},
            CallerReference="vpce-doctor-hub-" + zone_name,
            HostedZoneConfig={"PrivateZone": True, "Comment": "hub-and-spoke: %s" % service_id})["HostedZone"]["Id"]
        changes = [{"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60,
                                                              "ResourceRecords": [{"Value": a} for a in addresses]}}
                   for name, in_zone in records if in_zone == zone_name]
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})


def _corporate_dns(sim, ec2) -> None:
    """Centralised DNS: DHCP options hand the nodes the corporate resolver instead of AmazonProvidedDNS."""
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": [sim.plan.corporate_resolver_ip]}])["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=options, VpcId=sim.vpc_id)


def _own_zones(sim, route53) -> None:
    """The scenario's private hosted zones on this VPC (aws_side.private_zones) with the records they hold."""
    records = private_zone_records(sim)
    for zone_name in private_zones(sim):
        zone = route53.create_hosted_zone(
            Name=zone_name, VPC={"VPCRegion": sim.region, "VPCId": sim.vpc_id},
            CallerReference="vpce-doctor-own-" + zone_name,
            HostedZoneConfig={"PrivateZone": True, "Comment": "made by hand"})["HostedZone"]["Id"]
        changes = [{"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60,
                                                              "ResourceRecords": [{"Value": a} for a in addresses]}}
                   for name, addresses in sorted(records.items())
                   if name == zone_name or name.endswith("." + zone_name)]
        if changes:
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
