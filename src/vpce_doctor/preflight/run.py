"""`vpce-doctor preflight`: read the configuration, judge every service for every node subnet,
return the Report. No node, no probe: only read-only AWS API calls."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import List, Optional, Sequence

from ..checks.catalogue import ServiceSpec, load_catalogue, partition_for_region, select_services
from ..core.model import CRITICAL, Finding, Report
from . import assemble, fixes
from .aws import Reader
from .gather import Configuration, TargetError, gather
from .records import ZoneRecords, vpc_cidrs_of
from .rules import Context, judge
from .subnets import node_subnets, subnet_index


@dataclass(frozen=True)
class Options:
    region: Optional[str] = None
    profile: Optional[str] = None
    subnets: Sequence[str] = ()
    vpc: Optional[str] = None
    cluster: Optional[str] = None
    nodegroup: Optional[str] = None
    services: Optional[Sequence[str]] = None  # None: what every node needs + every service with an endpoint here
    all_services: bool = False
    account_id: Optional[str] = None
    node_role_arn: Optional[str] = None
    endpoint_cidrs: Sequence[str] = field(default_factory=tuple)
    timeout: float = 3.0
    deadline: float = 20.0


def _chosen(options: Options, config: Configuration, region: str) -> List[ServiceSpec]:
    if options.services:
        return select_services(options.services)
    if options.all_services:
        return list(load_catalogue())
    partition = partition_for_region(region)
    present = {e.get("ServiceName") for e in config.items("endpoints", "VpcEndpoints") or []}
    return [s for s in load_catalogue()
            if s.always_required or s.endpoint_service_name(region, partition) in present
            or s.endpoint_service_name(region, partition).replace("cn.com.", "com.", 1) in present]


def _cluster_findings(config: Configuration) -> List[Finding]:
    cluster = config.cluster
    if not cluster:
        return []
    vpc_config = cluster.get("resourcesVpcConfig") or {}
    if vpc_config.get("endpointPrivateAccess"):
        return []
    return [Finding(code="cluster_endpoint_unreachable", severity=CRITICAL, service=None,
                    message="cluster %s has private endpoint access off: nodes in an isolated subnet cannot reach "
                            "the API server" % cluster.get("name"),
                    remediation=fixes.cluster_endpoint_private_off(config.region, cluster.get("name"),
                                                                   vpc_config.get("publicAccessCidrs")))]


def _dhcp_notes(config: Configuration) -> List[str]:
    notes = []
    for options in config.items("dhcp", "DhcpOptions") or []:
        for item in options.get("DhcpConfigurations") or []:
            if item.get("Key") == "domain-name-servers":
                servers = [v.get("Value") for v in item.get("Values") or []]
                if servers and servers != ["AmazonProvidedDNS"]:
                    notes.append("DHCP options %s give nodes the DNS servers %s: they must forward AWS names to the "
                                 "VPC resolver, or with centralised DNS to a hub's Resolver inbound endpoint (then a "
                                 "service without an endpoint or zone here may work through the hub's, and findings "
                                 "that read the VPC resolver's view do not apply); the node check tells, preflight "
                                 "cannot" % (options.get("DhcpOptionsId"), ", ".join(servers)))
    return notes


def _attribute(config: Configuration, key: str, name: str) -> Optional[bool]:
    data = config.data(key)
    return None if data is None else bool((data.get(name) or {}).get("Value"))


def run(options: Options, version: str = "0") -> Report:
    started = time.monotonic()
    reader = Reader(options.region, options.profile, options.timeout, options.deadline)
    try:
        if not reader.region:
            raise TargetError("no region: pass --region or set AWS_REGION")
        partition = partition_for_region(reader.region)
        catalogue = load_catalogue() if not options.services else select_services(options.services)
        config = gather(reader, options.subnets, options.vpc, options.cluster, options.nodegroup,
                        lambda account: [h for s in catalogue for h in s.hostnames(reader.region, partition, account)],
                        options.account_id)
    finally:
        reader.close()
    vpc_cidrs = vpc_cidrs_of(config)
    subnets = node_subnets(config)
    remote = sorted({c for s in subnets for c in s.remote_cidrs} | set(options.endpoint_cidrs))
    role = options.node_role_arn or (config.nodegroup or {}).get("nodeRole")
    ctx = Context(config=config, partition=partition, vpc_cidrs=vpc_cidrs, subnets=subnets,
                  all_subnets=subnet_index(config), zones=ZoneRecords(config, vpc_cidrs, remote), role_arn=role,
                  dns_support=_attribute(config, "dns_support", "EnableDnsSupport"),
                  dns_hostnames=_attribute(config, "dns_hostnames", "EnableDnsHostnames"),
                  remote_cidrs=list(options.endpoint_cidrs))
    services = []
    for spec in _chosen(options, config, reader.region):
        hostnames = spec.hostnames(reader.region, partition, config.account)
        verdict = judge(ctx, spec, hostnames[0] if hostnames else "", spec.always_required)
        services.append(assemble.service_report(verdict, config))
    extra = {"node_role_arn": role, "dns_support": ctx.dns_support, "dns_hostnames": ctx.dns_hostnames,
             "remote_cidrs": remote}
    return assemble.report(version, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                           (time.monotonic() - started) * 1000, config, partition.id, config.account, vpc_cidrs,
                           subnets, services, _cluster_findings(config), extra, _dhcp_notes(config))
