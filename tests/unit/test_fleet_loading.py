"""fleet's fast reader: the skeleton (probe details cut before parsing) must give the same
summary as parsing the whole report, and anything not in the agent's layout is parsed whole."""
import json

from vpce_doctor.agent import fleet


def report(services=3, failing=("sts",)):
    ids = ["ec2", "sts", "logs", "ssm"][:services]
    return {
        "schema_version": 1, "tool": {"name": "vpce-doctor"}, "generated_at": "2026-11-25T00:00:00Z",
        "duration_ms": 1.0, "status": "critical" if failing else "ok",
        "node": {"instance_id": "i-1", "availability_zone": "us-east-1a", "subnet_id": "subnet-a",
                 "notes": ['"probes": {} \n      "checks": trick']},
        "findings": [{"code": "port_blocked", "service": s} for s in failing],
        "services": [{"id": s, "status": "critical" if s in failing else "ok",
                      "findings": [{"code": "port_blocked", "service": s}] if s in failing else [],
                      "probes": {"dns": [{"hostname": s, "nested": {"deep": [1, 2, {"x": "}\n    }"}]}}],
                                 "tls": [], "api": {"outcome": "success"}},
                      "checks": [{"check": "dns", "state": "done"}]} for s in ids],
        "node_checks": {"inventory": {"available": True, "endpoints": [{"id": "vpce-1"}] * 50}},
        "checks": [{"check": "imds", "state": "done"}],
    }


def summary(path):
    loaded = fleet.load([str(path)])
    assert not loaded.skipped, loaded.skipped
    return loaded.nodes[0]["services"], loaded.nodes[0]["status"], loaded.nodes[0]["node_findings"]


def test_skeleton_reads_what_the_whole_report_says(tmp_path):
    data = report()
    raw = json.dumps(data, indent=2)
    skeleton, cuts = fleet._skeleton(raw)
    assert cuts == 3 and len(skeleton) < len(raw) / 2
    whole = dict(data, services=[dict(s, probes={}) for s in data["services"]])
    del whole["node_checks"], whole["checks"]
    assert json.loads(skeleton) == whole
    (tmp_path / "r.json").write_text(raw)
    assert summary(tmp_path / "r.json") == ({"ec2": ("ok", []), "sts": ("critical", ["port_blocked"]),
                                             "logs": ("ok", [])}, "critical", [])


def test_other_layouts_are_parsed_whole(tmp_path):
    data = report()
    (tmp_path / "compact.json").write_text(json.dumps(data))
    assert fleet._skeleton(json.dumps(data)) is None
    assert summary(tmp_path / "compact.json")[0]["sts"] == ("critical", ["port_blocked"])
    # a service without its checks: a cut would run into the next service; the count catches it
    data["services"][0].pop("checks")
    raw = json.dumps(data, indent=2)
    (tmp_path / "odd.json").write_text(raw)
    assert summary(tmp_path / "odd.json")[0] == {"ec2": ("ok", []), "sts": ("critical", ["port_blocked"]),
                                                 "logs": ("ok", [])}


def test_nodes_with_the_same_outcomes_share_one_copy(tmp_path):
    for index in range(3):
        (tmp_path / ("n%d.json" % index)).write_text(json.dumps(report(), indent=2))
    loaded = fleet.load([str(tmp_path)])
    assert len(loaded.nodes) == 3 and len({id(n["services"]) for n in loaded.nodes}) == 1


def test_a_cut_that_would_swallow_a_service_falls_back(tmp_path):
    data = report()
    data["services"][0].pop("checks")  # ec2's probes cut would run to sts's checks...
    data["services"][1].pop("probes")  # ...over an sts without probes of its own
    (tmp_path / "odd.json").write_text(json.dumps(data, indent=2))
    assert set(summary(tmp_path / "odd.json")[0]) == {"ec2", "sts", "logs"}
