"""One cheap read-only call to a service, sent to a chosen address with the right SNI.

Signing is botocore's SigV4; the wire is probes/https.py pinned to the address the node's DNS
gave, because the agent tests the endpoint path and must not resolve names through
the system resolver or go through HTTPS_PROXY. Responses are reduced to status,
error code and message at once: a token or body never outlives this function.
"""
from __future__ import annotations

import email.utils
import json
import random
import re
import time
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlencode

from ...core.addresses import NetworkGuard, NetworkNotAllowed, format_addr
from ..catalogue import READ_ONLY_OPERATION
from . import https

SUCCESS = "success"
IAM_DENIED = "iam_denied"
POLICY_DENIED = "policy_denied"
CLOCK_SKEW = "clock_skew"
NO_CREDENTIALS = "no_credentials"
INVALID_CREDENTIALS = "invalid_credentials"
TIMEOUT = "timeout"
CONNECT_ERROR = "connect_error"
TLS_ERROR = "tls_error"
UNEXPECTED = "unexpected_response"  # an AWS-shaped error this tool does not know how to judge
SERVER_ERROR = "server_error"  # HTTP 5xx: whatever answered could not serve the call
THROTTLED = "throttled"  # still throttled after one retry
UNPARSEABLE = "unparseable_response"  # not an AWS answer: HTML (a captive portal, a proxy), binary, empty
SKIPPED = "skipped"
ERROR = "error"
# Outcomes that prove nothing about the service: with no finding that explains them (a blocked port,
# a failed handshake, a name outside the VPC), the service is "unknown" with the reason, never "ok".
INCONCLUSIVE = (UNEXPECTED, SERVER_ERROR, THROTTLED, UNPARSEABLE, TIMEOUT, CONNECT_ERROR, TLS_ERROR)

_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden",
                 "UnauthorizedException", "AuthorizationError", "DENIED"}
_CREDENTIAL_CODES = {"InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "ExpiredToken",
                     "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken", "MissingAuthenticationToken",
                     "IncompleteSignature"}
_SKEW_CODES = {"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"}
_THROTTLING_CODES = {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                     "RequestThrottledException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown",
                     "TOOMANYREQUESTS"}
# What IAM writes when an endpoint policy is the reason: "... because no VPC endpoint policy allows the
# ec2:X action" or "... with an explicit deny in a VPC endpoint policy", newer answers with ": arn:..." of
# the endpoint appended, ECR's registry with its "denied: " prefix. The phrase, not the words anywhere:
# a page that merely mentions endpoint policies is not a denial.
_POLICY_TEXT = re.compile(r"(?:because no|explicit deny in an?) VPC endpoint policy\b", re.I)
_SKEW_TEXT = re.compile(r"Signature expired|Signature not yet current|too skewed|RequestTimeTooSkewed", re.I)
# "Signature expired: 20151221T200419Z is now earlier than 20151221T201450Z (20151221T201950Z - 5 min.)"
# "Signature not yet current: 20151221T203000Z is still later than 20151221T202450Z (20151221T201950Z + 5 min.)"
_SIGV4_SKEW = re.compile(r"Signature (?:expired|not yet current): (\d{8}T\d{6}Z) is (?:now earlier|still later) than "
                         r"\d{8}T\d{6}Z \((\d{8}T\d{6}Z) [-+] (\d+) min\.?\)")
_S3_TIMES = re.compile(r"<RequestTime>\s*([^<]+?)\s*</RequestTime>.*?<ServerTime>\s*([^<]+?)\s*</ServerTime>", re.S)
MESSAGE_LIMIT = 400


@dataclass(frozen=True)
class ApiResult:
    operation: str
    outcome: str
    address: Optional[str] = None
    hostname: Optional[str] = None
    phase: Optional[str] = None  # for timeouts and connection errors: connect | tls | write | read
    http_status: Optional[int] = None
    error_code: Optional[str] = None
    message: Optional[str] = None
    server_date: Optional[str] = None
    skew_seconds: Optional[float] = None
    ms: float = 0.0
    attempts: int = 1


def _bare_code(code: Optional[str]) -> str:
    return (code or "").split("#")[-1].split(":")[0].strip()


