"""Address parsing and the network allow-list every probe obeys."""
from __future__ import annotations

import ipaddress
from typing import Iterable, Optional, Sequence, Tuple


class AddressError(ValueError):
    pass


class NetworkNotAllowed(Exception):
    """A probe was about to send to an address outside --allow-net."""


def parse_addr(text: str, default_port: int) -> Tuple[str, int]:
    """IP, IP:PORT or [IPv6]:PORT (a bare IPv6 address is taken whole) -> (ip, port)."""
    text = text.strip()
    try:
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else default_port
        elif text.count(":") == 1:
            host, port_text = text.split(":")
            port = int(port_text)
        else:
            host, port = text, default_port
        ipaddress.ip_address(host)
    except ValueError:
        raise AddressError("not an address: %r (expected IP, IP:PORT or [IPv6]:PORT)" % text) from None
    if not 0 < port < 65536:
        raise AddressError("port out of range in %r" % text)
    return host, port


def format_addr(ip: str, port: int) -> str:
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def in_networks(ip: str, cidrs: Iterable[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if address.version == network.version and address in network:
            return True
    return False


# Address scopes (part of the JSON interface): where a DNS answer points.
SCOPE_VPC = "vpc"  # one of this VPC's own CIDR blocks (primary or secondary, IPv4 or IPv6)
SCOPE_REMOTE = "remote"  # private, but elsewhere: a hub VPC over a transit gateway or peering
SCOPE_PUBLIC = "public"
# Private address space outside the VPC: RFC 1918, shared address space (RFC 6598), unique-local IPv6.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


def address_scope(ip: str, vpc_cidrs: Iterable[str], remote_cidrs: Iterable[str] = ()) -> str:
    """vpc, remote or public. The VPC's own blocks win; then private ranges and the CIDRs the
    operator (--endpoint-cidr) or the route table (transit gateway / peering routes) name."""
    if in_networks(ip, vpc_cidrs):
        return SCOPE_VPC
    if in_networks(ip, PRIVATE_RANGES) or in_networks(ip, remote_cidrs):
        return SCOPE_REMOTE
    return SCOPE_PUBLIC


def containing_network(ip: str, cidrs: Iterable[str]) -> Optional[str]:
    """The most specific of cidrs that holds ip, or None."""
    best = None
    for cidr in cidrs:
        if in_networks(ip, [cidr]):
            prefix = ipaddress.ip_network(cidr, strict=False).prefixlen
            if best is None or prefix > best[0]:
                best = (prefix, cidr)
    return best[1] if best else None


class NetworkGuard:
    """Refuses traffic to any address outside the allowed networks (when any are set).

    Production runs allow everything; the demo and the test suite pass
    --allow-net 127.0.0.0/8 so a bug can never send a packet off the machine.
    """

    def __init__(self, allowed: Optional[Sequence[str]] = None):
        self.allowed = tuple(allowed or ())

    def check(self, ip: str) -> None:
        if self.allowed and not in_networks(ip, self.allowed):
            raise NetworkNotAllowed("%s is outside --allow-net %s" % (ip, ",".join(self.allowed)))
