"""Does a name outside the catalogue work from this node? Its answers from the VPC resolver
and from the node's own resolver, then TCP and TLS with its SNI to the first few addresses the
node would use. Shared by the checks that judge names no endpoint serves (no_privatelink,
sts_global); the catalogue's services have their own dns and tls checks."""
from __future__ import annotations

from typing import Any, Dict

from .probes.tls import handshake

MAX_ADDRESSES = 4  # bound the fan-out whatever DNS returns


def reach(ctx, hostname: str) -> Dict[str, Any]:
    vpc_role, vpc_server = ctx.resolvers[0]
    vpc = ctx.dns(hostname, vpc_role, vpc_server)
    node_role, node_server = ([(r, s) for r, s in ctx.resolvers if r == "node"] or ctx.resolvers[:1])[0]
    node = ctx.dns(hostname, node_role, node_server)
    addresses = [a.address for a in (node.addresses or vpc.addresses)][:MAX_ADDRESSES]
    port = ctx.settings.https_port
    tls = ctx.parallel([
        lambda a=a: handshake(a, port, hostname, "dns", None, ctx.ssl_context(), ctx.step_timeout(), ctx.guard)
        for a in addresses
    ])
    tls = [t for t in tls if not isinstance(t, BaseException)]
    return {"hostname": hostname, "vpc_dns": vpc, "node_dns": node if node is not vpc else None, "tls": tls,
            "resolves_in_vpc": vpc.any_in_vpc, "connects": any(t.ok for t in tls)}
