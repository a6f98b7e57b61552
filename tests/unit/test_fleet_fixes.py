"""fleet's fixes, each once: findings of many nodes grouped by the change their fix makes (the
remediation the agent writes, built here by the real checks/remediation.py), with the nodes,
subnets and AZs each fix concerns, and the finding codes on the page without hovering."""
import json
import re

from vpce_doctor.agent import fleet
from vpce_doctor.checks import remediation
from vpce_doctor.core.model import to_jsonable

VPC = "vpc-0a1b2c3d4e5f60718"
CIDRS = ("10.20.0.0/16",)
SUBNETS = {"us-east-1a": "subnet-0aaa1111", "us-east-1b": "subnet-0bbb2222", "us-east-1c": "subnet-0ccc3333"}


def _where(az, index):
    return remediation.Where("us-east-1", VPC, SUBNETS[az], CIDRS, "i-%04d" % index)


def _finding(code, service, severity, remedy):
    return {"code": code, "service": service, "severity": severity, "message": "m",
            "remediation": to_jsonable(remedy), "evidence": []}


def node_report(index, az, findings):
    services = sorted({f["service"] for f in findings if f["service"]} | {"ec2"})
    return {
        "schema_version": 1, "tool": {"name": "vpce-doctor", "version": "0.1.0"},
        "generated_at": "2026-12-03T00:00:00Z", "duration_ms": 1.0,
        "status": "critical" if findings else "ok",
        "node": {"instance_id": "i-%04d" % index, "availability_zone": az, "subnet_id": SUBNETS[az],
                 "region": "us-east-1", "vpc_id": VPC},
        "findings": findings,
        "services": [{"id": s, "status": "critical" if any(f["service"] == s for f in findings) else "ok",
                      "findings": [f for f in findings if f["service"] == s], "probes": {}, "checks": []}
                     for s in services],
        "node_checks": {}, "checks": [],
    }


def fleet_dir(tmp_path, nodes=12):
    """`nodes` nodes over three AZs, all without the kms endpoint; AZ c's also blocked on 443 to sts
    (each node names its own AZ's endpoint address); two nodes' resolvers fail (no structured fix)."""
    azs = sorted(SUBNETS)
    for index in range(nodes):
        az = azs[index % 3]
        where = _where(az, index)
        found = [_finding("endpoint_missing", "kms", "critical", remediation.endpoint_missing(
            where, "kms", "com.amazonaws.us-east-1.kms", "Interface"))]
        if az == "us-east-1c":
            address = "10.20.3.%d" % (10 + index)
            found.append(_finding("port_blocked", "sts", "critical",
                                  remediation.port_blocked(where, "sts", [address], ["sg-0sts0000000000001"])))
        if index in (0, 1):
            found.append(_finding("dns_failure", "ec2", "warning", remediation.dns_failure(
                "ec2.us-east-1.amazonaws.com", "10.20.0.%d:53" % (53 + index), "timeout")))
        (tmp_path / ("node-%02d.json" % index)).write_text(json.dumps(node_report(index, az, found), indent=2))
    return tmp_path


def test_each_fix_once_for_every_node_it_concerns(tmp_path):
    loaded = fleet.load([str(fleet_dir(tmp_path))])
    groups = loaded.fixes.groups()
    assert [(g["what"], g["nodes"]) for g in groups] == [
        ("create the kms interface endpoint in %s" % VPC, 12),
        ("allow TCP 443 from 10.20.0.0/16 on sg-0sts0000000000001", 4),
        ("Resolver 10.20.0.53:53 gave TIMEOUT for ec2.us-east-1.amazonaws.com", 2)]
    kms, sts, dns = groups
    assert kms["subnets"] == sorted(SUBNETS.values()) and kms["azs"] == sorted(SUBNETS)
    assert kms["merged"] == {"subnet_ids": sorted(SUBNETS.values())}  # one endpoint, a subnet per AZ used
    assert kms["findings"] == ["endpoint_missing (kms)"] and not kms["texts_differ"]
    assert kms["commands_merged"] and any("--subnet-ids %s --security" % " ".join(sorted(SUBNETS.values())) in c
                                          for c in kms["commands"])
    assert not sts["commands_merged"] and not dns["commands_merged"]
    assert kms["instances"] == ["i-0000", "i-0001", "i-0002", "i-0003", "i-0004"]  # the count says the rest
    assert sts["subnets"] == [SUBNETS["us-east-1c"]] and sts["texts_differ"]  # each node names its ENI address
    assert dns["severity"] == "warning" and dns["texts_differ"] and dns["example"] == "i-0000"


