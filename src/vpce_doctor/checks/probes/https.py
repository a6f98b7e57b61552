"""HTTPS to a chosen address with the service's name as SNI and Host, stdlib only.

Why not an HTTP client library: the agent needs exactly one request per connection to
a pinned address, no proxy, no redirects, and the failing phase named (connect, tls,
write, read). http.client does that in a few lines and imports in a quarter of the time.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
from typing import Dict, Optional, Tuple

MAX_BODY = 1 << 20  # nothing we call answers more; a larger answer is cut, never buffered whole


class HttpsFailed(Exception):
    def __init__(self, phase: str, kind: str, message: str):
        super().__init__(message)
        self.phase, self.kind, self.message = phase, kind, message


class _PinnedConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, port: int, sni: str, context: ssl.SSLContext, timeout: float):
        super().__init__(sni, port, timeout=timeout, context=context)
        self.address = address
        self.phase = "connect"

    def connect(self) -> None:
        self.phase = "connect"
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.phase = "tls"
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


PinnedConnection = _PinnedConnection  # dialled ahead by checks/dns_prefetch.DnsPrefetch for the inventory


def failure(conn: _PinnedConnection, exc: BaseException) -> "HttpsFailed":
    """How a connection dialled ahead failed, named by phase as a request's failure would be."""
    return _failure(conn, exc, False)


class FailedSession:
    """A PinnedSession whose connection, dialled ahead, failed: its first request raises that failure
    (dialling again would wait out a second --timeout); later ones go to the session as usual."""

    def __init__(self, session: "PinnedSession", failed: "HttpsFailed"):
        self.session, self.failed = session, failed

    def request(self, method: str, path: str, headers: Dict[str, str],
                body: Optional[bytes]) -> Tuple[int, Dict[str, str], bytes]:
        if self.failed is not None:
            failed, self.failed = self.failed, None
            raise failed
        return self.session.request(method, path, headers, body)

    def close(self) -> None:
        self.session.close()


class PinnedSession:
    """Sequential requests over one kept-alive connection (the inventory's calls follow one
    another; a second TCP and TLS handshake would only add round trips)."""

    def __init__(self, address: str, port: int, sni: str, context: ssl.SSLContext, timeout: float):
        self.args = (address, port, sni, context, timeout)
        self.conn: Optional[_PinnedConnection] = None

    def request(self, method: str, path: str, headers: Dict[str, str],
                body: Optional[bytes]) -> Tuple[int, Dict[str, str], bytes]:
        reused = self.conn is not None
        if self.conn is None:
            self.conn = _PinnedConnection(*self.args)
        try:
            return _exchange(self.conn, method, path, headers, body)
        except HttpsFailed:
            self.close()
            if not reused:
                raise
            self.conn = _PinnedConnection(*self.args)  # the server closed an idle connection: once more
            try:
                return _exchange(self.conn, method, path, headers, body)
            except HttpsFailed:
                self.close()
                raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def request(address: str, port: int, sni: str, context: ssl.SSLContext, timeout: float, method: str, path: str,
            headers: Dict[str, str], body: Optional[bytes]) -> Tuple[int, Dict[str, str], bytes]:
    """(status, lower-cased headers, body) over a fresh connection. Raises HttpsFailed naming the phase."""
    conn = _PinnedConnection(address, port, sni, context, timeout)
    try:
        return _exchange(conn, method, path, headers, body)
    finally:
        conn.close()


# Each phase (connect, TLS, write, read) has --timeout for every socket operation, but a server that
# drips its answer a byte at a time never trips a per-operation timeout: the whole exchange gets
# the phases' timeouts added up, then a watchdog shuts the socket.
EXCHANGE_PHASES = 3


def _shut(conn: _PinnedConnection, fired: threading.Event) -> None:
    fired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _exchange(conn: _PinnedConnection, method: str, path: str, headers: Dict[str, str],
              body: Optional[bytes]) -> Tuple[int, Dict[str, str], bytes]:
    timeout = conn.timeout
    fired = threading.Event()
    watchdog = threading.Timer(timeout * EXCHANGE_PHASES, _shut, (conn, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        if conn.sock is None:
            conn.connect()
        conn.phase = "write"
        conn.request(method, path, body=body or None, headers=headers)
        conn.phase = "read"
        response = conn.getresponse()
        data = response.read(MAX_BODY)
        if fired.is_set():
            raise socket.timeout()
        short = response.length if isinstance(response.length, int) else 0  # what the Content-Length still owes
        if short > 0 and len(data) < MAX_BODY:
            # read(amt) returns what came before the close without complaint: a cut answer is no answer
            raise http.client.IncompleteRead(data[:0], short)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    except (OSError, http.client.HTTPException) as exc:
        raise _failure(conn, exc, fired.is_set()) from None
    finally:
        watchdog.cancel()


def _failure(conn: _PinnedConnection, exc: BaseException, watchdog_fired: bool) -> HttpsFailed:
    """The lower-layer error as the phase that failed and its kind (timeout, certificate, tls, error)."""
    timeout = conn.timeout
    if watchdog_fired:
        return HttpsFailed(conn.phase, "timeout", "%s still not finished after %.1fs (the answer dripped in)"
                           % (conn.phase, timeout * EXCHANGE_PHASES))
    if isinstance(exc, socket.timeout):
        return HttpsFailed(conn.phase, "timeout", "%s timed out after %.1fs" % (conn.phase, timeout))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return HttpsFailed("tls", "certificate", "certificate verification failed: %s"
                           % (exc.verify_message or exc.reason))
    if isinstance(exc, ssl.SSLError):
        return HttpsFailed("tls", "tls", "TLS failed: %s" % (exc.reason or exc))
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return HttpsFailed(conn.phase, "error", "%s: %s" % (conn.phase, text[:200]))
