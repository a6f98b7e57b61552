"""Cluster endpoint: the EKS API server name must resolve inside the VPC and answer TLS on 443."""
from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from .probes.tls import handshake


class ClusterEndpointCheck:
    id = "cluster_endpoint"
    scope = "node"
    title = "EKS API server reachable from the node"

    def run(self, ctx, service=None):
        url = ctx.facts.cluster_endpoint
        if not url:
            return {"known": False}
        parts = urlsplit(url)
        hostname = parts.hostname or ""
        # The lab and demo serve the API server on the same port as the endpoints.
        port = parts.port or ctx.settings.https_port
        node = [(r, s) for r, s in ctx.resolvers if r == "node"] or ctx.resolvers[:1]
        lookup = ctx.dns(hostname, node[0][0], node[0][1])
        tls = ctx.parallel([
            lambda a=a: handshake(a.address, port, hostname, "dns", None, _reachability_context(),
                                  ctx.step_timeout(), ctx.guard)
            for a in lookup.addresses[:4]
        ])
        tls = [t for t in tls if not isinstance(t, BaseException)]
        return {"known": True, "url": url, "hostname": hostname, "dns": lookup, "tls": tls}


_CONTEXT = []  # built once per process: ssl.create_default_context() would load the system CA store


def _reachability_context() -> ssl.SSLContext:
    # The API server's certificate chains to the cluster's own CA, not the system store;
    # this check asks "does 443 answer TLS from here", trust is kubelet's business. So no CA
    # store at all (loading one costs ~20 ms of CPU per context, for nothing verified).
    if not _CONTEXT:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _CONTEXT.append(context)
    return _CONTEXT[0]
