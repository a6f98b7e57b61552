"""Hostile servers on loopback for the fault table: a DNS server, an IMDS and an HTTPS endpoint that
each misbehave in one named way. Real sockets, real dnspython wire format, real TLS (trustme CA);
every server is bounded (daemon threads, short sleeps, closed on stop) and binds 127.77.x.y only."""
from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import threading
import time
from email.utils import formatdate
from typing import Callable, Dict, List, Optional

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

VPC_CIDR = "127.77.0.0/16"
ENDPOINT_IP = "127.77.1.20"


def free_port(ip: str) -> int:
    with socket.socket() as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


class _Threads:
    """Daemon threads with a stop flag; stop() closes the listening sockets so accept() returns."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.sockets: List[socket.socket] = []

    def spawn(self, target, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- DNS ------------------------------------------------------------------------------------------
DNS_MODES = ("good", "silence", "garbage", "truncated_tcp_refused", "truncated_tcp_silent", "compression_loop",
             "wrong_id", "other_name", "refused", "servfail", "late", "many_records", "cname_loop",
             "nxdomain_route53_parent", "nodata_route53_apex", "nxdomain_hostile_soa")
# Route 53's SOA for a private hosted zone (awsdocs/amazon-ecs-developer-guide create-service-discovery.md)
ROUTE53_SOA = "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"


class HostileDns(_Threads):
    """UDP and TCP on one port. `good` answers every A query with answer_ip and AAAA with NODATA;
    every other mode breaks the answer in the way its name says."""

    def __init__(self, ip: str, mode: str, answer_ip: str = ENDPOINT_IP, late: float = 3.0):
        super().__init__()
        assert mode in DNS_MODES, mode
        self.ip, self.mode, self.answer_ip, self.late = ip, mode, answer_ip, late
        self.port = 0
        self.queries = 0
        self.asked = []  # (name, type) of every query that parsed

    @property
    def addr(self) -> str:
        return "%s:%d" % (self.ip, self.port)

    def start(self) -> "HostileDns":
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((self.ip, 0))
        self.port = udp.getsockname()[1]
        self.sockets.append(udp)
        self.spawn(self._udp_loop, udp)
        if self.mode != "truncated_tcp_refused":  # nothing listens on TCP: connections are refused
            tcp = socket.socket()
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((self.ip, self.port))
            tcp.listen(64)
            self.sockets.append(tcp)
            self.spawn(self._tcp_loop, tcp)
        return self

    def answer(self, wire: bytes, tcp: bool) -> Optional[bytes]:
        """The bytes to send back for one query, or None for silence."""
        self.queries += 1
        mode = self.mode
        if mode == "silence" or (mode == "truncated_tcp_silent" and tcp):
            return None
        if mode == "garbage":
            return os.urandom(48)
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        self.asked.append((qname.to_text().rstrip(".").lower(), dns.rdatatype.to_text(qtype)))
        if mode in ("truncated_tcp_refused", "truncated_tcp_silent"):
            response.flags |= dns.flags.TC
            return response.to_wire()
        if mode == "compression_loop":
            # header + question, then an answer whose owner name is a pointer to itself
            head = struct.pack("!HHHHHH", query.id, 0x8180, 1, 1, 0, 0)
            question_wire = qname.to_wire() + struct.pack("!HH", qtype, 1)
            offset = len(head) + len(question_wire)
            return head + question_wire + struct.pack("!H", 0xC000 | offset) + struct.pack("!HHIH", 1, 1, 60, 4) \
                + socket.inet_aton(self.answer_ip)
        if mode == "refused":
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        if mode == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if mode == "other_name":
            other = dns.message.make_query("other.example.", qtype)
            other.id = query.id
            response = dns.message.make_response(other)
            qname = dns.name.from_text("other.example.")
        if mode == "cname_loop":
            loop = dns.name.from_text("loop.hostile.test.")
            response.answer.append(dns.rrset.from_text(qname, 60, "IN", "CNAME", loop.to_text()))
            response.answer.append(dns.rrset.from_text(loop, 60, "IN", "CNAME", qname.to_text()))
            return response.to_wire()
        if mode in ("nxdomain_route53_parent", "nodata_route53_apex", "nxdomain_hostile_soa"):
            # a negative answer with the zone's SOA in the authority section (RFC 2308 section 3)
            owner, soa = (qname, ROUTE53_SOA) if mode == "nodata_route53_apex" else (qname.parent(), ROUTE53_SOA)
            if mode == "nxdomain_hostile_soa":  # an escape sequence and shell syntax in the SOA's names
                soa = "\\027[31mns.evil. $\\(touch\\032/tmp/pwned\\).example. 1 7200 900 1209600 86400"
            if mode != "nodata_route53_apex":
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(dns.rrset.from_text(owner, 900, "IN", "SOA", soa))
            return response.to_wire()
        if qtype == dns.rdatatype.A:
            if mode == "many_records":
                addresses = ["127.77.%d.%d" % (2 + i // 250, 1 + i % 250) for i in range(300)]
            else:
                addresses = [self.answer_ip]
            response.answer.append(dns.rrset.from_text_list(qname, 60, "IN", "A", addresses))
        if mode == "wrong_id":
            response.id = (query.id + 1) % 65536
        if mode == "late":
            time.sleep(self.late)
        wire_out = response.to_wire()
        if not tcp and len(wire_out) > 512:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC
            return truncated.to_wire()
        return wire_out

    def _udp_loop(self, udp: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                wire, peer = udp.recvfrom(4096)
            except OSError:
                return
            self.spawn(self._udp_reply, udp, wire, peer)

    def _udp_reply(self, udp, wire, peer) -> None:
        try:
            out = self.answer(wire, tcp=False)
            if out is not None:
                udp.sendto(out, peer)
        except Exception:
            pass

    def _tcp_loop(self, tcp: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = tcp.accept()
            except OSError:
                return
            self.spawn(self._tcp_serve, conn)

    def _tcp_serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            size = struct.unpack("!H", _recv_exact(conn, 2))[0]
            out = self.answer(_recv_exact(conn, size), tcp=True)
            if out is None:
                self.stopping.wait(10)  # hold the connection open, say nothing
                return
            conn.sendall(struct.pack("!H", len(out)) + out)
        except Exception:
            pass
        finally:
            conn.close()


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("short read")
        data += chunk
    return data


# --- raw HTTP(S) ----------------------------------------------------------------------------------
def http_answer(status: int, body: bytes = b"", content_type: str = "text/xml", headers: Dict[str, str] = None,
                reason: str = "X") -> bytes:
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: %s" % content_type,
             "Content-Length: %d" % len(body), "Date: %s" % formatdate(usegmt=True), "Connection: close"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def wire_answer(entry_id: str, date_offset: float = 0.0, extra_headers: Dict[str, str] = None, **values: str) -> bytes:
    """A wire corpus answer (real AWS's, with its source) as bytes on the wire; its Date header
    `date_offset` seconds off this machine's clock, as from an AWS whose clock the node disagrees with."""
    from vpce_doctor.demo import wire

    entry = wire.corpus()[entry_id]
    defaults = {name: "v-%s" % name for name in entry.placeholders}
    defaults.update(values)
    status, headers, body = entry.render(**defaults)
    headers = dict(headers, **(extra_headers or {}))
    lines = ["HTTP/1.1 %d X" % status, "Content-Length: %d" % len(body),
             "Date: %s" % formatdate(time.time() + date_offset, usegmt=True), "Connection: close"]
    # the body goes whole, with its length: a capture's Transfer-Encoding does not describe it
    hop = ("content-length", "date", "connection", "transfer-encoding")
    lines += ["%s: %s" % kv for kv in headers.items() if kv[0].lower() not in hop]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Request:
    def __init__(self, method: str, path: str, headers: Dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body


# handler(request, index) -> bytes to send, or a callable(sock) that does the talking itself
Responder = Callable[[Request, int], object]


class RawServer(_Threads):
    """One listener; each connection is read as one HTTP request and answered by `respond`.
    With `context`, connections are TLS; `before_tls(sock)` may take over before any handshake
    (silence, reset, garbage, plain HTTP)."""

    def __init__(self, ip: str, respond: Optional[Responder] = None, context: Optional[ssl.SSLContext] = None,
                 before_tls: Optional[Callable[[socket.socket], None]] = None, port: int = 0):
        super().__init__()
        self.ip, self.respond, self.context, self.before_tls, self.port = ip, respond, context, before_tls, port
        self.requests: List[Request] = []

    def start(self) -> "RawServer":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.ip, self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self.sockets.append(listener)
        self.spawn(self._accept_loop, listener)
        return self

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self.spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            if self.before_tls is not None:
                self.before_tls(conn)
                return
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            out = self.respond(request, len(self.requests) - 1)
            if callable(out):
                out(conn)
            else:
                conn.sendall(out)
        except Exception:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _read_request(conn) -> Optional[Request]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = (lines[0].split(" ") + ["", ""])[:2]
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


def drip(data: bytes, every: float = 0.2, stop: Optional[threading.Event] = None):
    """A responder that sends `data` one byte at a time: each byte comes within any socket timeout,
    the whole never comes within a deadline."""
    def talk(sock) -> None:
        for byte in data:
            if stop is not None and stop.is_set():
                return
            sock.sendall(bytes([byte]))
            time.sleep(every)
    return talk


def silence(hold: float = 8.0):
    def talk(sock) -> None:
        time.sleep(hold)
    return talk


def reset(sock) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# --- IMDS -----------------------------------------------------------------------------------------
MAC = "0e:77:00:00:00:01"
ROLE = "node-role"


def imds_documents(credentials: Dict[str, object], identity: Optional[Dict[str, object]] = None) -> Dict[str, str]:
    """A good IMDS's paths. No vpc-id: the inventory is then skipped, so only the probe under test talks to
    the endpoint."""
    identity = identity or {"region": "us-east-1", "availabilityZone": "us-east-1a", "instanceId": "i-0fa17",
                            "accountId": "111122223333", "privateIp": "127.77.1.10"}
    return {
        "/latest/dynamic/instance-identity/document": json.dumps(identity),
        "/latest/meta-data/instance-id": str(identity.get("instanceId")),
        "/latest/meta-data/mac": MAC,
        "/latest/meta-data/local-ipv4": "127.77.1.10",
        "/latest/meta-data/iam/security-credentials/": ROLE,
        "/latest/meta-data/iam/security-credentials/" + ROLE: json.dumps(credentials),
    }


def good_credentials(marker: str = "IMDSMARK") -> Dict[str, object]:
    return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIA" + marker.upper().ljust(16, "X")[:16],
            "SecretAccessKey": marker + "-secret-" + "s" * 24, "Token": marker + "-token-" + "t" * 300,
            "Expiration": "2099-01-01T00:00:00Z"}


def imds_responder(paths: Dict[str, str], token_status: int = 200, token_body: bytes = b"imds-token-0123",
                   v1: bool = False):
    """IMDSv2: PUT /latest/api/token, then GETs with the token header. A refused token call
    (token_status other than 200) leaves IMDSv1 on only with v1=True; else every GET is refused too."""
    def respond(request: Request, index: int):
        if request.method == "PUT":
            if token_status != 200:
                return http_answer(token_status, b"no", "text/plain")
            return http_answer(200, token_body, "text/plain")
        if token_status != 200 and not v1:
            return http_answer(401 if token_status == 403 else token_status, b"no", "text/plain")
        if token_status == 200 and request.headers.get("x-aws-ec2-metadata-token") != token_body.decode():
            return http_answer(401, b"", "text/plain")
        body = paths.get(request.path)
        if body is None:
            return http_answer(404, b"Not Found", "text/plain")
        return http_answer(200, body.encode(), "text/plain")
    return respond
