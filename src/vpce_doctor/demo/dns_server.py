"""A small authoritative-and-forwarding DNS responder on a loopback address (UDP and TCP),
for the demo. The test suite runs the same zone data through real dnsmasq (dnsmasq.py)."""
from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass
class ZoneData:
    """name -> IPv4 addresses; nxdomain names; names under `public_domains` not listed get
    `public_answer(name)`; anything else is REFUSED (a resolver with no upstream)."""

    records: Dict[str, List[str]] = field(default_factory=dict)
    nxdomain: List[str] = field(default_factory=list)
    public_domains: Tuple[str, ...] = ()
    public_answer: Optional[object] = None  # callable name -> address
    forward_to: Optional[Tuple[str, int]] = None  # forward what is not local here
    # names the public answer is written out for, for servers that cannot compute it (dnsmasq)
    known_names: Tuple[str, ...] = ()


def answer(zone: ZoneData, query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    question = query.question[0]
    name = question.name.to_text().rstrip(".").lower()
    if name in zone.nxdomain:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response
    addresses = zone.records.get(name)
    if addresses is None and zone.forward_to is not None:
        return _forward(zone.forward_to, query)
    if addresses is None and zone.public_answer is not None and any(
            name == d or name.endswith("." + d) for d in zone.public_domains):
        addresses = [zone.public_answer(name)]
    if addresses is None:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    if question.rdtype == dns.rdatatype.A:
        response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", *addresses))
    return response  # AAAA: NODATA, as for a VPC without IPv6 endpoints


def _forward(server: Tuple[str, int], query: dns.message.Message) -> dns.message.Message:
    try:
        return dns.query.udp(query, server[0], port=server[1], timeout=1.0)
    except Exception:
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
        return response


class _Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        sock.sendto(answer(self.server.zone, query).to_wire(), self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2.0)
        try:
            length = int.from_bytes(self.request.recv(2), "big")
            query = dns.message.from_wire(self.request.recv(length))
        except Exception:
            return
        wire = answer(self.server.zone, query).to_wire()
        self.request.sendall(len(wire).to_bytes(2, "big") + wire)


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


class DnsResponder:
    def __init__(self, address: str, zone: ZoneData):
        self.address, self.zone = address, zone
        self.port = 0
        self._servers: list = []

    def start(self) -> "DnsResponder":
        for _ in range(20):  # UDP and TCP on the same free port
            udp = _UdpServer((self.address, 0), _Udp)
            port = udp.server_address[1]
            try:
                tcp = _TcpServer((self.address, port), _Tcp)
            except OSError:
                udp.server_close()
                continue
            break
        else:
            raise OSError("no free UDP+TCP port pair on %s" % self.address)
        for server in (udp, tcp):
            server.zone = self.zone
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._servers = [udp, tcp]
        self.port = port
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []
