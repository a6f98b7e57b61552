"""What a check is, and how checks are found.

A check is a small class with an `id`, a `scope` ("service": run once per service,
"node": once per run) and `run(ctx, service)` returning typed evidence. Outside checks
may also offer `findings(evidence, facts, service)`; the built-in ones leave findings to
verdicts.py, which reads the evidence of several checks together.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any, Dict, List, Optional, Protocol

from .catalogue import ServiceSpec

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "vpce_doctor.checks"
SERVICE = "service"
NODE = "node"

# The built-ins, also declared as entry points in pyproject.toml; listed here too so a
# copy without package metadata (a zipapp, a source checkout) still has them.
BUILTIN = {
    "dns": "vpce_doctor.checks.dns:DnsCheck",
    "tls": "vpce_doctor.checks.tls:TlsCheck",
    "api": "vpce_doctor.checks.api:ApiCheck",
    "inventory": "vpce_doctor.checks.inventory:InventoryCheck",
    "imds": "vpce_doctor.checks.imds:ImdsCheck",
    "credentials": "vpce_doctor.checks.credentials:CredentialsCheck",
    "proxy": "vpce_doctor.checks.proxy:ProxyCheck",
    "cluster_endpoint": "vpce_doctor.checks.cluster_endpoint:ClusterEndpointCheck",
    "no_privatelink": "vpce_doctor.checks.no_privatelink:NoPrivateLinkCheck",
    "sts_global": "vpce_doctor.checks.sts_global:StsGlobalCheck",
    "pod_identity": "vpce_doctor.checks.pod_identity:PodIdentityCheck",
    "image_pull": "vpce_doctor.checks.image_pull:ImagePullCheck",
}


class Check(Protocol):
    id: str
    scope: str
    title: str

    def run(self, ctx: Any, service: Optional[ServiceSpec]) -> Any: ...


class CheckLoadError(Exception):
    pass


def _load(name: str, target: str) -> Check:
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    check = obj() if isinstance(obj, type) else obj
    if getattr(check, "id", None) != name:
        raise CheckLoadError("check %s declares id %r; the id and its registered name must agree"
                             % (target, getattr(check, "id", None)))
    if getattr(check, "scope", None) not in (SERVICE, NODE):
        raise CheckLoadError("check %s has scope %r; expected 'service' or 'node'" % (target, getattr(check, "scope", None)))
    return check


def _entry_points() -> Dict[str, str]:
    from .entry_points import group  # what importlib.metadata would say, without its imports

    return group(ENTRY_POINT_GROUP)


def load_checks(entry_points: Optional[Dict[str, str]] = None) -> List[Check]:
    """Built-ins first, then outside checks; a built-in wins an id clash (with a warning).
    A broken outside check is logged and left out; a broken built-in is a bug and raises."""
    checks = [_load(name, target) for name, target in BUILTIN.items()]
    outside = _entry_points() if entry_points is None else entry_points
    for name, target in sorted(outside.items()):
        if name in BUILTIN:
            if target != BUILTIN[name]:
                log.warning("check %r from %s ignored: a built-in check has that id", name, target)
            continue
        try:
            checks.append(_load(name, target))
        except Exception as exc:
            log.warning("check %r from %s not loaded: %s", name, target, exc)
    return checks
