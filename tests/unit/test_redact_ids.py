"""--redact: every id and node/VPC address replaced, the same value by the same stand-in."""
import json
import re
from pathlib import Path

from vpce_doctor.agent.redact_ids import IdRedactor, redact_ids

FIXTURE = Path(__file__).parent.parent / "tui" / "fixtures" / "report-private-dns-off.json"


def _report():
    return {
        "node": {"account_id": "123456789012", "instance_id": "i-0123456789abcdef0", "vpc_id": "vpc-0abc1234",
                 "subnet_id": "subnet-0123456789abcdef0", "vpc_cidrs": ["10.20.0.0/16", "2600:1f18:abcd:1200::/56"],
                 "local_ipv4": "10.20.1.15", "resolvers": {"vpc": "169.254.169.253", "custom": ["10.20.0.2:53"]},
                 "imds": {"endpoint": "http://169.254.169.254"}, "hostname": "ip-10-20-1-15.ec2.internal"},
        "findings": [{"message": "endpoint vpce-0123456789abcdef0 (eni-0aaaabbbbccccdddd, sg-0123abcd) has no ENI in "
                                 "subnet-0123456789abcdef0; 10.20.3.7 and 10.20.1.15 time out; rtb-11112222 routes; "
                                 "arn:aws:iam::123456789012:role/node at 12:30:45",
                      "remediation": {"commands": ["aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-0123456789abcdef0 "
                                                   "--add-subnet-ids subnet-0123456789abcdef0",
                                                   "dig @10.20.0.2 -p 53 123456789012.dkr.ecr.us-east-1.amazonaws.com"]}}],
        "services": [{"probes": {"tls": [{"address": "10.20.1.15"}, {"address": "2600:1f18:abcd:1200::15"}]}}],
    }


ORIGINALS = ["123456789012", "i-0123456789abcdef0", "vpc-0abc1234", "subnet-0123456789abcdef0", "10.20.",
             "2600:1f18", "vpce-0123456789abcdef0", "eni-0aaaabbbbccccdddd", "sg-0123abcd", "rtb-11112222",
             "ip-10-20-1-15"]


def test_nothing_original_is_left_and_public_facts_stay():
    out = json.dumps(redact_ids(_report()))
    for original in ORIGINALS:
        assert original not in out, original
    for kept in ("169.254.169.253", "http://169.254.169.254", "us-east-1", "12:30:45", "modify-vpc-endpoint"):
        assert kept in out, kept


def test_the_same_value_is_the_same_stand_in_everywhere():
    out = redact_ids(_report())
    node, finding = out["node"], out["findings"][0]
    assert node["vpc_id"] == "vpc-REDACTED1" and node["subnet_id"] == "subnet-REDACTED1"
    assert "vpce-REDACTED1" in finding["message"] and "vpce-REDACTED1" in finding["remediation"]["commands"][0]
    assert finding["remediation"]["commands"][0].endswith("--add-subnet-ids subnet-REDACTED1")
    assert node["account_id"] in finding["message"] and node["account_id"] in finding["remediation"]["commands"][1]
    # one /16 -> one stand-in /16, host part kept: addresses of one subnet stay together
    assert node["local_ipv4"] == out["services"][0]["probes"]["tls"][0]["address"]
    assert node["vpc_cidrs"][0] == node["local_ipv4"].rsplit(".", 2)[0] + ".0.0/16"
    assert node["hostname"] == "ip-%s.ec2.internal" % node["local_ipv4"].replace(".", "-")
    assert node["local_ipv4"] in finding["message"]
    assert re.match(r"^2001:db8::", out["services"][0]["probes"]["tls"][1]["address"])


def test_one_table_across_a_fleet():
    redactor = IdRedactor()
    first, second = redactor.report(_report()), redactor.report(_report())
    assert first == second


def test_a_stand_in_never_is_a_real_address_of_the_report():
    report = _report()
    report["node"]["resolvers"]["custom"] = ["198.18.0.2:53"]  # a real address in the first stand-in /16
    out = json.dumps(redact_ids(report))
    assert "198.18.0.2" not in out


def test_the_saved_scenario_report():
    report = json.loads(FIXTURE.read_text())
    out = json.dumps(redact_ids(report))
    for original in {report["node"]["vpc_id"], report["node"]["subnet_id"], report["node"]["account_id"],
                     report["node"]["instance_id"]}:
        assert original not in out