def classify(status: int, code: Optional[str], message: str, expect_status: Any, aws_shaped: bool = True) -> str:
    """HTTP status + AWS error code + message -> outcome. Pure; the verdict table leans on it.

    aws_shaped: False when the body is not an AWS answer at all (an HTML page, binary, UTF-16 noise);
    such an answer never counts as success, whatever status it came with."""
    code = _bare_code(code)
    message = message or ""
    if status == 429 or code in _THROTTLING_CODES:
        return THROTTLED
    # An endpoint policy denial outranks "any answer proves the path" expectations.
    if aws_shaped and (status == 403 or code in _DENIED_CODES) and _POLICY_TEXT.search(message):
        return POLICY_DENIED
    if not aws_shaped:
        return UNPARSEABLE
    if status >= 500:
        return SERVER_ERROR
    if 200 <= status < 300 and not code:
        return SUCCESS
    # A clock rejection is about this node whatever the probe expected (S3's 403 RequestTimeTooSkewed).
    if status >= 400 and (code in _SKEW_CODES or _SKEW_TEXT.search(message)):
        return CLOCK_SKEW
    if expect_status == "any" or (isinstance(expect_status, list) and status in expect_status):
        return SUCCESS
    if code in _DENIED_CODES:
        return IAM_DENIED
    if code in _CREDENTIAL_CODES:
        return INVALID_CREDENTIALS
    if not code:
        return UNPARSEABLE  # an error status with nothing an AWS service would have said
    return UNEXPECTED


def decode_body(body: bytes, headers) -> str:
    """Text of an answer: UTF-8, or UTF-16 when a BOM or the Content-Type says so (a proxy's page
    may be either); undecodable bytes replaced."""
    head = body[:8192]
    content_type = (headers.get("content-type") or "").lower()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or "utf-16" in content_type:
        return head.decode("utf-16", "replace").lstrip("\ufeff")
    return head.decode("utf-8", "replace").lstrip("\ufeff")


def looks_like_aws(text: str, headers) -> bool:
    """Whether an answer is shaped like something an AWS service sends: empty, JSON, or XML that is
    not an HTML page. A captive portal's or proxy's HTML page, binary or mojibake is not."""
    # The body decides, not the Content-Type: some services (and moto) label JSON as text/html.
    stripped = text.lstrip()
    if not stripped:
        return True
    lowered = stripped[:512].lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<body" in lowered or "<head" in lowered:
        return False
    return stripped.startswith(("{", "[", "<"))


def error_fields(body: bytes, headers, credentials: Any = None) -> Tuple[Optional[str], str]:
    """(code, message) with this run's own secrets masked, then cut to MESSAGE_LIMIT characters
    (mask first: a cut inside an echoed token leaves a piece nothing recognises)."""
    code, message, _ = parse_error(body, headers)
    return code, _mask_known(message, credentials)[:MESSAGE_LIMIT]


def parse_error(body: bytes, headers) -> Tuple[Optional[str], str, bool]:
    """(code, message, aws_shaped) of an error answer: JSON (`__type`/`code`/`message`, the registry's
    `errors[0]`), XML (`<Code>`/`<Message>`) or `x-amzn-ErrorType`. The message is whole (from
    the first 8 KiB of the body); callers mask and cut it."""
    text = decode_body(body, headers)
    header_code = headers.get("x-amzn-errortype")
    code: Optional[str] = header_code if isinstance(header_code, str) else None
    message = ""
    aws_shaped = looks_like_aws(text, headers)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
            aws_shaped = bool(code)
        if isinstance(data, dict):
            errors = data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                data = errors[0]  # the registry's {"errors":[{"code":"DENIED","message":"denied: ..."}]}
            code = code or _text_field(data, "__type", "code", "Code")
            message = _text_field(data, "message", "Message") or ""
    elif aws_shaped and stripped.startswith("<"):
        found = re.search(r"<Code>(.*?)</Code>", text, re.S)
        code = code or (found.group(1).strip() if found else None)
        found = re.search(r"<Message>(.*?)</Message>", text, re.S)
        message = found.group(1).strip() if found else ""
        aws_shaped = bool(code) or not stripped[1:2].isalpha() or stripped.startswith(("<?xml", "<Error", "<Response"))
    return code, message, aws_shaped


