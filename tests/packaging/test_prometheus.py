"""The textfile and the alert rules, checked by Debian's promtool: `check metrics` on what the
tool really writes, `check rules`, and `test rules` fed with a fleet built from real runs."""
import ipaddress
import os
import subprocess

import pytest
import yaml

from ..conftest import ROOT
from .textfiles import as_node, fleet_series, metric_names, promql_metric_names, promtool_path, samples

pytestmark = pytest.mark.integration

RULES = os.path.join(ROOT, "packaging", "prometheus", "vpce-doctor.rules.yml")
# Every label the textfile may carry: catalogue ids, codes, severities, one identity series per node.
ALLOWED_LABELS = {"service", "required", "code", "severity", "version", "region", "availability_zone", "vpc_id",
                  "subnet_id", "instance_id"}


def promtool(*args, stdin=None):
    return subprocess.run([promtool_path(), *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_textfile_passes_promtool_check_metrics(real_runs):
    for name, (_, text) in real_runs.items():
        done = promtool("check", "metrics", stdin=text)
        assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), (name, done.stdout, done.stderr)


def test_textfile_labels_are_bounded(real_runs):
    for name, (report, text) in real_runs.items():
        rows = samples(text)
        assert {k for _, labels, _ in rows for k in labels} <= ALLOWED_LABELS, name
        for _, labels, _ in rows:
            for value in labels.values():
                with pytest.raises(ValueError):  # no address ever becomes a label value
                    ipaddress.ip_address(value.split(":")[0].strip("[]"))
        # one series per service, per finding, and one identity series: nothing grows with addresses
        assert len(rows) <= 8 + len(report["services"]) + len(report["findings"]) + 3, name


def test_textfile_names_what_the_rules_need(real_runs):
    _, skewed = real_runs["clock-skew"]
    rows = samples(skewed)
    skew = [float(v) for n, _, v in rows if n == "vpce_doctor_clock_skew_seconds"]
    assert len(skew) == 1 and 540 < skew[0] < 660  # the scenario puts AWS 10 minutes ahead
    report, healthy = real_runs["healthy"]
    [info] = [labels for n, labels, _ in samples(healthy) if n == "vpce_doctor_info"]
    assert info["availability_zone"] == report["node"]["availability_zone"] and info["instance_id"]
    [stamp] = [float(v) for n, _, v in samples(healthy) if n == "vpce_doctor_last_run_timestamp_seconds"]
    assert stamp > 1.6e9
    # what the timer wrote is what the renderer makes of last.json: the fleet below re-renders reports
    assert as_node(report, report["node"]["availability_zone"], report["node"]["instance_id"]) == healthy


def test_rules_pass_promtool_check_rules():
    done = promtool("check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_rules_read_only_metrics_the_textfile_has(real_runs):
    written = set()
    for _, text in real_runs.values():
        written |= metric_names(text)
    with open(RULES) as handle:
        rules = yaml.safe_load(handle)["groups"][0]["rules"]
    for rule in rules:
        used = promql_metric_names(rule["expr"])
        assert used and used <= written, (rule["alert"], sorted(used - written))


def rule_annotations():
    with open(RULES) as handle:
        return {r["alert"]: r["annotations"] for r in yaml.safe_load(handle)["groups"][0]["rules"]}


def test_alerts_fire_for_the_scenarios_findings(real_runs, tmp_path):
    notes = rule_annotations()

    def alert(name, summary, **labels):
        return {"exp_labels": labels, "exp_annotations": {"summary": summary, "description": notes[name]["description"]}}

    firing = {
        "VpceDoctorServiceCritical": [
            alert("VpceDoctorServiceCritical", "sts unreachable through its VPC endpoint on %s: port_blocked" % node,
                  severity="critical", code="port_blocked", service="sts", instance=node, job="node")
            for node in ("node-c1:9100", "node-c2:9100")],
        "VpceDoctorServiceFailingInAZ": [
            alert("VpceDoctorServiceFailingInAZ", "sts fails on 2 nodes in us-east-1c",
                  severity="critical", availability_zone="us-east-1c", service="sts")],
        "VpceDoctorClockSkew": [
            alert("VpceDoctorClockSkew", "Clock on node-b1:9100 is off from AWS",
                  severity="critical", instance="node-b1:9100", job="node")],
        "VpceDoctorNodeCritical": [
            alert("VpceDoctorNodeCritical", "proxy_bypass_missing on node-b2:9100",
                  severity="critical", code="proxy_bypass_missing", instance="node-b2:9100", job="node")],
        "VpceDoctorReportStale": [
            alert("VpceDoctorReportStale", "vpce-doctor has not reported on node-a2:9100 for over an hour",
                  severity="warning", instance="node-a2:9100", job="node")],
        "VpceDoctorUnknown": [],
    }
    tests = {
        "rule_files": [RULES],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": fleet_series(real_runs, minutes=120),
            "alert_rule_test": (
                # `for: 5m`: nothing fires after 3 minutes, not even the stale report (1 h + 10 min)
                [{"eval_time": "3m", "alertname": name, "exp_alerts": []} for name in sorted(firing)]
                + [{"eval_time": "90m", "alertname": name, "exp_alerts": expected}
                   for name, expected in sorted(firing.items())]),
        }],
    }
    path = tmp_path / "vpce-doctor.rules.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    done = promtool("test", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_test_rules_can_fail(real_runs, tmp_path):
    """The harness above is not vacuous: a wrong expectation makes promtool fail."""
    tests = {"rule_files": [RULES], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": fleet_series(real_runs, minutes=30),
        "alert_rule_test": [{"eval_time": "20m", "alertname": "VpceDoctorServiceFailingInAZ", "exp_alerts": []}]}]}
    path = tmp_path / "wrong.test.yml"
    path.write_text(yaml.safe_dump(tests))
    done = promtool("test", "rules", str(path))
    assert done.returncode != 0 and "VpceDoctorServiceFailingInAZ" in done.stdout + done.stderr
