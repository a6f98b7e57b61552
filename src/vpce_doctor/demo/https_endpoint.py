"""The endpoint side of the simulated VPC: TLS servers on endpoint ENI addresses, and
listeners that swallow connections the way a security group or an isolated route does."""
from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from typing import Callable, Dict, Optional, Tuple

# router(server_ip, method, path, headers, body) -> (status, headers, body)
Router = Callable[[str, str, str, Dict[str, str], bytes], Tuple[int, Dict[str, str], bytes]]


class RoutingHandler(BaseHTTPRequestHandler):
    """Hands each request to server.router and writes its answer, with server.aws_clock's Date.
    Used behind TLS here, and behind nginx in the lab."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the demo prints the report, not access logs
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        try:
            status, out_headers, out_body = self.server.router(self.server.endpoint_address(headers), self.command,
                                                               self.path, headers, body)
        except Exception as exc:  # a lab bug shows as a 500 with its reason, never a hang
            status, out_headers, out_body = 500, {"Content-Type": "text/plain"}, ("lab error: %s" % exc).encode()
        self.send_response(status)
        for key, value in out_headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(out_body)))
        self.end_headers()
        self.wfile.write(out_body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

    def date_time_string(self, timestamp=None):
        # The simulated AWS clock (a skewed-clock scenario shifts it).
        return super().date_time_string(self.server.aws_clock())


class EndpointServer(socketserver.ThreadingTCPServer):
    """HTTPS on one address. The TLS handshake runs in the connection's own thread so a
    slow client never blocks accept()."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs when a run opens a dozen connections at
    # once, and each drop costs the client a 1 s SYN retransmit: a simulator artifact, not AWS.
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], context: ssl.SSLContext, router: Router,
                 aws_clock: Callable[[], float]):
        self.context, self.router, self.aws_clock = context, router, aws_clock
        super().__init__(address, RoutingHandler)

    def endpoint_address(self, headers) -> str:
        return self.server_address[0]

    def finish_request(self, request, client_address):
        request.settimeout(5.0)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            RoutingHandler(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # a probe closing right after its handshake is normal here, not a traceback

    def start(self) -> "EndpointServer":
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Blackhole:
    """A TCP address where connects time out, without root: a listener with backlog 0
    whose one queue slot is taken by our own idle connection, so the kernel drops SYNs."""

    def __init__(self, address: str, port: int):
        self.address, self.port = address, port
        self._listener: Optional[socket.socket] = None
        self._filler: Optional[socket.socket] = None

    def start(self) -> "Blackhole":
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.address, self.port))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self._filler = socket.create_connection((self.address, self.port), timeout=2.0)
        return self

    def stop(self) -> None:
        for sock in (self._filler, self._listener):
            if sock is not None:
                sock.close()


class SilentUdp:
    """A DNS server address that never answers (a resolver behind a dropping NACL)."""

    def __init__(self, address: str):
        self.address = address
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((address, 0))
        self.port = self._sock.getsockname()[1]
        # TCP on the same port: listen but never accept, so a TCP retry times out too.
        self._tcp = Blackhole(address, self.port)

    def start(self) -> "SilentUdp":
        self._tcp.start()
        return self

    def stop(self) -> None:
        self._sock.close()
        self._tcp.stop()
