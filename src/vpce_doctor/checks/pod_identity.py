"""EKS Pod Identity agent: when it runs, its link-local address must answer HTTP on the node.

Pods given a Pod Identity association fetch credentials from http://169.254.170.23/v1/credentials
(and [fd00:ec2::23] in IPv6 clusters). The agent's init step puts those addresses on a dummy
link (pod-id-link0) and the agent listens there on port 80; any HTTP answer means it is up.
"""
from __future__ import annotations

import errno
import http.client
import ipaddress
import socket
import time
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import urlsplit

from ..core.addresses import NetworkGuard, NetworkNotAllowed, in_networks

AGENT = "eks-pod-identity-agent"
IPV4_ENDPOINT = "http://169.254.170.23"
IPV6_ENDPOINT = "http://[fd00:ec2::23]"


def local_addresses() -> Dict[str, str]:
    """Every address on the node's interfaces -> interface name."""
    try:
        import psutil
    except ImportError:
        return {}
    out = {}
    for name, addresses in psutil.net_if_addrs().items():
        for a in addresses:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                out[a.address.split("%")[0]] = name
    return out


def default_endpoints(vpc_cidrs: Sequence[str], addresses: Dict[str, str]) -> List[str]:
    """IPv4 always; IPv6 too on a node that holds an address in one of the VPC's IPv6 blocks."""
    ipv6_blocks = [c for c in vpc_cidrs if ":" in c]
    ipv6_node = any(":" in a and in_networks(a, ipv6_blocks) for a in addresses)
    return [IPV4_ENDPOINT] + ([IPV6_ENDPOINT] if ipv6_node else [])


def bound_on(host: str, addresses: Dict[str, str]) -> Optional[str]:
    """The interface holding host, 'lo' for a loopback address (all of 127/8 answers there), or None."""
    if host in addresses:
        return addresses[host]
    try:
        return "lo" if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def probe(url: str, timeout: float, guard: NetworkGuard, addresses: Dict[str, str]) -> Dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    result: Dict[str, Any] = {"url": "%s://%s" % (parts.scheme or "http", parts.netloc), "address": host,
                              "port": port, "bound_on": bound_on(host, addresses)}
    started = time.monotonic()
    try:
        guard.check(host)
    except NetworkNotAllowed as exc:
        result.update(up=None, error_kind="not_allowed", error=str(exc))
        return result
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"User-Agent": "vpce-doctor"})
        response = conn.getresponse()
        response.read(4096)
        result.update(up=True, http_status=response.status)
    except socket.timeout:
        result.update(up=False, error_kind="timeout", error="no answer within %.1fs" % timeout)
    except OSError as exc:
        kind = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "unreachable", errno.ENETUNREACH: "unreachable",
                errno.EADDRNOTAVAIL: "unreachable"}.get(exc.errno or 0, "error")
        result.update(up=False, error_kind=kind, error=exc.strerror or str(exc))
    except http.client.HTTPException as exc:
        result.update(up=False, error_kind="not_http", error="%s: %s" % (type(exc).__name__, exc))
    finally:
        conn.close()
    result["ms"] = round((time.monotonic() - started) * 1000.0, 1)
    return result


class PodIdentityCheck:
    id = "pod_identity"
    scope = "node"
    title = "EKS Pod Identity agent answers on its link-local address"

    def run(self, ctx, service=None) -> Dict[str, Any]:
        agent = next((c for c in ctx.facts.components if c["name"] == AGENT), None)
        if agent is None:
            return {"running": False}
        addresses = local_addresses()
        urls = list(ctx.settings.pod_identity_endpoints) or default_endpoints(ctx.facts.vpc_cidrs, addresses)
        results = ctx.parallel([lambda u=u: probe(u, ctx.step_timeout(), ctx.guard, addresses) for u in urls])
        probes = [r if not isinstance(r, BaseException) else {"url": u, "up": False, "error_kind": "error",
                                                              "error": "%s: %s" % (type(r).__name__, r)}
                  for u, r in zip(urls, results)]
        return {"running": True, "pid": agent.get("pid"), "probes": probes}
