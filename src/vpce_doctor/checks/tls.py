"""TLS: handshake with the service's SNI on every address the node would use, and on
every endpoint ENI address the inventory lists (per AZ)."""
from __future__ import annotations

from dataclasses import replace
from typing import List

from .probes.tls import TlsResult, handshake

MAX_ADDRESSES = 16  # bound the fan-out whatever DNS or the inventory return


class TlsCheck:
    id = "tls"
    scope = "service"
    title = "TCP 443 and TLS handshake with SNI"

    def run(self, ctx, service) -> List[TlsResult]:
        hostname = ctx.hostnames(service)[0]
        # What DNS gives goes first; it does not wait for the inventory.
        dns_addresses = ctx.node_addresses(hostname)[:MAX_ADDRESSES]
        results = dns_handshakes(ctx, service)
        # Timer mode may carry the inventory over from an earlier run (agent/carry.py sets the plan).
        plan = getattr(ctx, "evidence_plan", None)
        inventory = plan.inventory(ctx) if plan is not None else ctx.inventory()
        endpoint = inventory.endpoint_for(ctx.endpoint_service_name(service)) if inventory.available else None
        if endpoint is not None:
            seen = set(dns_addresses)
            extra = [(eni.address, eni.availability_zone) for eni in endpoint.enis if eni.address not in seen]
            results += ctx.gather([lambda a=a, z=z: _probe(ctx, a, hostname, "inventory", z)
                                   for a, z in extra[:MAX_ADDRESSES]])
            by_address = {eni.address: eni.availability_zone for eni in endpoint.enis}
            results = [_with_az(r, by_address) for r in results]
        return results


def dns_handshakes(ctx, service) -> List[TlsResult]:
    """Handshakes on the addresses the node resolves, memoised per run: the TLS check and
    timer mode's evidence fingerprint (agent/carry.py) share them instead of dialling twice."""
    hostname = ctx.hostnames(service)[0]
    addresses = ctx.node_addresses(hostname)[:MAX_ADDRESSES]
    return ctx.gather([lambda a=a: _probe(ctx, a, hostname, "dns", None) for a in addresses])


def _probe(ctx, address, hostname, source, az) -> TlsResult:
    port = ctx.settings.https_port
    return ctx.memo.get(("tls", address, port, hostname, source, az), lambda: handshake(
        address, port, hostname, source, az, ctx.ssl_context(), ctx.step_timeout(), ctx.guard))


def _with_az(result: TlsResult, by_address) -> TlsResult:
    if result.availability_zone is None and result.address in by_address:
        return replace(result, availability_zone=by_address[result.address])
    return result
