"""Every scenario of the simulated VPC, through the real command line, against real
servers on loopback (dnsmasq, TLS endpoints with a test CA, moto, IMDSv2)."""
import json
import re

import pytest

from vpce_doctor.core.model import EXIT_CODES
from vpce_doctor.demo import wire
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

# one worker runs the whole module under xdist: its last test reads what the others gathered
pytestmark = pytest.mark.xdist_group("scenario-requests")
READ_ONLY = re.compile(r"^(Describe|Get|List)[A-Z]|^GET |^POST /Get[A-Z]")
SEEN_REQUESTS = []
UNRESOLVED = []  # (scenario, service) whose probes were skipped for want of an address


def unresolved_services_are_never_ok(name, report):
    """No service reads ok after its probes were skipped because its name gave the node no address."""
    for service in report["services"]:
        api = service["probes"]["api"] or {}
        if api.get("outcome") == "skipped" and "does not resolve" in (api.get("message") or ""):
            UNRESOLVED.append((name, service["id"]))
            assert service["status"] != "ok" and service["findings"], (name, service["id"], service["status"])


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_findings_status_and_exit_code(name, dns_backend, report_validator):
    scenario = SCENARIOS[name]
    with World(scenario, dns_backend=dns_backend) as world:
        done = run_cli(["check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT)])
        secrets = world.secrets
        SEEN_REQUESTS.extend(world.requests)
        answered = list(world.aws.answered)
    assert "Traceback" not in done.stderr
    # every simulated answer was moto's or a wire corpus entry with its public source
    corpus = wire.corpus()
    assert all(a == "moto" or (a in corpus and corpus[a].source) for a in answered), answered
    report = json.loads(done.stdout)
    report_validator(report)
    found = sorted((f["code"], f["service"] or "") for f in report["findings"])
    assert found == sorted((code, service or "") for code, service in scenario.expect)
    assert report["status"] == scenario.expect_status
    assert done.returncode == EXIT_CODES[scenario.expect_status]
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr
    # each service repeats exactly its own findings
    for service in report["services"]:
        assert service["findings"] == [f for f in report["findings"] if f["service"] == service["id"]]
    if not scenario.expect:
        assert all(s["status"] == "ok" for s in report["services"])
    unresolved_services_are_never_ok(name, report)


@pytest.mark.integration
def test_text_report_reads_well_and_hides_secrets(dns_backend):
    with World(SCENARIOS["private-dns-off"], dns_backend=dns_backend) as world:
        done = run_cli(["check", "--format", "text", *world.cli_args(timeout=SCENARIO_TIMEOUT)], python_flags=("-X", "importtime"))
        secrets = world.secrets
    lines = done.stdout.splitlines()
    assert lines[0].startswith("vpce-doctor ")
    assert re.match(r"SERVICE\s+STATUS\s+VPC DNS\s+NODE DNS\s+TLS\s+API\s+FINDING", lines[3])
    ecr = next(line for line in lines if line.startswith("ecr.api "))
    assert "public" in ecr and "private_dns_disabled" in ecr
    assert "aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-" in done.stdout
    assert done.returncode == 2
    # -X importtime lists every module imported: the check path never loads a TUI library
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert imported and not [m for m in imported if m.split(".")[0] in ("textual", "rich")]
    # nor botocore (~100 ms of imports): the agent signs itself, and no credential source but the role exists
    assert not [m for m in imported if m.split(".")[0] in ("botocore", "urllib3")]
    for secret in secrets:
        assert secret not in done.stdout


@pytest.mark.integration
def test_names_that_resolve_nowhere_were_seen():
    """The walk above is not empty: scenarios where names resolve nowhere ran and were held to it."""
    if not SEEN_REQUESTS:
        pytest.skip("runs after the scenario tests")
    names = {n for n, _ in UNRESOLVED}
    assert {"region-zone-shadows-s3", "per-service-zones", "stale-records"} <= names, sorted(UNRESOLVED)
    assert ("region-zone-shadows-s3", "s3") in UNRESOLVED


@pytest.mark.integration
def test_the_agent_only_ever_read_from_aws():
    """Every request any scenario's run sent to simulated AWS was a read-only action."""
    if not SEEN_REQUESTS:
        pytest.skip("runs after the scenario tests")
    writes = sorted({action for _, action in SEEN_REQUESTS if not READ_ONLY.match(action)})
    assert not writes, "non read-only requests reached AWS: %s" % writes
    actions = {action for _, action in SEEN_REQUESTS}
    assert {"DescribeVpcEndpoints", "DescribeNetworkInterfaces", "GetCallerIdentity"} <= actions
