"""TCP connect and TLS handshake to one address with the service's SNI.

Records how far it got (connect -> handshake -> verify -> done) so a security group
that drops 443 (connect timeout) reads differently from TLS inspection (verify).
"""
from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Optional, Tuple

from ...core.addresses import NetworkGuard, NetworkNotAllowed

# phase words: the last phase attempted; with ok=False it is the one that failed
CONNECT = "connect"
HANDSHAKE = "handshake"
VERIFY = "verify"
DONE = "done"


@dataclass(frozen=True)
class TlsResult:
    address: str
    port: int
    sni: str
    source: str  # "dns" (what the node resolves) or "inventory" (endpoint ENI)
    availability_zone: Optional[str]
    ok: bool
    phase: str
    error_kind: Optional[str] = None  # timeout | refused | unreachable | reset | tls | certificate | not_allowed
    error: Optional[str] = None
    tls_version: Optional[str] = None
    subject: Optional[str] = None
    sans: Tuple[str, ...] = ()
    issuer: Optional[str] = None
    not_after: Optional[str] = None
    ms: float = 0.0


def _name(rdns) -> Optional[str]:
    if not rdns:
        return None
    return ", ".join("%s=%s" % (k, v) for rdn in rdns for (k, v) in rdn)


def handshake(
    address: str,
    port: int,
    sni: str,
    source: str,
    availability_zone: Optional[str],
    context: ssl.SSLContext,
    timeout: float,
    guard: NetworkGuard,
) -> TlsResult:
    base = dict(address=address, port=port, sni=sni, source=source, availability_zone=availability_zone)
    started = time.monotonic()

    def result(**kw) -> TlsResult:
        return TlsResult(ms=(time.monotonic() - started) * 1000.0, **base, **kw)

    try:
        guard.check(address)
    except NetworkNotAllowed as exc:
        return result(ok=False, phase=CONNECT, error_kind="not_allowed", error=str(exc))
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect((address, port))
        except socket.timeout:
            return result(ok=False, phase=CONNECT, error_kind="timeout", error="TCP connect timed out after %.1fs" % timeout)
        except OSError as exc:
            kind = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "unreachable",
                    errno.ENETUNREACH: "unreachable"}.get(exc.errno or 0, "error")
            return result(ok=False, phase=CONNECT, error_kind=kind, error="TCP connect: %s" % (exc.strerror or exc))
        # The handshake shares what is left of the step deadline.
        sock.settimeout(max(0.05, timeout - (time.monotonic() - started)))
        try:
            tls = context.wrap_socket(sock, server_hostname=sni)
        except ssl.SSLCertVerificationError as exc:
            return result(ok=False, phase=VERIFY, error_kind="certificate",
                          error="certificate verification failed: %s" % (exc.verify_message or exc.reason or exc))
        except socket.timeout:
            return result(ok=False, phase=HANDSHAKE, error_kind="timeout", error="TLS handshake timed out")
        except ssl.SSLError as exc:
            return result(ok=False, phase=HANDSHAKE, error_kind="tls", error="TLS handshake failed: %s" % (exc.reason or exc))
        except OSError as exc:
            kind = "reset" if exc.errno in (errno.ECONNRESET, errno.EPIPE) else "error"
            return result(ok=False, phase=HANDSHAKE, error_kind=kind, error="TLS handshake: %s" % (exc.strerror or exc))
        try:
            cert = tls.getpeercert() or {}
            return result(
                ok=True,
                phase=DONE,
                tls_version=tls.version(),
                subject=_name(cert.get("subject")),
                sans=tuple(v for (k, v) in cert.get("subjectAltName", ()) if k in ("DNS", "IP Address")),
                issuer=_name(cert.get("issuer")),
                not_after=cert.get("notAfter"),
            )
        finally:
            tls.close()
    finally:
        sock.close()
