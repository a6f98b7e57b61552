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
