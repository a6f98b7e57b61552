"""Renderers, redaction and the check loader, on a report built from synthetic evidence."""
import json

import pytest

from vpce_doctor.core.model import CheckResult, NodeFacts, Report, ServiceReport
from vpce_doctor.agent.redact import Redactor
from vpce_doctor.agent.render import RENDERERS, prometheus, text, write_atomic
from vpce_doctor.checks import base, verdicts

from .evidence import api, inventory, node, public, service, tls

KEY, SECRET, TOKEN = "ASIAQWERTYUIOPASDFGH", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjEXAMPLETOKEN" * 4


def make_report():
    ev = service(vpc=public("vpc"), node=[public("node")], tls_results=[tls("203.0.113.10", ok=False, phase="connect",
                                                                           kind="timeout", error="timed out")])
    findings = verdicts.service_findings(ev, node(inventory()))
    facts = NodeFacts(region="us-east-1", availability_zone="us-east-1a", vpc_id="vpc-0abc", subnet_id="subnet-0a",
                      vpc_cidrs=("10.0.0.0/16",), vpc_resolver="10.0.0.2", custom_resolvers=("10.0.9.53",))
    svc = ServiceReport(id="ec2", endpoint_service="com.amazonaws.us-east-1.ec2", hostname=ev.hostname,
                        endpoint_type="Interface", required=True, required_by=["always"], status="critical",
                        findings=findings, probes={"dns": list(ev.dns), "tls": list(ev.tls),
                                                   "api": api(message="token %s leaked?" % TOKEN)},
                        checks=[CheckResult("dns", "ec2", "done", duration_ms=3.0)])
    report = Report(tool_version="0.1.0", generated_at="2026-11-24T00:00:00Z", duration_ms=420.0, status="critical",
                    node=facts, findings=findings, services=[svc], node_checks={}, node_check_results=[])
    report.redactor = Redactor([KEY, SECRET, TOKEN])
    return report


def test_text_table_and_fixes():
    out = text.render(make_report().to_dict())
    lines = out.splitlines()
    assert "status: CRITICAL" in lines[1]
    assert lines[3].split() == ["SERVICE", "STATUS", "VPC", "DNS", "NODE", "DNS", "TLS", "API", "FINDING"]
    assert lines[4].split()[:6] == ["ec2", "critical", "public", "public", "0/1", "timeout"]
    assert "1. [CRITICAL] endpoint_missing (ec2)" in out
    assert "$ aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id vpc-0abc" in out


def test_prometheus_textfile():
    out = prometheus.render(make_report().to_dict())
    assert "vpce_doctor_status 2" in out.splitlines()
    assert 'vpce_doctor_service_status{service="ec2",required="true"} 2' in out
    assert 'vpce_doctor_finding{code="endpoint_missing",service="ec2",severity="critical"} 1' in out
    for line in out.splitlines():
        assert line.startswith("#") or line.startswith("vpce_doctor_")


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_no_secret_in_any_format(fmt):
    out = RENDERERS[fmt](make_report().to_dict())
    for secret in (KEY, SECRET, TOKEN):
        assert secret not in out


@pytest.mark.parametrize("raw", [
    "https://bucket.s3.amazonaws.com/x?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F2026&X-Amz-Signature=abcdef0123456789",
    'Authorization: AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20261124/us-east-1/sts/aws4_request, Signature=0a1b',
    '{"authorizationToken": "QVdTOmV5SndZWGxzYjJGa0lqb2lSMFJ1"}',
])
def test_redaction_patterns(raw):
    out = Redactor().text(raw)
    assert "AKIAABCDEFGHIJKLMNOP" not in out and "abcdef0123456789" not in out and "QVdTOmV5SndZWGxz" not in out


def test_json_is_parseable(tmp_path):
    path = tmp_path / "report.json"
    write_atomic(str(path), RENDERERS["json"](make_report().to_dict()))
    assert json.loads(path.read_text())["services"][0]["id"] == "ec2"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left behind


