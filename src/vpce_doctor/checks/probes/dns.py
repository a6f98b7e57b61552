"""DNS lookups through one named resolver, ignoring /etc/resolv.conf.

Keeps what a human needs to tell causes apart: rcode, CNAME chain, which server
answered, timing, and dnspython's per-server error list rather than str(error).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

import dns.exception
import dns.flags
import dns.rcode
import dns.rdatatype
import dns.resolver

from ...core.addresses import (SCOPE_PUBLIC, SCOPE_REMOTE, SCOPE_VPC, NetworkGuard, NetworkNotAllowed, address_scope,
                               format_addr, in_networks)

# status words (part of the JSON interface)
ANSWER = "answer"
NXDOMAIN = "nxdomain"
NODATA = "nodata"
TIMEOUT = "timeout"
SERVFAIL = "servfail"
REFUSED = "refused"
ERROR = "error"
FAILURES = (TIMEOUT, SERVFAIL, REFUSED, ERROR)


@dataclass(frozen=True)
class ResolvedAddress:
    address: str
    in_vpc: bool  # kept beside scope for readers of schema 1: scope == "vpc"
    scope: str = ""  # vpc | remote | public (core/addresses.py); derived from in_vpc when not given

    def __post_init__(self) -> None:
        if not self.scope:
            object.__setattr__(self, "scope", SCOPE_VPC if self.in_vpc else SCOPE_PUBLIC)


def resolved(address: str, vpc_cidrs: Sequence[str], remote_cidrs: Sequence[str] = ()) -> ResolvedAddress:
    scope = address_scope(address, vpc_cidrs, remote_cidrs)
    return ResolvedAddress(address=address, in_vpc=scope == SCOPE_VPC, scope=scope)


@dataclass(frozen=True)
class ServerError:
    server: str
    tcp: bool
    port: int
    error: str


@dataclass(frozen=True)
class DnsLookup:
    hostname: str
    rdtype: str
    resolver_role: str  # "vpc" or "node"
    server: str
    status: str
    addresses: Tuple[ResolvedAddress, ...] = ()
    cname_chain: Tuple[str, ...] = ()
    rcode: Optional[str] = None
    answered_by: Optional[str] = None
    ms: float = 0.0
    errors: Tuple[ServerError, ...] = field(default=())

    @property
    def failed(self) -> bool:
        return self.status in FAILURES

    @property
    def any_in_vpc(self) -> bool:
        return any(a.in_vpc for a in self.addresses)

    @property
    def any_outside_vpc(self) -> bool:
        return any(not a.in_vpc for a in self.addresses)

    @property
    def any_remote(self) -> bool:
        return any(a.scope == SCOPE_REMOTE for a in self.addresses)

    @property
    def any_private(self) -> bool:
        """Some answer is an endpoint address: in this VPC or private elsewhere (a hub)."""
        return any(a.scope != SCOPE_PUBLIC for a in self.addresses)

    @property
    def all_public(self) -> bool:
        return bool(self.addresses) and not self.any_private

    def addresses_in(self, scope: str) -> Tuple[str, ...]:
        return tuple(a.address for a in self.addresses if a.scope == scope)


def with_remote_networks(lookup: DnsLookup, networks: Sequence[str]) -> DnsLookup:
    """The lookup with public answers that fall in `networks` (transit gateway / peering
    destinations of the node's route table, read after the lookup) counted as remote."""
    if not networks or not any(a.scope == SCOPE_PUBLIC and in_networks(a.address, networks) for a in lookup.addresses):
        return lookup
    addresses = tuple(ResolvedAddress(a.address, False, SCOPE_REMOTE)
                      if a.scope == SCOPE_PUBLIC and in_networks(a.address, networks) else a for a in lookup.addresses)
    return replace(lookup, addresses=addresses)


def _server_errors(exc: BaseException) -> Tuple[Tuple[ServerError, ...], Optional[str]]:
    """dnspython keeps (server, tcp, port, error, response) per try; keep it as data."""
    errors = []
    rcode = None
    for item in (getattr(exc, "kwargs", {}) or {}).get("errors", []) or []:
        server, tcp, port, err, response = (tuple(item) + (None,) * 5)[:5]
        if response is not None:
            rcode = dns.rcode.to_text(response.rcode())
        text = err if isinstance(err, str) else "%s: %s" % (type(err).__name__, err)
        errors.append(ServerError(server=str(server), tcp=bool(tcp), port=int(port or 0), error=str(text)))
    return tuple(errors), rcode


def lookup(
    hostname: str,
    rdtype: str,
    server: Tuple[str, int],
    resolver_role: str,
    timeout: float,
    vpc_cidrs: Sequence[str],
    guard: NetworkGuard,
    remote_cidrs: Sequence[str] = (),
) -> DnsLookup:
    ip, port = server
    server_text = format_addr(ip, port)
    base = dict(hostname=hostname, rdtype=rdtype, resolver_role=resolver_role, server=server_text)
    try:
        guard.check(ip)
    except NetworkNotAllowed as exc:
        return DnsLookup(status=ERROR, errors=(ServerError(server_text, False, port, str(exc)),), **base)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [ip]
    resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.cache = None
    started = time.monotonic()

    def elapsed() -> float:
        return (time.monotonic() - started) * 1000.0

    try:
        answer = resolver.resolve(hostname, rdtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        responses = list(exc.responses().values()) if hasattr(exc, "responses") else []
        chain = _cnames(responses[0]) if responses else ()
        return DnsLookup(status=NXDOMAIN, rcode="NXDOMAIN", answered_by=server_text,
                         cname_chain=chain, ms=elapsed(), **base)
    except dns.resolver.LifetimeTimeout as exc:
        errors, _ = _server_errors(exc)
        return DnsLookup(status=TIMEOUT, errors=errors, ms=elapsed(), **base)
    except dns.resolver.NoNameservers as exc:
        errors, rcode = _server_errors(exc)
        status = {"SERVFAIL": SERVFAIL, "REFUSED": REFUSED}.get(rcode or "", ERROR)
        return DnsLookup(status=status, rcode=rcode, errors=errors, ms=elapsed(), **base)
    except dns.exception.DNSException as exc:
        return DnsLookup(status=ERROR, errors=(ServerError(server_text, False, port, "%s: %s" % (type(exc).__name__, exc)),),
                         ms=elapsed(), **base)
    addresses = tuple(resolved(rr.address, vpc_cidrs, remote_cidrs) for rr in (answer.rrset or ()))
    return DnsLookup(
        status=ANSWER if addresses else NODATA,
        addresses=addresses,
        cname_chain=_cnames(answer.response),
        rcode=dns.rcode.to_text(answer.response.rcode()),
        answered_by=format_addr(answer.nameserver, answer.port),
        ms=elapsed(),
        **base,
    )


def _cnames(response) -> Tuple[str, ...]:
    chain: List[str] = []
    for rrset in getattr(response, "answer", []) or []:
        if rrset.rdtype == dns.rdatatype.CNAME:
            chain.extend(str(rr.target).rstrip(".") for rr in rrset)
    return tuple(chain)
