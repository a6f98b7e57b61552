"""HTTP/API faults: the endpoint answers a signed call in one hostile way per case (5xx,
throttling, bodies that are not AWS's, huge and dripping answers, spoofed and real policy texts,
clock rejections). One table; each case: its outcome, the run within its deadline, no internal error.
A case that stands for real AWS serves a wire corpus answer (wire_answer, each with its public source);
the others are hostile by design (not AWS, or AWS's answer broken: cut, re-encoded, swollen)."""
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import STS_OK, run_api_case
from .hostile import drip, http_answer, wire_answer

pytestmark = pytest.mark.integration

HTML_PORTAL = (b"<!DOCTYPE html><html><head><title>Wi-Fi login</title></head><body>Please sign in. Access to "
               b"this resource is denied because no VPC endpoint policy allows it.</body></html>")


def xml_error(code, message, status=400, extra=b""):
    body = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>'
            + code.encode() + b"</Code><Message>" + message.encode() + b"</Message>" + extra
            + b"</Error><RequestId>0a1b</RequestId></ErrorResponse>")
    return http_answer(status, body, "text/xml")


def stamp(seconds_from_now, fmt="%Y%m%dT%H%M%SZ"):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now)).strftime(fmt)


ROLE = "arn:aws:sts::111122223333:assumed-role/node-role/i-0fa17"


def always(answer):
    return lambda request, index: answer


def real(entry_id, **values):
    return always(wire_answer(entry_id, **values))


def first_then(first, then):
    return lambda request, index: first if index == 0 else then