class GoodOutside:
    id = "ntp_source"
    scope = "node"
    title = "an outside check"

    def run(self, ctx, service=None):
        return {}


class MisnamedOutside(GoodOutside):
    id = "something_else"


def test_loader_builtins_outside_and_refusals(caplog):
    checks = base.load_checks({"ntp_source": "tests.unit.test_output:GoodOutside",
                               "dns": "tests.unit.test_output:GoodOutside",
                               "misnamed": "tests.unit.test_output:MisnamedOutside",
                               "broken": "tests.nowhere:Nothing"})
    ids = [c.id for c in checks]
    assert ids == list(base.BUILTIN) + ["ntp_source"]
    messages = caplog.text
    assert "a built-in check has that id" in messages
    assert "id and its registered name must agree" in messages
    assert "broken" in messages


def test_builtins_are_registered_as_entry_points():
    assert {k: v for k, v in base._entry_points().items() if k in base.BUILTIN} == base.BUILTIN


def test_redactor_masks_every_credentials_source():
    from vpce_doctor.agent.imds import RoleCredentials

    chain = RoleCredentials("AKIAENVIRONMENT00001", "env-secret-value-0123456789", None)
    instance = RoleCredentials("ASIAINSTANCEROLE0001", "instance-secret-0123456789", "instance-session-token-0123")
    redactor = Redactor.for_credentials(chain, None, instance)
    text = redactor.text("env-secret-value-0123456789 instance-session-token-0123 instance-secret-0123456789")
    assert text == "*** *** ***"


def test_remote_answers_read_remote_in_the_table_and_the_interactive_view():
    from vpce_doctor.core.model import to_jsonable
    from vpce_doctor.tui.state import ViewState

    from .evidence import remote

    hostname = "sts.us-east-1.amazonaws.com"
    service_data = {"id": "sts", "hostname": hostname, "status": "ok", "required": True, "findings": [],
                    "probes": {"dns": to_jsonable([remote("vpc", hostname), remote("node", hostname)]),
                               "tls": to_jsonable([tls("10.99.1.20")]), "api": to_jsonable(api())}, "checks": []}
    assert text.dns_cell(service_data["probes"]["dns"][:1]) == "remote"
    state = ViewState()
    state.load({"schema_version": 1, "node": {}, "services": [service_data], "findings": []})
    assert state.cells(service_data, compact=True)[1:3] == ["remote", "remote"]
    assert state.cells(service_data)[2:4] == ["remote", "remote"]
    # a report from before `scope` existed still reads by in_vpc
    old = [{"address": "10.0.1.20", "in_vpc": True}, {"address": "203.0.113.9", "in_vpc": False}]
    assert text.dns_cell([{"status": "answer", "addresses": old[:1]}]) == "in-vpc"
    assert text.dns_cell([{"status": "answer", "addresses": old}]) == "mixed"


def test_detail_view_shows_the_gateway_route_and_remote_addresses():
    pytest.importorskip("textual")
    from vpce_doctor.tui.components.detail_screen import describe

    service_data = {"id": "s3", "hostname": "s3.us-east-1.amazonaws.com", "status": "critical", "findings": [],
                    "probes": {"dns": [{"resolver_role": "vpc", "rdtype": "A", "server": "10.0.0.2:53",
                                        "hostname": "s3.us-east-1.amazonaws.com", "status": "answer",
                                        "addresses": [{"address": "10.99.1.20", "in_vpc": False, "scope": "remote"}]}],
                               "tls": [], "api": {},
                               "route": {"route_table_id": "rtb-0node", "main": False, "gateway_routes": []}},
                    "checks": []}
    shown = describe(service_data, []).plain
    assert "Route table rtb-0node" in shown and "no gateway endpoint route" in shown
    assert "10.99.1.20 (remote: a hub VPC's endpoint)" in shown
