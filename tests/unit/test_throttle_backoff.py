"""Throttled answers are retried after a pause, a bounded number of times, inside the deadline."""
import time
from types import SimpleNamespace

from vpce_doctor.checks import api as api_check
from vpce_doctor.checks.probes import aws_call
from vpce_doctor.checks.probes.inventory import BACKOFF, backoff_pause


def test_pause_grows_and_never_outlives_the_deadline():
    assert backoff_pause(0, remaining=10.0, step_timeout=1.0) <= BACKOFF[0]
    assert backoff_pause(len(BACKOFF), remaining=10.0, step_timeout=1.0) is None
    assert backoff_pause(0, remaining=1.05, step_timeout=1.0) is None  # no room for pause + call


def _ctx(remaining):
    end = time.monotonic() + remaining
    settings = SimpleNamespace(no_api=False, https_port=443)
    return SimpleNamespace(settings=settings, hostnames=lambda s: ["ec2.eu-west-1.amazonaws.com"],
                           node_addresses=lambda h: ["10.0.0.5"], credentials=lambda: None,
                           facts=SimpleNamespace(region="eu-west-1"), ssl_context=lambda: None,
                           step_timeout=lambda: 0.1, guard=None, clock=time.time,
                           remaining=lambda: end - time.monotonic())


def _answers(monkeypatch, codes):
    sent = []

    def fake_call(probe, *args):
        code = codes[min(len(sent), len(codes) - 1)]
        sent.append(code)
        return aws_call.ApiResult(operation="DescribeAvailabilityZones", outcome="unexpected_response" if code else "success",
                                  http_status=503 if code else 200, error_code=code)

    monkeypatch.setattr(aws_call, "call", fake_call)
    return sent


SERVICE = SimpleNamespace(id="ec2", probe={"operation": "DescribeAvailabilityZones", "kind": "aws"})


def test_api_check_retries_a_throttled_call(monkeypatch):
    sent = _answers(monkeypatch, ["RequestLimitExceeded", "Throttling", None])
    result = api_check.ApiCheck().run(_ctx(10.0), SERVICE)
    assert result.outcome == "success" and len(sent) == 3


def test_retries_are_bounded_and_other_errors_are_not_retried(monkeypatch):
    sent = _answers(monkeypatch, ["RequestLimitExceeded"])
    result = api_check.ApiCheck().run(_ctx(10.0), SERVICE)
    assert result.error_code == "RequestLimitExceeded" and len(sent) == len(BACKOFF) + 1
    sent = _answers(monkeypatch, ["UnauthorizedOperation"])
    api_check.ApiCheck().run(_ctx(10.0), SERVICE)
    assert len(sent) == 1
    sent = _answers(monkeypatch, ["RequestLimitExceeded"])
    api_check.ApiCheck().run(_ctx(0.15), SERVICE)  # the deadline leaves no room to retry
    assert len(sent) == 1