def test_a_fleet_ten_times_larger_has_the_same_fixes(tmp_path):
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small = fleet.load([str(fleet_dir(tmp_path / "small"))])
    large = fleet.load([str(fleet_dir(tmp_path / "large", 120))])
    assert [g["what"] for g in large.fixes.groups()] == [g["what"] for g in small.fixes.groups()]
    assert [g["nodes"] for g in large.fixes.groups()] == [120, 40, 2]
    assert len(large.fixes._groups) == 3  # memory follows distinct fixes, not nodes


def test_a_node_with_the_same_fix_twice_counts_once(tmp_path):
    where = _where("us-east-1a", 7)
    remedy = remediation.endpoint_az_missing(where, "vpce-0123456789abcdef0", "us-east-1a")
    findings = [_finding("endpoint_az_missing", s, "warning", remedy) for s in ("ecr.api", "ecr.dkr")]
    (tmp_path / "n.json").write_text(json.dumps(node_report(7, "us-east-1a", findings)))
    [group] = fleet.load([str(tmp_path)]).fixes.groups()
    assert group["nodes"] == 1 and group["findings"] == ["endpoint_az_missing (ecr.api)", "endpoint_az_missing (ecr.dkr)"]
    assert group["what"] == "add %s to vpce-0123456789abcdef0" % SUBNETS["us-east-1a"]


def test_text_and_html_show_each_fix_with_its_reach_and_codes(tmp_path):
    loaded = fleet.load([str(fleet_dir(tmp_path))])
    text = fleet.render_text(loaded)
    assert ("1. [CRITICAL] create the kms interface endpoint in %s: fixes 12 nodes in 3 subnets "
            "(us-east-1a, us-east-1b, us-east-1c)" % VPC) in text
    assert "2. [CRITICAL] allow TCP 443 from 10.20.0.0/16 on sg-0sts0000000000001 in %s: fixes 4 nodes" % VPC in text
    assert "   nodes: i-0000, i-0001, i-0002, i-0003, i-0004 (+7 more)" in text
    page = fleet.render_html(loaded)
    assert "<strong>create the kms interface endpoint in %s</strong>: fixes 12 nodes in 3 subnets" % VPC in page
    assert "<code>endpoint_missing (kms)</code>" in page and "<code>port_blocked (sts)</code>" in page
    assert "title=" not in page  # nothing only on hover
    kms_row = next(row for row in page.split("<tr>") if row.startswith("<th>kms</th>"))
    assert kms_row.count("<code>endpoint_missing</code>") == 3  # codes in each AZ's cell
    assert "<script" not in page and not re.search(r"(src|href)=", page)
    data = json.loads(fleet.render_json(loaded))
    assert [g["nodes"] for g in data["fixes"]] == [12, 4, 2]


def test_reports_without_structured_fixes_group_by_code_and_service(tmp_path):
    """Reports written before Remediation.actions (and hostile ones) still group, by what was found."""
    for index, az in enumerate(sorted(SUBNETS)):
        found = [{"code": "private_dns_disabled", "service": "ecr.api", "severity": "critical",
                  "remediation": {"text": "Turn on private DNS for endpoint vpce-1. Then wait.", "commands": ["x"],
                                  "actions": [None, {"kind": 7}, {"kind": "modify_endpoint", "params": "no"}]}}]
        (tmp_path / ("n%d.json" % index)).write_text(json.dumps(node_report(index, az, found)))
    [group] = fleet.load([str(tmp_path)]).fixes.groups()
    assert group["nodes"] == 3 and group["what"] == "Turn on private DNS for endpoint vpce-1"


def test_an_endpoint_gets_one_subnet_per_az(tmp_path):
    """Nodes in two subnets of one AZ: the endpoint they all need takes one of them (the first seen)."""
    subnets = [("us-east-1a", "subnet-0aaa1111"), ("us-east-1a", "subnet-0aaa9999"), ("us-east-1b", "subnet-0bbb2222")]
    for index, (az, subnet) in enumerate(subnets):
        where = remediation.Where("us-east-1", VPC, subnet, CIDRS, "i-%04d" % index)
        report = node_report(index, az, [_finding("endpoint_missing", "kms", "critical", remediation.endpoint_missing(
            where, "kms", "com.amazonaws.us-east-1.kms", "Interface"))])
        report["node"]["subnet_id"] = subnet
        (tmp_path / ("n%d.json" % index)).write_text(json.dumps(report))
    [group] = fleet.load([str(tmp_path)]).fixes.groups()
    assert group["nodes"] == 3 and group["subnets"] == sorted(s for _, s in subnets)  # where the nodes are
    assert group["merged"] == {"subnet_ids": ["subnet-0aaa1111", "subnet-0bbb2222"]}  # what the endpoint takes
    assert any("--subnet-ids subnet-0aaa1111 subnet-0bbb2222 --security" in c for c in group["commands"])