def _text_field(data: Dict[str, Any], *names: str) -> Optional[str]:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _stamp(text: str) -> Optional[float]:
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def skew_from_error(body: bytes, headers, message: str) -> Optional[float]:
    """Server minus local clock, read from a clock-skew rejection itself, per protocol:
    S3's RequestTimeTooSkewed carries <RequestTime> and <ServerTime>; SigV4 services say
    "Signature expired: REQ is now earlier than ... (NOW - 5 min.)" (15 min. for some), or
    "Signature not yet current: REQ is still later than ... (NOW + 5 min.)". EC2's
    RequestExpired carries neither: the Date header is all there is (see clock_skew)."""
    found = _SIGV4_SKEW.search(message or "")
    if found:
        sent, now = _stamp(found.group(1)), _stamp(found.group(2))
        if sent is not None and now is not None:
            return round(now - sent, 1)
    found = _S3_TIMES.search(decode_body(body, headers))
    if found:
        sent, now = _stamp(found.group(1)), _stamp(found.group(2))
        if sent is not None and now is not None:
            return round(now - sent, 1)
    return None


def build_request(probe: Dict[str, Any], region: str) -> Tuple[str, str, Dict[str, str], bytes]:
    """(method, path, headers, body) for a catalogue probe; refuses anything not read-only."""
    operation = probe["operation"]
    if not READ_ONLY_OPERATION.match(operation):
        raise ValueError("refusing non read-only operation %s" % operation)
    kind = probe["kind"]
    if kind == "http":
        return probe["method"], probe["path"], {}, b""
    protocol = probe["protocol"]
    if protocol in ("query", "ec2"):
        params = {"Action": operation, "Version": probe["version"]}
        params.update(probe.get("params", {}))
        return ("POST", "/", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                urlencode(params).encode())
    if protocol == "json":
        headers = {"Content-Type": "application/x-amz-json-%s" % probe["json_version"],
                   "X-Amz-Target": "%s.%s" % (probe["target"], operation)}
        return "POST", "/", headers, json.dumps(probe.get("body", {})).encode()
    if protocol == "rest-json":
        body = json.dumps(probe["body"]).encode() if "body" in probe else b""
        headers = {"Content-Type": "application/json"} if body else {}
        return probe["method"], probe["path"], headers, body
    raise ValueError("unknown probe protocol %r" % protocol)


@dataclass(frozen=True)
class Exchange:
    status: int
    headers: Any
    body: bytes
    received: float  # local clock when the answer came


class ExchangeFailed(Exception):
    def __init__(self, outcome: str, phase: Optional[str], message: str):
        super().__init__(message)
        self.outcome, self.phase, self.message = outcome, phase, message


def exchange(
    method: str,
    path: str,
    headers: Dict[str, str],
    body: bytes,
    *,
    signing_name: Optional[str],
    hostname: str,
    address: str,
    port: int,
    region: str,
    credentials: Any,
    ssl_context: Any,
    timeout: float,
    guard: NetworkGuard,
    clock: Callable[[], float],
    session: Optional[https.PinnedSession] = None,
) -> Exchange:
    """One HTTPS request to `address` as if to `hostname`, SigV4-signed when signing_name is set;
    over `session`'s kept-alive connection when one is given."""
    try:
        guard.check(address)
    except NetworkNotAllowed as exc:
        raise ExchangeFailed(ERROR, None, str(exc)) from None
    netloc = hostname if port == 443 else "%s:%d" % (hostname, port)
    headers = dict(headers)
    if signing_name:
        if credentials is None:
            raise ExchangeFailed(NO_CREDENTIALS, None, "no AWS credentials to sign with")
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url="https://%s%s" % (netloc, path), data=body, headers=headers)
        SigV4Auth(credentials, signing_name, region).add_auth(request)
        headers = dict(request.headers.items())
    headers["Host"] = netloc
    try:
        if session is not None:
            status, answer_headers, answer_body = session.request(method, path, headers, body)
        else:
            status, answer_headers, answer_body = https.request(address, port, hostname, ssl_context, timeout,
                                                                 method, path, headers, body)
    except https.HttpsFailed as exc:
        outcome = {"timeout": TIMEOUT, "certificate": TLS_ERROR, "tls": TLS_ERROR}.get(exc.kind, CONNECT_ERROR)
        raise ExchangeFailed(outcome, exc.phase, exc.message) from None
    return Exchange(status=status, headers=answer_headers, body=answer_body, received=clock())


def clock_skew(exchange_: Exchange) -> Tuple[Optional[str], Optional[float]]:
    """(Date header, server minus local seconds); the header has one-second resolution."""
    date_header = exchange_.headers.get("date")
    if not date_header:
        return None, None
    try:
        server_time = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return None, None
    return date_header, round(server_time - exchange_.received, 1)


