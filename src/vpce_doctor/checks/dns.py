"""DNS: every service hostname, A and AAAA, through the VPC resolver and each node resolver."""
from __future__ import annotations

from typing import List

from .probes.dns import DnsLookup


class DnsCheck:
    id = "dns"
    scope = "service"
    title = "DNS through the VPC resolver and the node's resolvers"

    def run(self, ctx, service) -> List[DnsLookup]:
        calls = [
            (lambda h=hostname, role=role, server=server, t=rdtype: ctx.dns(h, role, server, t))
            for hostname in ctx.hostnames(service)
            for role, server in ctx.resolvers
            for rdtype in ("A", "AAAA")
        ]
        return ctx.gather(calls)
