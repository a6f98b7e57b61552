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


# The SOA Route 53 gives a private hosted zone, as `aws route53 list-resource-record-sets` shows it for the
# private zone of a Cloud Map DNS_PRIVATE namespace (awsdocs/amazon-ecs-developer-guide,
# doc_source/create-service-discovery.md: TTL 900); docs.aws.amazon.com/Route53/latest/DeveloperGuide/
# SOA-NSrecords.html names the fields (the RNAME "an amazon.com email address that is not monitored").
ROUTE53_PRIVATE_SOA = "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
ROUTE53_SOA_TTL = 900


@dataclass
class ZoneData:
    """name -> IPv4 addresses; nxdomain names; names under `public_domains` not listed get
    `public_answer(name)`; anything else is REFUSED (a resolver with no upstream).
    `zones`: private hosted zones (name -> SOA rdata) the resolver answers from: a name under one
    without a record is NXDOMAIN (the zone's apex NODATA), with the zone's SOA in the authority section
    (RFC 2308 section 3: an authoritative server must put it there), never the public answer."""

    records: Dict[str, List[str]] = field(default_factory=dict)
    nxdomain: List[str] = field(default_factory=list)
    public_domains: Tuple[str, ...] = ()
    public_answer: Optional[object] = None  # callable name -> address
    forward_to: Optional[Tuple[str, int]] = None  # forward what is not local here
    # names the public answer is written out for, for servers that cannot compute it (dnsmasq)
    known_names: Tuple[str, ...] = ()
    zones: Dict[str, str] = field(default_factory=dict)
    # dnsmasq cannot write an SOA into a negative answer: it forwards the zones to a server that does
    zone_server: Optional[Tuple[str, int]] = None

    def zone_of(self, name: str) -> Optional[str]:
        """The most specific private zone holding name (Route 53 Resolver's choice among the VPC's zones)."""
        found = [z for z in self.zones if name == z or name.endswith("." + z)]
        return max(found, key=len) if found else None


def answer(zone: ZoneData, query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    question = query.question[0]
    name = question.name.to_text().rstrip(".").lower()
    if name in zone.nxdomain:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response
    addresses = zone.records.get(name)
    owner = zone.zone_of(name)
    if owner is not None and (addresses is None or question.rdtype != dns.rdatatype.A):
        if addresses is None and name != owner:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.flags |= dns.flags.AA
        response.authority.append(dns.rrset.from_text(owner + ".", ROUTE53_SOA_TTL, "IN", "SOA", zone.zones[owner]))
        return response
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
