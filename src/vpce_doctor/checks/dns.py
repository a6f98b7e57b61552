"""DNS: every service hostname, A and AAAA, through the VPC resolver and each node resolver."""
from __future__ import annotations

from typing import List

from .probes.dns import DnsLookup, with_remote_networks


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
        lookups = ctx.gather(calls)
        # A public-looking answer may still be a hub VPC's endpoint when the node subnet's route
        # table sends that range to a transit gateway or peering connection. Only then is the
        # route table waited for: answers inside the VPC or in private ranges need no API call.
        if any(a.scope == "public" for lookup in lookups for a in lookup.addresses):
            table = ctx.route_table()
            if table.available:
                lookups = [with_remote_networks(lookup, table.remote_networks()) for lookup in lookups]
        return lookups
