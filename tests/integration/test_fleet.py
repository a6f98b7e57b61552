"""The fleet view over reports produced by scenarios: a pattern by AZ must jump out."""
import json

import pytest

from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reports(tmp_path_factory, dns_backend):
    """Six nodes: healthy in AZs a and b, and ecr.dkr broken (no ENI, 443 dropped) in AZ c."""
    out = {}
    for name in ("healthy", "sg-drops-443"):
        with World(SCENARIOS[name], dns_backend=dns_backend) as world:
            done = run_cli(["check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT)])
            out[name] = json.loads(done.stdout)
    directory = tmp_path_factory.mktemp("reports")
    layout = [("healthy", "us-east-1a", "subnet-a"), ("healthy", "us-east-1a", "subnet-a"),
              ("healthy", "us-east-1b", "subnet-b"), ("healthy", "us-east-1b", "subnet-b"),
              ("sg-drops-443", "us-east-1c", "subnet-c"), ("sg-drops-443", "us-east-1c", "subnet-c")]
    for index, (name, az, subnet) in enumerate(layout):
        report = json.loads(json.dumps(out[name]))
        report["node"].update(instance_id="i-%04d" % index, availability_zone=az, subnet_id=subnet)
        (directory / ("node-%d.json" % index)).write_text(json.dumps(report))
    (directory / "notes.json").write_text("not a report")
    return directory


def test_fleet_text_names_the_az_pattern(reports):
    done = run_cli(["fleet", str(reports)])
    assert done.returncode == 0, done.stderr
    assert "! sts fails only in AZ us-east-1c: 2/2 nodes there, 0/4 elsewhere" in done.stdout
    sts = next(line for line in done.stdout.splitlines() if line.startswith("sts "))
    assert sts.split()[1:4] == ["ok", "2", "ok"] and "2/2" in sts and "port_blocked" in sts
    assert "6 node(s), 1 report(s) skipped" in done.stdout


def test_fleet_json_and_html(reports, tmp_path):
    data = json.loads(run_cli(["fleet", "--format", "json", str(reports)]).stdout)
    assert data["by_az"]["sts"]["us-east-1c"] == {"failing": 2, "nodes": 2, "codes": ["port_blocked"]}
    assert data["by_subnet"]["logs"]["subnet-c"]["failing"] == 2
    page = tmp_path / "fleet.html"
    assert run_cli(["fleet", "--format", "html", "--output", str(page), str(reports)]).returncode == 0
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<script" not in text and "http" not in text.split("<body>")[1]
    assert "sts fails only in AZ us-east-1c" in text
    # each fix once, for the two nodes of AZ c it concerns, the finding codes on the page (no hover)
    [sts] = [g for g in data["fixes"] if g["findings"] == ["port_blocked (sts)"]]
    assert sts["nodes"] == 2 and sts["subnets"] == ["subnet-c"] and sts["instances"] == ["i-0004", "i-0005"]
    assert sts["what"].startswith("allow TCP 443 from ") and " on sg-" in sts["what"]
    assert "<strong>%s</strong> in vpc-" % sts["what"] in text and "fixes 2 nodes in 1 subnet (us-east-1c)" in text
    assert "<code>port_blocked (sts)</code>" in text and "title=" not in text
    assert len(data["fixes"]) == 2  # sts's and logs's security groups: two changes, each once


def test_fleet_text_lists_each_fix_once(reports):
    done = run_cli(["fleet", str(reports)])
    fixes = done.stdout.split("FIXES, EACH ONCE FOR THE NODES IT CONCERNS", 1)[1]
    assert fixes.count("fixes 2 nodes in 1 subnet (us-east-1c)") == 2 and "findings: port_blocked (logs)" in fixes


def test_fleet_without_reports_exits_3(tmp_path):
    done = run_cli(["fleet", str(tmp_path)])
    assert done.returncode == 3 and "no readable report" in done.stderr
