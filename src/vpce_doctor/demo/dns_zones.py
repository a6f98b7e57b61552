"""What each simulated resolver answers, from what the simulated VPC is (aws_side.SimulatedAws):

- the VPC resolver: endpoints' private DNS, the vpce- names, the VPC's own private hosted zones (with
  Route 53's SOA, so a name they lack is NXDOMAIN), a hub's zones when they are shared with the VPC;
- the corporate resolver: forwards to the VPC resolver (or, with centralised DNS, to the hub's resolver),
  or resolves publicly, with the scenario's stale records;
- the hub VPC's resolver (its Route 53 Resolver inbound endpoint): the hub's endpoints, the rest public.

The loopback World serves these with the demo's DNS responder or dnsmasq, the lab with unbound and dnsmasq.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from .dns_server import ROUTE53_PRIVATE_SOA, ZoneData


def _public(sim, records: Optional[Dict[str, List[str]]] = None, **extra) -> ZoneData:
    return ZoneData(records=records or {}, public_domains=sim.public_domains(), public_answer=sim.public_address,
                    known_names=sim.known_names(), **extra)


def vpc_zone(sim) -> ZoneData:
    sc = sim.scenario
    records: Dict[str, List[str]] = dict(sim.vpce_records)
    for service_id, addresses in sim.eni_addresses.items():
        if service_id not in sc.private_dns_off:
            for host in sim.hostnames(service_id):
                records[host] = [ip for ip, _ in addresses]
    records.update(private_zone_records(sim))
    if sc.node_dns != "hub":  # the hub's zones, shared with this VPC
        records.update(hub_zone(sim).records)
    if sc.cluster_endpoint == "private":
        records[sim.cluster_host] = [sim.plan.cluster_ip]
    return _public(sim, records, zones={zone: ROUTE53_PRIVATE_SOA for zone in private_zones(sim)})


def corporate_zone(sim, vpc_resolver: Tuple[str, int], hub_resolver: Optional[Tuple[str, int]] = None) -> ZoneData:
    sc = sim.scenario
    if sc.node_dns == "public":
        return _public(sim)
    if sc.node_dns == "hub":
        if hub_resolver is None:
            raise ValueError("centralised DNS needs the hub's resolver address")
        return ZoneData(forward_to=hub_resolver)
    zone = ZoneData(forward_to=vpc_resolver)
    for service_id, how in sc.corporate_overrides.items():
        for name in sim.hostnames(service_id)[:1]:
            if how == "nxdomain":
                zone.nxdomain.append(name)
            else:
                zone.records[name] = [sim.public_address(name)]
    return zone


def hub_zone(sim) -> ZoneData:
    """The hub VPC's resolver (its Resolver inbound endpoint, under centralised DNS): the hub's private
    zones answer the hub's endpoints, everything else resolves publicly."""
    return _public(sim, {host: [ip for ip, _ in addresses]
                         for service_id, addresses in sim.hub_addresses.items() for host in sim.hostnames(service_id)})


def private_zones(sim) -> List[str]:
    """The scenario's private hosted zones on this VPC: a parent of the service names, one per name."""
    sc = sim.scenario
    zones = [sc.parent_zone.format(region=sim.region, dns_suffix=sim.partition.dns_suffix)] if sc.parent_zone else []
    return zones + [sim.hostnames(s)[0] for s in sc.service_zones + sc.empty_service_zones if s in sc.services]


def private_zone_records(sim) -> Dict[str, List[str]]:
    """What those zones hold: A records to this VPC's endpoint ENIs."""
    sc = sim.scenario
    return {host: [ip for ip, _ in sim.eni_addresses[s]] for s in sc.parent_zone_services + sc.service_zones
            if s in sim.eni_addresses for host in sim.hostnames(s)}
