"""`check --redact` on a scenario: no original id is left, and each stand-in is used consistently."""
import json
import re

import pytest

from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

pytestmark = pytest.mark.integration
ID = re.compile(r"\b(?:vpce|vpc|subnet|eni|sg|rtb|i)-[0-9a-f]{8,17}\b|\b[0-9]{12}\b")


def test_check_redact_on_a_scenario(dns_backend, report_validator, tmp_path):
    with World(SCENARIOS["private-dns-off"], dns_backend=dns_backend) as world:
        args = world.cli_args(timeout=SCENARIO_TIMEOUT)
        plain = run_cli(["check", "--format", "json", *args]).stdout
        redacted = run_cli(["check", "--format", "json", "--redact", *args])
        text = run_cli(["check", "--redact", *args]).stdout
    originals = set(ID.findall(plain))
    assert {"123456789012", "i-0123456789abcdef0"} <= originals and any(o.startswith("vpce-") for o in originals)
    assert redacted.returncode == 2
    for original in originals:
        assert original not in redacted.stdout and original not in text, original
    report = json.loads(redacted.stdout)
    report_validator(report)  # still a valid report: a forum reader can open it with `view`
    node = report["node"]
    assert node["vpc_id"] == "vpc-REDACTED1" and node["subnet_id"].startswith("subnet-REDACTED")
    assert node["account_id"] == "REDACTED-ACCOUNT1" and node["instance_id"] == "i-REDACTED1"
    stand_ins = {}
    for finding in report["findings"]:
        [endpoint] = set(re.findall(r"vpce-REDACTED\d+", finding["message"]))
        assert any("--vpc-endpoint-id %s " % endpoint in c for c in finding["remediation"]["commands"])
        stand_ins[finding["service"]] = endpoint
    assert len(set(stand_ins.values())) == 2  # two endpoints, two stand-ins
    dkr = next(s for s in report["services"] if s["id"] == "ecr.dkr")
    assert dkr["hostname"].startswith("REDACTED-ACCOUNT1.dkr.ecr.")
    assert "vpc-REDACTED1" in text and "private_dns_disabled" in text  # findings stay readable


def test_fleet_redact_is_consistent_across_nodes(tmp_path):
    from pathlib import Path

    fixture = json.loads((Path(__file__).parent.parent / "tui" / "fixtures" / "report-private-dns-off.json").read_text())
    for index in range(3):
        fixture["node"]["instance_id"] = "i-%017x" % (index + 1)
        (tmp_path / ("%s.json" % fixture["node"]["instance_id"])).write_text(json.dumps(fixture))  # as S3 names them
    done = run_cli(["fleet", "--format", "json", "--redact", str(tmp_path)])
    nodes = json.loads(done.stdout)["nodes"]
    assert sorted(n["instance_id"] for n in nodes) == ["i-REDACTED1", "i-REDACTED2", "i-REDACTED3"]
    assert len({n["vpc_id"] for n in nodes}) == 1 and nodes[0]["vpc_id"] == "vpc-REDACTED1"
    assert fixture["node"]["subnet_id"] not in done.stdout and "i-0000" not in done.stdout + done.stderr
    assert sorted(n["file"].rsplit("/", 1)[1] for n in nodes) == ["i-REDACTED1.json", "i-REDACTED2.json", "i-REDACTED3.json"]
