"""What one run costs AWS, counted where it lands (the simulated AWS's request log), and
timer mode's bound on it: full reads at most every --api-interval, or when DNS/TLS change.
README's fleet request rates are computed from these counts."""
import collections
import json

import pytest

from vpce_doctor.agent.carry import CARRIED_NOTE, STATE_FILE
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

pytestmark = pytest.mark.integration



def checked(world, *extra):
    done = run_cli(["check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT), *extra])
    assert done.returncode in (0, 1, 2), done.stderr
    return done


def report_of(done):
    return json.loads(done.stdout[done.stdout.index("{"):])


# The image pull (the healthy scenario pulls demo/scenarios.DEMO_IMAGE): one token call, the tag's index, this
# platform's manifest, the smallest layer's blob (ECR's redirect), one byte of it from the layer bucket.
PULL = {
    "healthy": {"ecr.api": ["GetAuthorizationToken"],
                "ecr.dkr": ["GET /v2/vpce-doctor/demo/manifests/v1",
                            "GET /v2/vpce-doctor/demo/manifests/sha256:"
                            "5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
                            "GET /v2/vpce-doctor/demo/blobs/sha256:"
                            "3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"],
                "s3": ["GET /d3d9867d96debcb097cfb3a6ce764991/2559ef55f9488f80b2b46daa5f55fda6"]},
    "cn-healthy": {},
}
PROBE = {"ecr.api": "GetAuthorizationToken", "ecr.dkr": "GET /v2/", "s3": "GET /"}


@pytest.mark.parametrize("scenario, inventory_reads", [
    # the inventory, its ENIs, and the node subnet's route table (one request for the VPC's tables)
    ("healthy", {"DescribeVpcEndpoints": 1, "DescribeNetworkInterfaces": 1, "DescribeRouteTables": 1}),
    # only aws-cn mixes endpoint service prefixes: only there are the real names read
    ("cn-healthy", {"DescribeVpcEndpoints": 1, "DescribeNetworkInterfaces": 1, "DescribeRouteTables": 1,
                    "DescribeVpcEndpointServices": 1}),
])
def test_one_run_sends_one_call_per_service_and_the_inventory_reads(scenario, inventory_reads, dns_backend):
    with World(SCENARIOS[scenario], dns_backend=dns_backend) as world:
        report = report_of(checked(world))
        sent = list(world.requests)
    services = [s["id"] for s in report["services"]]
    by_service = collections.Counter(service for service, _ in sent)
    ec2_actions = collections.Counter(action for service, action in sent if service == "ec2")
    # the ec2 probe: DescribeInstances for the node's own instance (the managed node policy allows it)
    assert ec2_actions == dict(inventory_reads, DescribeInstances=1)
    pull = PULL[scenario]
    for service in services:
        assert by_service[service] == (1 + len(inventory_reads) if service == "ec2" else 1) + len(pull.get(service, ())), \
            (service, sent)
    assert len(sent) == len(services) + len(inventory_reads) + sum(len(p) for p in pull.values())
    for service, requests in pull.items():  # the pull's own requests, besides the service's probe
        assert collections.Counter(a for s, a in sent if s == service) - collections.Counter([PROBE[service]]) \
            == collections.Counter(requests)


def test_timer_mode_carries_api_evidence_between_full_reads(tmp_path, dns_backend):
    state = tmp_path / "state"
    with World(SCENARIOS["private-dns-off"], dns_backend=dns_backend) as world:
        checked(world, "--state-dir", str(state), "-o", str(tmp_path / "1.json"))
        first = json.loads((tmp_path / "1.json").read_text())
        full_calls = len(world.requests)
        assert full_calls > 0 and (state / STATE_FILE).exists()

        second_run = checked(world, "--state-dir", str(state), "-o", str(tmp_path / "2.json"))
        second = json.loads((tmp_path / "2.json").read_text())
        assert len(world.requests) == full_calls, "a cheap run must not reach AWS: %s" % world.requests[full_calls:]
        notes = [n for n in second["node"]["notes"] if n.startswith(CARRIED_NOTE)]
        assert len(notes) == 1 and "s ago" in notes[0]
        assert CARRIED_NOTE in second_run.stdout.splitlines()[0]  # the journal says so too
        # the findings fed by the carried evidence do not flap
        assert sorted((f["code"], f["service"]) for f in second["findings"]) == \
            sorted((f["code"], f["service"]) for f in first["findings"])
        assert [s["probes"]["api"] for s in second["services"]] == [s["probes"]["api"] for s in first["services"]]

        checked(world, "--state-dir", str(state), "--api-interval", "0")
        assert len(world.requests) == 2 * full_calls  # 0: every run reads AWS


def test_changed_dns_evidence_forces_a_full_read(tmp_path, dns_backend):
    state = tmp_path / "state"
    with World(SCENARIOS["healthy"], dns_backend=dns_backend) as world:
        checked(world, "--state-dir", str(state))
        assert world.requests
    with World(SCENARIOS["private-dns-off"], dns_backend=dns_backend) as world:
        checked(world, "--state-dir", str(state), "-o", str(tmp_path / "after.json"))
        assert world.requests, "private DNS switched off changes what DNS says: the API must be read again"
        after = json.loads((tmp_path / "after.json").read_text())
    assert not [n for n in after["node"]["notes"] if n.startswith(CARRIED_NOTE)]


def test_timer_mode_carries_the_image_pull_too(tmp_path, dns_backend):
    """The pull's token call, registry requests and byte follow --api-interval like the other signed calls."""
    state = tmp_path / "state"
    with World(SCENARIOS["layer-bucket-not-in-gateway-policy"], dns_backend=dns_backend) as world:
        checked(world, "--state-dir", str(state), "-o", str(tmp_path / "1.json"))
        full_calls = len(world.requests)
        assert sum(1 for s, a in world.requests if s == "ecr.dkr" and "/manifests/" in a) == 2
        checked(world, "--state-dir", str(state), "-o", str(tmp_path / "2.json"))
        assert len(world.requests) == full_calls, "a cheap run must not pull: %s" % world.requests[full_calls:]
    first, second = (json.loads((tmp_path / n).read_text()) for n in ("1.json", "2.json"))
    assert second["node_checks"]["image_pull"] == first["node_checks"]["image_pull"]
    assert first["node_checks"]["image_pull"]["pulls"][0]["steps"][-1]["http_status"] == 403
    assert [(f["code"], f["service"], f["evidence"]) for f in second["findings"]] == \
        [(f["code"], f["service"], f["evidence"]) for f in first["findings"]]
