"""What preflight reads, in three rounds of concurrent read-only calls:

1. the cluster and node group when named (their subnets, security groups, node role);
2. the subnets, then everything keyed by the VPC (attributes, endpoints, route tables,
   NACLs, security groups, private hosted zones, Resolver rule associations);
3. what the second round names (DHCP options, zone records, Resolver rules).

The result is a Configuration: the raw answers by key, plus the Calls that failed, so
every rule can say "unknown" for exactly what it could not read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from .aws import Call, Reader, request


class TargetError(ValueError):
    """The run cannot start: no subnet to examine, or the named ones do not exist."""


@dataclass
class Configuration:
    region: str
    calls: Dict[str, Call] = field(default_factory=dict)
    subnet_ids: List[str] = field(default_factory=list)
    vpc_id: Optional[str] = None
    cluster: Optional[Dict[str, Any]] = None
    nodegroup: Optional[Dict[str, Any]] = None
    node_security_groups: List[str] = field(default_factory=list)
    account: Optional[str] = None

    def data(self, key: str) -> Any:
        """The answer for key, or None when the call failed or was not made."""
        call = self.calls.get(key)
        return call.data if call is not None and call.ok else None

    def failed(self, *keys: str) -> List[Call]:
        return [self.calls[k] for k in keys if k in self.calls and not self.calls[k].ok]

    def items(self, key: str, field_name: str) -> Optional[List[Dict[str, Any]]]:
        data = self.data(key)
        return None if data is None else list(data.get(field_name) or [])


def _cluster_round(reader: Reader, config: Configuration, cluster: str, nodegroup: Optional[str]) -> None:
    wanted = [request("cluster", "eks", "DescribeCluster", name=cluster)]
    if nodegroup:
        wanted.append(request("nodegroup", "eks", "DescribeNodegroup", clusterName=cluster, nodegroupName=nodegroup))
    config.calls.update(reader.run(wanted))
    data = config.data("cluster")
    if data is None:
        raise TargetError("cannot read cluster %s: %s" % (cluster, config.calls["cluster"].error))
    config.cluster = data["cluster"]
    vpc_config = config.cluster.get("resourcesVpcConfig") or {}
    subnets = vpc_config.get("subnetIds") or []
    groups = [vpc_config.get("clusterSecurityGroupId")] + list(vpc_config.get("securityGroupIds") or [])
    if nodegroup:
        ng = config.data("nodegroup")
        if ng is None:
            raise TargetError("cannot read node group %s: %s" % (nodegroup, config.calls["nodegroup"].error))
        config.nodegroup = ng["nodegroup"]
        subnets = config.nodegroup.get("subnets") or subnets
        groups += list((config.nodegroup.get("resources") or {}).get("remoteAccessSecurityGroup") or [])
    config.subnet_ids = config.subnet_ids or list(subnets)
    config.node_security_groups = [g for g in groups if g]


def _vpc_round(reader: Reader, config: Configuration) -> None:
    vpc = config.vpc_id
    by_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    config.calls.update(reader.run([
        request("vpc", "ec2", "DescribeVpcs", VpcIds=[vpc]),
        request("dns_support", "ec2", "DescribeVpcAttribute", VpcId=vpc, Attribute="enableDnsSupport"),
        request("dns_hostnames", "ec2", "DescribeVpcAttribute", VpcId=vpc, Attribute="enableDnsHostnames"),
        request("endpoints", "ec2", "DescribeVpcEndpoints", "VpcEndpoints", Filters=by_vpc),
        request("vpc_subnets", "ec2", "DescribeSubnets", "Subnets", Filters=by_vpc),
        request("route_tables", "ec2", "DescribeRouteTables", "RouteTables", Filters=by_vpc),
        request("network_acls", "ec2", "DescribeNetworkAcls", "NetworkAcls", Filters=by_vpc),
        request("security_groups", "ec2", "DescribeSecurityGroups", "SecurityGroups", Filters=by_vpc),
        request("hosted_zones", "route53", "ListHostedZonesByVPC", VPCId=vpc, VPCRegion=config.region),
        request("resolver_associations", "route53resolver", "ListResolverRuleAssociations",
                "ResolverRuleAssociations", Filters=[{"Name": "VPCId", "Values": [vpc]}]),
    ]))


def _named_round(reader: Reader, config: Configuration, zone_names: Sequence[str]) -> None:
    wanted = []
    vpcs = config.items("vpc", "Vpcs") or []
    dhcp = vpcs[0].get("DhcpOptionsId") if vpcs else None
    if dhcp and dhcp != "default":
        wanted.append(request("dhcp", "ec2", "DescribeDhcpOptions", DhcpOptionsIds=[dhcp]))
    for zone in (config.data("hosted_zones") or {}).get("HostedZoneSummaries") or []:
        name = zone["Name"].rstrip(".").lower()
        if any(n == name or n.endswith("." + name) for n in zone_names):
            wanted.append(request("records:" + zone["HostedZoneId"], "route53", "ListResourceRecordSets",
                                  "ResourceRecordSets", HostedZoneId=zone["HostedZoneId"]))
    for association in config.items("resolver_associations", "ResolverRuleAssociations") or []:
        rule = association["ResolverRuleId"]
        wanted.append(request("rule:" + rule, "route53resolver", "GetResolverRule", ResolverRuleId=rule))
    if wanted:
        config.calls.update(reader.run(wanted))


def gather(reader: Reader, subnets: Sequence[str], vpc: Optional[str], cluster: Optional[str],
           nodegroup: Optional[str], hostnames: Callable[[Optional[str]], Sequence[str]],
           account: Optional[str] = None) -> Configuration:
    """hostnames(account) gives the service names whose private zones are worth reading; the
    account (for the registry's name) is the VPC owner's unless given."""
    config = Configuration(region=reader.region, subnet_ids=list(subnets), vpc_id=vpc)
    if cluster:
        _cluster_round(reader, config, cluster, nodegroup)
    if not config.subnet_ids:
        raise TargetError("no subnet to examine: name --subnet (or --cluster with subnets)")
    config.calls.update(reader.run([request("subnets", "ec2", "DescribeSubnets", SubnetIds=list(config.subnet_ids))]))
    found = config.items("subnets", "Subnets")
    if found is None:
        raise TargetError("cannot read subnets %s: %s" % (", ".join(config.subnet_ids), config.calls["subnets"].error))
    vpcs = sorted({s["VpcId"] for s in found})
    if len(vpcs) != 1 or (config.vpc_id and config.vpc_id != vpcs[0]):
        raise TargetError("the subnets belong to %s, not to one VPC%s" % (
            ", ".join(vpcs) or "no VPC", " " + config.vpc_id if config.vpc_id else ""))
    config.vpc_id = vpcs[0]
    _vpc_round(reader, config)
    vpcs = config.items("vpc", "Vpcs") or []
    config.account = account or (vpcs[0].get("OwnerId") if vpcs else None)
    _named_round(reader, config, [h.lower() for h in hostnames(config.account)])
    return config
