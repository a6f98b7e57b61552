"""Node discovery: IMDS facts, the node's resolvers, running components, the cluster endpoint."""
from __future__ import annotations

import time
from typing import Dict, List, Tuple

from ..checks.catalogue import load_catalogue, partition_for_region
from ..checks.parallel import run_parallel
from . import components as components_mod
from . import imds as imds_mod
from . import resolvconf
from ..core import identifiers
from ..core.addresses import NetworkGuard
from ..core.model import NodeFacts
from ..core.settings import Settings, SettingsError


DISCOVERY_STEPS = 3  # IMDS: the token call, then two parallel rounds of reads


def discover(settings: Settings, remaining, imds_facts=None) -> NodeFacts:
    """IMDS, the process scan and resolv.conf run side by side; the slowest bounds discovery.
    imds_facts: a call returning IMDS facts already being read (the runner starts IMDS first)."""
    guard = NetworkGuard(settings.allow_net)
    read_imds = imds_facts or (lambda: imds_mod.discover(settings.imds_endpoint, settings.timeout, guard))
    resolver_notes: List[str] = []
    # IMDS costs a token call and two rounds of reads; an IMDS that drips its answers a byte at a
    # time (each read within the socket timeout) must not eat the probes' share of the run.
    budget_end = time.monotonic() + DISCOVERY_STEPS * settings.timeout + 2.0
    imds_facts, components, resolvers = run_parallel([
        read_imds,
        (lambda: components_mod.running_components()) if settings.scan_processes else (lambda: []),
        lambda: _resolvers(settings, resolver_notes),
    ], lambda: min(remaining(), budget_end - time.monotonic()))
    notes: List[str] = list(resolver_notes)
    if isinstance(imds_facts, BaseException):
        imds_facts = imds_mod.ImdsFacts(endpoint=settings.imds_endpoint, error="%s: %s" % (
            type(imds_facts).__name__, imds_facts))
    notes += identifiers.vet_imds_facts(imds_facts)  # a malformed id is dropped with a note, never used
    if isinstance(components, BaseException):
        notes.append("process scan failed: %s" % components)
        components = []
    if isinstance(resolvers, BaseException):
        raise SettingsError("cannot read the node's resolvers: %s" % resolvers)
    custom, sources = resolvers
    identity = imds_facts.identity
    region = settings.region or identity.get("region")
    if not region:
        raise SettingsError("no region known: IMDS gave none (%s); pass --region"
                            % (identifiers.region_note(notes) or imds_facts.error or "no identity document"))
    try:
        partition = partition_for_region(region)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not custom:
        notes.append("no nameserver in %s: only the VPC resolver is checked" % settings.resolv_conf)
    vpc_cidrs = settings.vpc_cidrs or tuple(imds_facts.vpc_cidrs)
    if not vpc_cidrs:
        notes.append("VPC CIDRs unknown (IMDS gave none; pass --vpc-cidr): every address counts as outside the VPC")
    cluster = settings.cluster_endpoint or components_mod.discover_cluster_endpoint()
    return NodeFacts(
        region=region,
        partition=partition.id,
        availability_zone=identity.get("availabilityZone"),
        instance_id=identity.get("instanceId"),
        account_id=settings.account_id or identity.get("accountId"),
        vpc_id=imds_facts.vpc_id,
        subnet_id=imds_facts.subnet_id,
        vpc_cidrs=tuple(vpc_cidrs),
        endpoint_cidrs=tuple(settings.endpoint_cidrs),
        local_ipv4=imds_facts.local_ipv4,
        vpc_resolver=settings.vpc_resolver,
        custom_resolvers=tuple(custom),
        resolver_sources=sources,
        cluster_endpoint=cluster,
        cluster_name=imds_facts.cluster_name,
        imds={"endpoint": imds_facts.endpoint, "reachable": imds_facts.reachable, "version": imds_facts.version,
              "error": imds_facts.error, "iam_role": imds_facts.iam_role, "turned_off": imds_facts.turned_off},
        components=tuple(components),
        discovery_notes=tuple(notes),
        instance_credentials=imds_facts.role_credentials,
    )


def _resolvers(settings: Settings, notes: List[str]) -> Tuple[List[str], dict]:
    if settings.resolvers:
        return list(settings.resolvers), {r: "--resolver" for r in settings.resolvers}
    return resolvconf.node_resolvers(settings.resolv_conf, notes=notes)


def needed_by_running(facts: NodeFacts) -> Dict[str, List[str]]:
    """service id -> the running components that need it."""
    running = {c["name"] for c in facts.components}
    return {s.id: [c for c in s.required_by if c in running] for s in load_catalogue()}
