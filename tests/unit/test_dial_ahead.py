"""checks/dns_prefetch.DnsPrefetch's connections dialled ahead for the ec2 API: a dial that fails is the
taker's answer (not a second --timeout), one that succeeds is handed out once, an address outside
--allow-net is never dialled. Real sockets on loopback."""
import socket
import ssl
import time

import pytest

from vpce_doctor.checks.dns_prefetch import DnsPrefetch
from vpce_doctor.checks.probes import https
from vpce_doctor.core.addresses import NetworkGuard


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once closed: connection refused


def prefetch():
    early = DnsPrefetch(0.5, NetworkGuard(["127.0.0.0/8"]))
    early.ssl_context = ssl.create_default_context()
    early.ssl_ready.set()
    return early


def test_a_failed_dial_is_the_takers_answer_and_its_session_raises_it_once():
    early = prefetch()
    port = closed_port()
    key, events = early._register("127.0.0.1", port, "ec2.us-east-1.amazonaws.com")
    for done in events:
        early._connect(key, done)
    started = time.monotonic()
    failed = early.take_connection("127.0.0.1", port, "ec2.us-east-1.amazonaws.com", lambda: 5.0)
    assert isinstance(failed, https.HttpsFailed) and failed.phase == "connect"
    assert time.monotonic() - started < 0.5
    session = https.FailedSession(https.PinnedSession("127.0.0.1", port, "x", early.ssl_context, 0.5), failed)
    with pytest.raises(https.HttpsFailed):
        session.request("GET", "/", {}, None)
    early.close()


def test_a_handshake_that_never_finishes_fails_as_tls_and_is_handed_out_once():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    early = prefetch()
    early.DIALS = 1
    key, events = early._register("127.0.0.1", port, "ec2.us-east-1.amazonaws.com")
    # a plain TCP listener never answers the TLS handshake: the dial times out (phase tls) after 0.5 s
    early._connect(key, events[0])
    failed = early.take_connection("127.0.0.1", port, "ec2.us-east-1.amazonaws.com", lambda: 5.0)
    assert isinstance(failed, https.HttpsFailed) and failed.phase == "tls"
    assert early.take_connection("127.0.0.1", port, "ec2.us-east-1.amazonaws.com", lambda: 5.0) is None
    early.close()
    listener.close()


def test_an_address_outside_allow_net_is_never_dialled():
    early = prefetch()
    assert early._register("192.0.2.10", 443, "ec2.us-east-1.amazonaws.com") is None
    assert early.take_connection("192.0.2.10", 443, "ec2.us-east-1.amazonaws.com", lambda: 5.0) is None
