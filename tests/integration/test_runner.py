"""The runner against a live simulated VPC: crashed and hung checks, deadlines, IMDS modes,
exit codes and output files through the command line."""
import json
import subprocess
import sys
import time

import pytest

from vpce_doctor.agent.imds import discover as imds_discover
from vpce_doctor.core.addresses import NetworkGuard
from vpce_doctor.agent.runner import run
from vpce_doctor.checks.base import load_checks
from vpce_doctor.demo.https_endpoint import Blackhole
from vpce_doctor.demo.imds_server import ImdsServer
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, clean_env, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def healthy(dns_backend):
    with World(SCENARIOS["healthy"], dns_backend=dns_backend) as world:
        yield world


class Crashes:
    id = "crashes"
    scope = "service"
    title = "raises"

    def run(self, ctx, service):
        raise RuntimeError("boom in %s" % service.id)


class Hangs:
    id = "hangs"
    scope = "node"
    title = "sleeps past every deadline"

    def run(self, ctx, service=None):
        time.sleep(30)


def test_crashed_and_hung_checks_become_explicit_results(healthy):
    settings = healthy.settings(timeout=0.5, services=("ec2", "sts"), deadline=2.0)
    started = time.monotonic()
    report = run(settings, checks=load_checks({}) + [Crashes(), Hangs()],
                 credentials_provider=healthy.credentials_provider(settings))
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, "the run must end at its deadline, not when a check feels like it"
    data = report.to_dict()
    for service in data["services"]:
        crashed = [c for c in service["checks"] if c["check"] == "crashes"]
        assert crashed == [dict(crashed[0], state="error")] and "boom in %s" % service["id"] in crashed[0]["error"]
        assert service["status"] == "unknown" and service["findings"] == []
    hung = [c for c in data["checks"] if c["check"] == "hangs"]
    assert hung[0]["state"] == "timeout" and "deadline" in hung[0]["error"]
    assert data["status"] == "unknown" and report.exit_code == 3


def test_healthy_run_is_ok_and_fast(healthy):
    settings = healthy.settings(timeout=SCENARIO_TIMEOUT)
    run(settings, credentials_provider=healthy.credentials_provider(settings))  # warm the in-process servers
    report = run(settings, credentials_provider=healthy.credentials_provider(settings))
    assert report.status == "ok" and report.findings == []
    inventory = report.node_checks["inventory"]
    assert inventory.available and {e.service_name for e in inventory.endpoints} >= {"com.amazonaws.us-east-1.ec2"}
    assert all(len(e.enis) == 2 and all(eni.address.startswith("127.10.") for eni in e.enis)
               for e in inventory.endpoints if e.type == "Interface")
    # probes ran concurrently: the whole run costs far less than its probes added up
    probe_ms = sum(c.duration_ms for s in report.services for c in s.checks)
    assert report.duration_ms < probe_ms / 3


def test_dns_asked_during_imds_serves_the_checks_classified_with_the_vpc_cidrs(healthy, monkeypatch):
    """The A lookups start once IMDS's first round names the region (runner._prefetch_dns), before the
    VPC CIDRs arrive in its last round; the checks take those answers, classified again with the CIDRs,
    and the ec2 API's connections are dialled as soon as the VPC resolver names its address."""
    from vpce_doctor.checks import dns_prefetch

    taken = []
    original = dns_prefetch.DnsPrefetch.take

    def take(self, hostname, server, rdtype, remaining):
        lookup = original(self, hostname, server, rdtype, remaining)
        taken.append(lookup)
        return lookup

    monkeypatch.setattr(dns_prefetch.DnsPrefetch, "take", take)
    dialled = []
    original_connection = dns_prefetch.DnsPrefetch.take_connection

    def take_connection(self, *args):
        conn = original_connection(self, *args)
        dialled.append(conn)
        return conn

    monkeypatch.setattr(dns_prefetch.DnsPrefetch, "take_connection", take_connection)
    settings = healthy.settings(timeout=SCENARIO_TIMEOUT)
    report = run(settings, credentials_provider=healthy.credentials_provider(settings))
    assert report.status == "ok" and report.findings == []
    early = [lookup for lookup in taken if lookup is not None]
    assert {lookup.hostname for lookup in early} >= {s.hostname for s in report.services}
    # asked before the CIDRs were known: nothing counted as inside the VPC yet
    assert all(not a.in_vpc for lookup in early for a in lookup.addresses)
    ec2 = next(s for s in report.services if s.id == "ec2")
    vpc_a = [lookup for c in ec2.checks if c.check == "dns" for lookup in c.evidence
             if lookup.rdtype == "A" and lookup.resolver_role == "vpc"]
    assert vpc_a and vpc_a[0].addresses and all(a.in_vpc for a in vpc_a[0].addresses)
    # the inventory's two reads and the route table's go to ec2 over connections dialled while IMDS answered
    assert len(dialled) == 3 and all(conn is not None for conn in dialled)
    assert report.node_checks["inventory"].available


