"""TLS faults on the endpoint address: one fixture per edge case, one table. Every case: the
finding it names, the run within its deadline, no internal error."""
import datetime

import pytest

from .conftest import HOSTNAMES, aws_ok, server_context
from .hostile import ENDPOINT_IP, RawServer, free_port, http_answer, reset, silence

pytestmark = pytest.mark.integration


def _garbage(sock):
    sock.sendall(b"\x17\x03\x03\x00\x10" + b"\xde\xad\xbe\xef" * 64)


def _reset_after_hello(sock):
    # After the ClientHello, so the reset lands in the handshake: a reset right on accept races the
    # client's connect() and may read as a refused port instead.
    sock.recv(4096)
    reset(sock)


def _plain_http(sock):
    sock.recv(4096)
    sock.sendall(http_answer(400, b"<html><body>plain HTTP here</body></html>", "text/html"))


def _make(case, ca):
    """A started-later server for the case (None: nothing listens on the port)."""
    import trustme

    if case == "silence":
        return RawServer(ENDPOINT_IP, before_tls=silence(8.0))
    if case == "reset":
        return RawServer(ENDPOINT_IP, before_tls=_reset_after_hello)
    if case == "garbage":
        return RawServer(ENDPOINT_IP, before_tls=_garbage)
    if case == "plain_http":
        return RawServer(ENDPOINT_IP, before_tls=_plain_http)
    if case == "wrong_name":
        return RawServer(ENDPOINT_IP, aws_ok, server_context(ca.issue_cert("portal.example.net")))
    if case == "expired":
        past = datetime.datetime(2020, 1, 1)
        return RawServer(ENDPOINT_IP, aws_ok, server_context(ca.issue_cert(
            *HOSTNAMES, not_before=past, not_after=past + datetime.timedelta(days=30))))
    if case == "untrusted_ca":
        return RawServer(ENDPOINT_IP, aws_ok, server_context(trustme.CA().issue_cert(*HOSTNAMES)))
    return None


# case -> (finding codes, the failing phase recorded in the TLS evidence)
TLS_CASES = {
    "silence": (["tls_failure"], "handshake"),
    "reset": (["tls_failure"], "handshake"),
    "garbage": (["tls_failure"], "handshake"),
    "plain_http": (["tls_failure"], "handshake"),
    "wrong_name": (["tls_failure"], "verify"),
    "expired": (["tls_failure"], "verify"),
    "untrusted_ca": (["tls_failure"], "verify"),
    "refused": (["port_blocked"], "connect"),
}


@pytest.mark.parametrize("case", sorted(TLS_CASES))
def test_hostile_tls_endpoint(case, node, servers, ca):
    codes, phase = TLS_CASES[case]
    server = _make(case, ca)
    node.https_port = servers(server).port if server is not None else free_port(ENDPOINT_IP)
    outcome = node.run()
    tls = outcome.service("sts")["probes"]["tls"]
    assert tls and not any(t["ok"] for t in tls) and {t["phase"] for t in tls} == {phase}, tls
    assert outcome.codes == codes and outcome.report["status"] == "critical" and outcome.returncode == 2
    assert outcome.service("sts")["status"] == "critical"
