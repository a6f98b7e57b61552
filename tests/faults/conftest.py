"""The fault table's harness: a small node on loopback (VPC resolver, IMDS, one endpoint) whose
parts a test swaps for hostile ones, and one way to run the real command line against it that
asserts what every fault case must hold: the run ends within its deadline, and neither
"internal error" nor a traceback appears."""
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest

from vpce_doctor.demo import wire

from ..conftest import clean_env, run_cli
from .hostile import (ENDPOINT_IP, VPC_CIDR, HostileDns, RawServer, good_credentials, http_answer, imds_documents,
                      imds_responder)

# Python's start-up and imports on a loaded 2-core machine, on top of the run's own deadline.
STARTUP_MARGIN = 12.0
HOSTNAMES = ["*.us-east-1.amazonaws.com", "*.ecr.us-east-1.amazonaws.com", "*.dkr.ecr.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com",
             "*.amazonaws.com", "*.us-east-1.api.aws"]

# GetCallerIdentity's answer from the wire corpus (query/sts-success-get-caller-identity, with its source)
STS_OK = wire.answer("query/sts-success-get-caller-identity", role_arn="arn:aws:sts::111122223333:assumed-role/node-role/"
                     "i-0fa17", user_id="AROAEXAMPLE:i-0fa17", account="111122223333", request_id="0a1b")[2]


def aws_ok(request, index):
    return http_answer(200, STS_OK, "text/xml")


@pytest.fixture(scope="session")
def ca():
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(cert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="session")
def good_tls(ca):
    return server_context(ca.issue_cert(*HOSTNAMES))


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    report: Optional[dict]

    @property
    def codes(self) -> List[str]:
        return sorted(f["code"] for f in (self.report or {}).get("findings", []))

    def service(self, service_id: str) -> dict:
        return next(s for s in self.report["services"] if s["id"] == service_id)


@dataclass
class Node:
    """What a run is pointed at; a test replaces any field with a hostile server's address."""

    ca_file: str
    vpc_dns: str = ""
    imds_url: str = ""
    https_port: int = 0
    env: Dict[str, str] = field(default_factory=dict)
    services: str = "sts"
    # generous for loopback on a loaded 2-core machine; the hostile cases wait this long, no more
    timeout: float = 1.0
    deadline: float = 6.0
    extra: List[str] = field(default_factory=list)

    def args(self) -> List[str]:
        return ["check", "--format", "json", "--services", self.services, "--region", "us-east-1",
                "--account-id", "111122223333", "--vpc-cidr", VPC_CIDR, "--vpc-resolver", self.vpc_dns,
                "--imds-endpoint", self.imds_url, "--https-port", str(self.https_port), "--ca-bundle", self.ca_file,
                "--allow-net", "127.0.0.0/8", "--no-process-scan", "--resolv-conf", os.devnull,
                "--timeout", str(self.timeout), "--deadline", str(self.deadline), *self.extra]

    def run(self, *args: str, deadline: Optional[float] = None) -> Outcome:
        """The real command line; asserts the invariants of every fault case."""
        argv = list(args) or self.args()
        limit = (deadline or self.deadline) + STARTUP_MARGIN
        started = time.monotonic()
        done = run_cli(argv, env=clean_env(**self.env), timeout=limit + 30)
        elapsed = time.monotonic() - started
        assert elapsed < limit, "the run took %.1fs, past its deadline %.1fs (+%.0fs start-up)" % (
            elapsed, deadline or self.deadline, STARTUP_MARGIN)
        for stream in (done.stdout, done.stderr):
            assert "Traceback" not in stream and "internal error" not in stream, stream[-2000:]
        report = json.loads(done.stdout) if done.stdout.startswith("{") else None
        return Outcome(done.returncode, done.stdout, done.stderr, elapsed, report)


@pytest.fixture
def servers():
    """Servers a test starts; all stopped at its end."""
    started = []

    def keep(server):
        started.append(server.start())
        return server

    yield keep
    for server in reversed(started):
        server.stop()


@pytest.fixture
def node(servers, ca_file, good_tls):
    """A healthy node: DNS answers every name with the endpoint, IMDS serves identity and role
    credentials, the endpoint answers GetCallerIdentity."""
    dns = servers(HostileDns("127.77.0.2", "good"))
    imds = servers(RawServer("127.77.0.254", imds_responder(imds_documents(good_credentials()))))
    endpoint = servers(RawServer(ENDPOINT_IP, aws_ok, good_tls))
    return Node(ca_file=ca_file, vpc_dns=dns.addr, imds_url="http://127.77.0.254:%d" % imds.port,
                https_port=endpoint.port)


def run_api_case(node, servers, good_tls, respond, service_id, api_outcome, codes, status):
    """One endpoint answering with `respond`, the real command line against it, and what every API
    case must hold: its outcome, its findings, the service's status, and the run's status and exit code
    agreeing with them (an info finding leaves the run ok). Returns (outcome, api evidence, endpoint)."""
    endpoint = servers(RawServer(ENDPOINT_IP, respond, good_tls))
    node.https_port, node.services = endpoint.port, service_id
    outcome = node.run()
    service = outcome.service(service_id)
    api = service["probes"]["api"]
    assert api["outcome"] == api_outcome, api
    assert outcome.codes == codes, outcome.report["findings"]
    assert service["status"] == status
    serious = [f for f in outcome.report["findings"] if f["severity"] != "info"]
    if status != "ok" or serious:
        assert outcome.report["status"] != "ok" and outcome.returncode != 0
    else:
        assert outcome.report["status"] == "ok" and outcome.returncode == 0
    if api_outcome == "throttled":
        assert api["attempts"] == 2 and len(endpoint.requests) == 2 and "throttled twice" in api["message"]
    return outcome, api, endpoint