@pytest.mark.parametrize("filtered", ["misses-some", "denied"])
def test_endpoint_enis_the_filtered_read_missed_are_read_by_id(healthy, monkeypatch, filtered):
    """The VPC's endpoint ENIs are read with an interface-type filter beside DescribeVpcEndpoints;
    ENIs it did not return (an EC2 that ignores the filter, a partial answer) or a failed filtered
    read leave the inventory whole: those are read by id afterwards."""
    from vpce_doctor.checks.probes import aws_call, inventory

    original = inventory._vpc_endpoint_enis
    calls = []

    def filtered_read(ec2, vpc_id):
        calls.append(vpc_id)
        if filtered == "denied":
            raise aws_call.ExchangeFailed(aws_call.IAM_DENIED, None, "DescribeNetworkInterfaces UnauthorizedOperation")
        enis = original(ec2, vpc_id)
        return dict(list(enis.items())[: len(enis) // 2])

    monkeypatch.setattr(inventory, "_vpc_endpoint_enis", filtered_read)
    before = len(healthy.aws.requests)
    settings = healthy.settings(timeout=SCENARIO_TIMEOUT)
    report = run(settings, credentials_provider=healthy.credentials_provider(settings))
    sent = [action for _, action in healthy.aws.requests[before:]]
    assert calls and report.status == "ok" and report.findings == []
    found = report.node_checks["inventory"]
    assert found.available and all(len(e.enis) == 2 and all(eni.address and eni.availability_zone for eni in e.enis)
                                   for e in found.endpoints if e.type == "Interface")
    assert sent.count("DescribeNetworkInterfaces") == (1 if filtered == "denied" else 2)


@pytest.mark.parametrize("mode,version,reachable", [("v2", "v2", True), ("v1", "v1", True), ("down", None, False)])
def test_imds_versions(mode, version, reachable):
    facts = {"region": "eu-west-1", "availabilityZone": "eu-west-1b", "instanceId": "i-1", "accountId": "111122223333",
             "privateIp": "127.10.2.10", "vpc_id": "vpc-1", "subnet_id": "subnet-1",
             "vpc_cidrs": ["127.10.0.0/16", "127.11.0.0/16"], "role": "node-role",
             "vpc_ipv6_cidrs": ["2600:1f18:abcd:ef00::/56"], "cluster_name": "prod-1"}
    server = ImdsServer("127.10.0.254", facts, mode=mode).start()
    try:
        started = time.monotonic()
        found = imds_discover("http://127.10.0.254:%d" % server.port, 0.5, NetworkGuard(["127.0.0.0/8"]))
        assert time.monotonic() - started < 2.0
    finally:
        server.stop()
    assert (found.version, found.reachable) == (version, reachable)
    if reachable:
        # every CIDR block of the VPC, secondary and IPv6 ones included
        assert found.identity["region"] == "eu-west-1" and found.vpc_cidrs == [
            "127.10.0.0/16", "127.11.0.0/16", "2600:1f18:abcd:ef00::/56"]
        assert found.cluster_name == "prod-1"
        assert (found.vpc_id, found.subnet_id, found.iam_role) == ("vpc-1", "subnet-1", "node-role")
    else:
        assert "timed out" in found.error or "Timeout" in found.error


def test_bad_flag_exits_3_with_one_line():
    done = run_cli(["check", "--timeout", "soon"])
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1 and "invalid float value" in done.stderr


def test_no_region_exits_3_with_one_line():
    # IMDS is a blackhole on loopback: discovery times out, and nothing else names a region
    hole = Blackhole("127.10.0.254", 0).start()
    try:
        done = run_cli(["check", "--imds-endpoint", "http://127.10.0.254:%d" % hole.port, "--timeout", "0.3",
                        "--allow-net", "127.0.0.0/8", "--vpc-resolver", "127.0.0.1:9", "--resolv-conf", "/dev/null",
                        "--no-process-scan"])
    finally:
        hole.stop()
    assert done.returncode == 3
    assert done.stderr.startswith("vpce-doctor: no region known") and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_output_file_and_prometheus(healthy, tmp_path):
    out = tmp_path / "last.prom"
    done = run_cli(["check", "--format", "prometheus", "--output", str(out), *healthy.cli_args(timeout=SCENARIO_TIMEOUT)])
    assert done.returncode == 0 and done.stdout == ""
    assert "vpce_doctor_status 0" in out.read_text().splitlines()


def test_guard_refuses_off_machine_addresses(healthy):
    """With --allow-net, a resolver outside it is never contacted: the probe says why instead."""
    settings = healthy.settings(timeout=0.5, services=("sts",), resolvers=("192.0.2.53",))
    report = run(settings, credentials_provider=healthy.credentials_provider(settings))
    node_lookups = [d for d in report.to_dict()["services"][0]["probes"]["dns"] if d["resolver_role"] == "node"]
    assert node_lookups and all(d["status"] == "error" and "outside --allow-net" in d["errors"][0]["error"]
                                for d in node_lookups)


def test_check_path_never_imports_a_tui_library():
    code = ("import sys, pkgutil, importlib, vpce_doctor.agent, vpce_doctor.checks\n"
            "for pkg in (vpce_doctor.agent, vpce_doctor.checks):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n"
            "from vpce_doctor.cli import main\n"
            "main(['services', '--format', 'json'])\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
            "sys.stderr.write(repr(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60)
    assert done.returncode == 0 and done.stderr == "[]"
    assert json.loads(done.stdout)[0]["id"] == "ec2"


def test_registry_without_account_id_is_skipped_with_a_reason(healthy, monkeypatch):
    from dataclasses import replace

    import vpce_doctor.agent.runner as runner_module

    original = runner_module.discover
    monkeypatch.setattr(runner_module, "discover", lambda s, remaining: replace(original(s, remaining), account_id=None))
    settings = healthy.settings(timeout=SCENARIO_TIMEOUT, services=("ecr.dkr", "sts"))
    report = run(settings, credentials_provider=healthy.credentials_provider(settings))
    dkr = next(s for s in report.to_dict()["services"] if s["id"] == "ecr.dkr")
    assert dkr["status"] == "unknown"
    assert {c["state"] for c in dkr["checks"]} == {"skipped"} and "--account-id" in dkr["checks"][0]["error"]
    assert report.status == "unknown" and report.exit_code == 3


class JudgesItself:
    id = "ntp_source"
    scope = "node"
    title = "an outside check that judges its own evidence"

    def run(self, ctx, service=None):
        return {"source": "pool.example"}

    def findings(self, evidence, facts, service):
        from vpce_doctor.core.model import Finding, Remediation

        return [Finding("ntp_not_amazon", "warning", None, "NTP source is %s" % evidence["source"],
                        Remediation("use 169.254.169.123"))]


class JudgeCrashes(JudgesItself):
    id = "judge_crashes"

    def findings(self, evidence, facts, service):
        raise ValueError("cannot judge")


def test_outside_checks_judge_their_evidence_and_a_crashing_judge_is_visible(healthy, report_validator):
    settings = healthy.settings(timeout=SCENARIO_TIMEOUT, services=("sts",))
    report = run(settings, checks=load_checks({}) + [JudgesItself(), JudgeCrashes()],
                 credentials_provider=healthy.credentials_provider(settings))
    data = report.to_dict()
    report_validator(data)
    assert [f["code"] for f in data["findings"]] == ["ntp_not_amazon"]
    crashed = [c for c in data["checks"] if c["check"] == "judge_crashes.findings"]
    assert crashed and crashed[0]["state"] == "error" and "cannot judge" in crashed[0]["error"]
    assert data["status"] == "warn"
