"""DNS lookups through one named resolver, ignoring /etc/resolv.conf.

Keeps what a human needs to tell causes apart: rcode, CNAME chain, which server
answered, timing, and the server's error as data rather than str(error).

One server, one question: dnspython's query functions (UDP, then TCP when the answer is
truncated), not its Resolver. With a single nameserver the Resolver adds nothing but a 0.1 s
back-off sleep before it admits the lifetime is spent (every blackholed lookup overran
--timeout by it) and ~25 ms of imports (dns.resolver pulls in DoH/DoQ/DDR machinery).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from ...core.addresses import (SCOPE_PUBLIC, SCOPE_REMOTE, SCOPE_VPC, NetworkGuard, NetworkNotAllowed, address_scope,
                               format_addr, in_networks)

# resolver roles (part of the JSON interface): the VPC's own resolver, or one the node lists itself
VPC = "vpc"
NODE = "node"

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
class Soa:
    """The SOA a negative answer carries in its authority section (RFC 2308 section 3: an authoritative
    server MUST put its zone's SOA there for NXDOMAIN and NODATA): which zone said the name is not there."""
    zone: str
    mname: str
    rname: str

    @property
    def route53(self) -> bool:
        """Route 53 writes awsdns-hostmaster.amazon.com as every hosted zone's RNAME (docs.aws.amazon.com/Route53/
        latest/DeveloperGuide/SOA-NSrecords.html: "an amazon.com email address that is not monitored"; a private
        zone's SOA in awsdocs/amazon-ecs-developer-guide doc_source/create-service-discovery.md reads
        "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")."""
        return self.rname.rstrip(".").lower() == ROUTE53_RNAME


ROUTE53_RNAME = "awsdns-hostmaster.amazon.com"


@dataclass(frozen=True)
class DnsLookup:
    hostname: str
    rdtype: str
    resolver_role: str  # VPC or NODE
    server: str
    status: str
    addresses: Tuple[ResolvedAddress, ...] = ()
    cname_chain: Tuple[str, ...] = ()
    rcode: Optional[str] = None
    answered_by: Optional[str] = None
    ms: float = 0.0
    errors: Tuple[ServerError, ...] = field(default=())
    soa: Optional[Soa] = None  # NXDOMAIN / NODATA: the zone that answered, from the authority section

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
    started = time.monotonic()

    def elapsed() -> float:
        return (time.monotonic() - started) * 1000.0

    def failed(status: str, tcp: bool, error: str, rcode: Optional[str] = None) -> DnsLookup:
        return DnsLookup(status=status, rcode=rcode, errors=(ServerError(ip, tcp, port, error),), ms=elapsed(), **base)

    tcp = False
    try:
        request = dns.message.make_query(hostname, rdtype)
        try:
            # answers to another id or question, and datagrams that do not parse, are waited past
            # (an off-path spoofer or a broken middlebox), as dnspython's resolver does
            response = dns.query.udp(request, ip, timeout=timeout, port=port, raise_on_truncation=True,
                                     ignore_errors=True, ignore_unexpected=True)
        except dns.message.Truncated:
            tcp = True
            response = dns.query.tcp(request, ip, timeout=max(0.0, timeout - (time.monotonic() - started)), port=port)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return DnsLookup(status=NXDOMAIN, rcode="NXDOMAIN", answered_by=server_text, cname_chain=_cnames(response),
                             soa=_soa(response), ms=elapsed(), **base)
        if rcode != dns.rcode.NOERROR:
            text = dns.rcode.to_text(rcode)
            return failed({"SERVFAIL": SERVFAIL, "REFUSED": REFUSED}.get(text, ERROR), tcp, text, text)
        rrset = response.resolve_chaining().answer  # follows CNAMEs in the answer; a loop raises ChainTooLong
    except dns.exception.Timeout as exc:
        return failed(TIMEOUT, tcp, "%s: %s" % (type(exc).__name__, exc))
    except (OSError, EOFError, dns.exception.DNSException) as exc:  # TCP refused or cut, a malformed TCP answer
        return failed(ERROR, tcp, "%s: %s" % (type(exc).__name__, exc))
    addresses = tuple(resolved(rr.address, vpc_cidrs, remote_cidrs) for rr in (rrset or ()))
    return DnsLookup(
        status=ANSWER if addresses else NODATA,
        addresses=addresses,
        cname_chain=_cnames(response),
        rcode=dns.rcode.to_text(rcode),
        answered_by=server_text,
        soa=None if addresses else _soa(response),
        ms=elapsed(),
        **base,
    )


def _cnames(response) -> Tuple[str, ...]:
    chain: List[str] = []
    for rrset in getattr(response, "answer", []) or []:
        if rrset.rdtype == dns.rdatatype.CNAME:
            chain.extend(str(rr.target).rstrip(".") for rr in rrset)
    return tuple(chain)


def _soa(response) -> Optional[Soa]:
    for rrset in getattr(response, "authority", []) or []:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            record = rrset[0]
            return Soa(zone=str(rrset.name).rstrip(".").lower(), mname=str(record.mname).rstrip(".").lower(),
                       rname=str(record.rname).rstrip(".").lower())
    return None