def _mask_known(text: str, credentials: Any) -> str:
    """This run's own secrets out of a server's message before it is cut to size: a cut that falls
    inside an echoed session token would leave a piece the redactor can no longer recognise."""
    for name in ("token", "secret_key", "access_key"):
        value = getattr(credentials, name, None) if credentials is not None else None
        if isinstance(value, str) and len(value) >= 8:
            text = text.replace(value, "***")
    return text


def _retry_after(headers) -> float:
    try:
        return max(0.0, float(headers.get("retry-after") or 0))
    except (TypeError, ValueError):
        return 0.0


THROTTLE_BACKOFF = (0.2, 1.0)  # seconds: jittered first wait, and the most a Retry-After is honoured


def call(
    probe: Dict[str, Any],
    hostname: str,
    address: str,
    port: int,
    region: str,
    credentials: Any,
    ssl_context: Any,
    timeout: float,
    guard: NetworkGuard,
    clock: Callable[[], float],
    deadline: Optional[float] = None,
) -> ApiResult:
    """The service's catalogue probe, reduced to an outcome. The body (an ECR token on
    success) is dropped here; only the verdict inputs stay.

    A throttled answer is retried once, after a jittered backoff (Retry-After honoured up to 1 s),
    when the run deadline (time.monotonic() value) leaves room for it; still throttled, the outcome
    is `throttled` and the service is unknown, never ok."""
    started = time.monotonic()
    base = dict(operation=probe["operation"], address=format_addr(address, port), hostname=hostname)
    attempts = 0

    def result(**kw) -> ApiResult:
        return ApiResult(ms=(time.monotonic() - started) * 1000.0, attempts=attempts, **base, **kw)

    method, path, headers, body = build_request(probe, region)
    while True:
        attempts += 1
        try:
            answer = exchange(method, path, headers, body,
                              signing_name=probe.get("signing_name") if probe["kind"] == "aws" else None,
                              hostname=hostname, address=address, port=port, region=region, credentials=credentials,
                              ssl_context=ssl_context, timeout=timeout, guard=guard, clock=clock)
        except ExchangeFailed as exc:
            return result(outcome=exc.outcome, phase=exc.phase, message=exc.message[:MESSAGE_LIMIT])
        server_date, skew = clock_skew(answer)
        code, message, aws_shaped = (None, "", True)
        if answer.status >= 300:
            code, message, aws_shaped = parse_error(answer.body, answer.headers)
        elif probe["kind"] == "aws":
            aws_shaped = looks_like_aws(decode_body(answer.body, answer.headers), answer.headers)
        message = _mask_known(message, credentials)
        outcome = classify(answer.status, code, message, probe.get("expect_status"), aws_shaped)
        if outcome == THROTTLED and attempts == 1 and deadline is not None:
            wait = min(THROTTLE_BACKOFF[1], max(_retry_after(answer.headers), THROTTLE_BACKOFF[0] * (1 + random.random())))
            left = deadline - time.monotonic() - wait
            if left > 0.1:
                time.sleep(wait)
                timeout = min(timeout, left)
                continue
        if outcome == CLOCK_SKEW:
            measured = skew_from_error(answer.body, answer.headers, message)
            skew = measured if measured is not None else skew
        if outcome in (UNPARSEABLE, SERVER_ERROR) and not message:
            message = _describe(answer)
        if outcome == THROTTLED:
            message = "throttled %s (%s); %s" % ("twice" if attempts > 1 else "once, no time left to retry",
                                                 code or "HTTP %d" % answer.status, message)
        return result(outcome=outcome, http_status=answer.status, error_code=code[:128] if code else None,
                      message=message[:MESSAGE_LIMIT] or None, server_date=server_date, skew_seconds=skew)


def _describe(answer: Exchange) -> str:
    """What an answer that is not AWS's looked like, in words (never its bytes)."""
    content_type = answer.headers.get("content-type") or "no Content-Type"
    text = decode_body(answer.body, answer.headers).lstrip().lower()
    kind = ("an HTML page (a captive portal or a proxy?)" if not looks_like_aws(text, answer.headers) and "<" in text[:512]
            else "an empty body" if not text else "a body that is not AWS's JSON or XML")
    return "HTTP %d with %s (%s, %d bytes)" % (answer.status, kind, content_type[:60], len(answer.body))