# case -> (responder factory, services, expected API outcome, expected finding codes, service status)
API_CASES = {
    "http_500": (lambda: real("common/internal-failure-query"), "sts", "server_error", [], "unknown"),
    "http_503_empty": (lambda: always(http_answer(503, b"", "text/plain")), "sts", "server_error", [], "unknown"),
    "http_502_proxy_page": (lambda: always(http_answer(502, b"<html><body>Bad Gateway</body></html>", "text/html")),
                            "sts", "unparseable_response", [], "unknown"),
    "throttling_query": (lambda: real("query/throttling"), "sts", "throttled", [], "unknown"),
    "throttling_json": (lambda: real("json/throttling"), "logs", "throttled", [], "unknown"),
    "request_limit_exceeded": (lambda: real("ec2/throttle-request-limit-exceeded"), "ec2", "throttled", [], "unknown"),
    "too_many_requests": (lambda: real("rest-json/too-many-requests", message="Too Many Requests"), "eks", "throttled",
                          [], "unknown"),
    # S3's SlowDown to the unsigned layer-bucket probe: an answer from S3 through the gateway proves the path
    "slow_down": (lambda: real("s3/slow-down"), "s3", "reached", ["layer_bucket_unverified"], "ok"),
    "http_429_bare": (lambda: always(http_answer(429, b"", "text/plain")), "sts", "throttled", [], "unknown"),
    "throttled_once_then_ok": (lambda: first_then(wire_answer("query/throttling"), http_answer(200, STS_OK)),
                               "sts", "success", [], "ok"),
    "captive_portal_403": (lambda: always(http_answer(403, HTML_PORTAL, "text/html")), "sts", "unparseable_response",
                           [], "unknown"),
    "captive_portal_200": (lambda: always(http_answer(200, HTML_PORTAL, "text/html")), "sts", "unparseable_response",
                           [], "unknown"),
    "binary_400": (lambda: always(http_answer(400, bytes(range(256)) * 4, "application/octet-stream")), "sts",
                   "unparseable_response", [], "unknown"),
    "empty_400": (lambda: always(http_answer(400, b"", "text/plain")), "sts", "unparseable_response", [], "unknown"),
    "utf16_access_denied": (lambda: always(http_answer(
        403, ('<?xml version="1.0" encoding="UTF-16"?><ErrorResponse><Error><Code>AccessDenied</Code><Message>User: %s '
              'is not authorized to perform: sts:GetCallerIdentity because no identity-based policy allows the '
              'sts:GetCallerIdentity action</Message></Error></ErrorResponse>' % ROLE).encode("utf-16"),
        "text/xml; charset=UTF-16")), "sts", "iam_denied", ["access_denied"], "warn"),
    "utf16_noise": (lambda: always(http_answer(403, "no such thing".encode("utf-16"), "text/plain")), "sts",
                    "unparseable_response", [], "unknown"),
    "unknown_aws_code": (lambda: real("common/opt-in-required-query"), "sts", "unexpected_response", [], "unknown"),
    "huge_error_body": (lambda: always(xml_error("InternalFailure", "x" * (4 << 20), 500)), "sts", "server_error", [],
                        "unknown"),
    "huge_ok_body": (lambda: always(http_answer(200, STS_OK + b"<!--" + b"y" * (8 << 20) + b"-->")), "sts", "success",
                     [], "ok"),
    "content_length_lies": (lambda: always(http_answer(200, STS_OK).replace(
        b"Content-Length: %d" % len(STS_OK), b"Content-Length: %d" % (len(STS_OK) + 1000))), "sts", "connect_error", [],
        "unknown"),
    "endless_header_line": (lambda: always(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"j" * (200 << 10) + b"\r\n\r\n"), "sts",
                            "connect_error", [], "unknown"),
    "dripping_answer": (lambda: always(drip(http_answer(200, STS_OK), every=0.05)), "sts", "timeout", [], "unknown"),
    "policy_text_with_arn": (lambda: real("query/endpoint-denied-explicit", role_arn=ROLE, action="sts:GetCallerIdentity",
                                          resource="*", request_id="0a1b"), "sts", "policy_denied", ["policy_denied"],
                             "critical"),
    "policy_text_spoofed_in_html": (lambda: always(http_answer(403, HTML_PORTAL, "text/html")), "sts",
                                    "unparseable_response", [], "unknown"),
    "policy_words_not_the_phrase": (lambda: always(xml_error(
        "AccessDenied", "Ask your admin about the VPC endpoint policy page", 403)), "sts", "access_denied",
        ["access_denied"], "warn"),
    "registry_denied_form": (lambda: real("registry/manifest-denied-endpoint-policy", role_arn=ROLE, account="111122223333",
                                          region="us-east-1", repository="app"), "ecr.dkr", "policy_denied",
                             ["policy_denied"], "critical"),
    "signature_expired_15_min": (lambda: real("query/signature-expired", request_time=stamp(0),
                                              server_time_minus_skew=stamp(600 - 900), server_time=stamp(600)),
                                 "sts", "clock_skew", ["clock_skew"], "ok"),
    "signature_not_yet_current_5_min": (lambda: real("json/signature-not-yet-current", request_time=stamp(0),
                                                     server_time_plus_skew=stamp(-1800 + 300), server_time=stamp(-1800)),
                                        "logs", "clock_skew", ["clock_skew"], "ok"),
    "s3_request_time_too_skewed": (lambda: real("s3/request-time-too-skewed", request_time=stamp(0),
                                                server_time_iso=stamp(1200, "%Y-%m-%dT%H:%M:%SZ")),
                                   "s3", "clock_skew", ["clock_skew"], "ok"),
    "ec2_request_expired": (lambda: always(wire_answer("ec2/request-expired-short", date_offset=-2 * 86400)),
                            "ec2", "clock_skew", ["clock_skew"], "ok"),
}
# measured offsets (AWS minus local, seconds) the clock cases must report
SKEW = {"signature_expired_15_min": 600, "signature_not_yet_current_5_min": -1800, "s3_request_time_too_skewed": 1200}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_hostile_api_answer(case, node, servers, good_tls):
    make, services, api_outcome, codes, status = API_CASES[case]
    outcome, api, _ = run_api_case(node, servers, good_tls, make(), services, api_outcome, codes, status)
    if case in SKEW:
        assert abs(api["skew_seconds"] - SKEW[case]) <= 3, api
        finding = outcome.report["findings"][0]
        assert "%+.0f s" % api["skew_seconds"] in finding["message"]
    if case == "ec2_request_expired":
        assert api["skew_seconds"] < -86000  # from the Date header: EC2's message carries no time
    if api_outcome in ("server_error", "unparseable_response"):
        assert api["message"] and len(api["message"]) <= 400
