"""Proxy: kubelet's and containerd's HTTPS_PROXY against their NO_PROXY.

With a proxy set, every AWS call those daemons make goes to the proxy unless NO_PROXY
names it, so the VPC endpoints are bypassed even when DNS and TLS are perfect."""
from __future__ import annotations

from typing import Any, Dict, List

from ..core.addresses import in_networks


def no_proxy_gaps(no_proxy: str, region: str, dns_suffix: str, vpc_cidrs: List[str]) -> List[str]:
    """What NO_PROXY lacks. Entries are matched the way Go's httpproxy does: a domain
    suffix (with or without a leading dot), an exact host, or a CIDR."""
    entries = [e.strip().lower() for e in no_proxy.split(",") if e.strip()]
    if "*" in entries:
        return []
    domains = [e.lstrip(".") for e in entries if "/" not in e]
    cidrs = [e for e in entries if "/" in e]

    def covers_domain(name: str) -> bool:
        return any(name == d or name.endswith("." + d) for d in domains)

    gaps = []
    if not covers_domain("ec2.%s.%s" % (region, dns_suffix)):
        gaps.append(".%s" % dns_suffix)
    if "169.254.169.254" not in entries and not in_networks("169.254.169.254", cidrs):
        gaps.append("169.254.169.254")
    for cidr in vpc_cidrs:
        network_address = cidr.split("/")[0]
        if cidr.lower() not in entries and not in_networks(network_address, cidrs):
            gaps.append(cidr)
    return gaps


class ProxyCheck:
    id = "proxy"
    scope = "node"
    title = "kubelet/containerd proxy settings against NO_PROXY"

    def run(self, ctx, service=None) -> List[Dict[str, Any]]:
        out = []
        for component in ctx.facts.components:
            environ = component.get("environ")
            if environ is None:
                continue
            entry = {"component": component["name"], "pid": component["pid"], "readable": environ.get("readable")}
            if not environ.get("readable"):
                entry["error"] = environ.get("error")
            else:
                proxy = environ.get("proxy", {})
                entry["https_proxy"] = _without_userinfo(proxy.get("HTTPS_PROXY"))
                entry["no_proxy"] = proxy.get("NO_PROXY")
                if proxy.get("HTTPS_PROXY"):
                    entry["missing"] = no_proxy_gaps(proxy.get("NO_PROXY", ""), ctx.facts.region,
                                                     ctx.partition.dns_suffix, list(ctx.facts.vpc_cidrs))
            out.append(entry)
        return out


def _without_userinfo(url):
    """http://user:password@proxy:3128 -> http://***@proxy:3128: a proxy password is a secret."""
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.rpartition("://")
    return "%s://***@%s" % (scheme or "http", rest.rsplit("@", 1)[-1])
