"""One cheap read-only call to a service, sent to a chosen address with the right SNI.

Signing is botocore's SigV4; the wire is probes/https.py pinned to the address the node's DNS
gave, because the agent tests the endpoint path and must not resolve names through
the system resolver or go through HTTPS_PROXY. Responses are reduced to status,
error code and message at once: a token or body never outlives this function.
"""
from __future__ import annotations

import email.utils
import json
import re
import time
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
UNEXPECTED = "unexpected_response"
SKIPPED = "skipped"
ERROR = "error"

_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden",
                 "UnauthorizedException", "AuthorizationError"}
_CREDENTIAL_CODES = {"InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "ExpiredToken",
                     "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken", "MissingAuthenticationToken",
                     "IncompleteSignature"}
_SKEW_CODES = {"RequestTimeTooSkewed", "RequestExpired"}
_POLICY_TEXT = re.compile(r"VPC endpoint policy", re.I)
_SKEW_TEXT = re.compile(r"Signature expired|Signature not yet current|too skewed", re.I)


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


def classify(status: int, code: Optional[str], message: str, expect_status: Any) -> str:
    """HTTP status + AWS error code + message -> outcome. Pure; the verdict table leans on it."""
    code = (code or "").split("#")[-1].split(":")[0]
    # An endpoint policy denial outranks "any answer proves the path" expectations.
    if status == 403 and _POLICY_TEXT.search(message or ""):
        return POLICY_DENIED
    if 200 <= status < 300 and not code:
        return SUCCESS
    if expect_status == "any" or (isinstance(expect_status, list) and status in expect_status):
        return SUCCESS
    if code in _SKEW_CODES or _SKEW_TEXT.search(message or ""):
        return CLOCK_SKEW
    if code in _DENIED_CODES:
        return POLICY_DENIED if _POLICY_TEXT.search(message or "") else IAM_DENIED
    if code in _CREDENTIAL_CODES:
        return INVALID_CREDENTIALS
    return UNEXPECTED


def error_fields(body: bytes, headers) -> Tuple[Optional[str], str]:
    text = body[:8192].decode("utf-8", "replace")
    code = headers.get("x-amzn-errortype")
    message = ""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            code = code or data.get("__type") or data.get("code") or data.get("Code")
            message = data.get("message") or data.get("Message") or ""
        except ValueError:
            pass
    else:
        found = re.search(r"<Code>(.*?)</Code>", text, re.S)
        code = code or (found.group(1).strip() if found else None)
        found = re.search(r"<Message>(.*?)</Message>", text, re.S)
        message = found.group(1).strip() if found else ""
    return code, message[:400]


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
) -> ApiResult:
    """The service's catalogue probe, reduced to an outcome. The body (an ECR token on
    success) is dropped here; only the verdict inputs stay."""
    started = time.monotonic()
    base = dict(operation=probe["operation"], address=format_addr(address, port), hostname=hostname)

    def result(**kw) -> ApiResult:
        return ApiResult(ms=(time.monotonic() - started) * 1000.0, **base, **kw)

    method, path, headers, body = build_request(probe, region)
    try:
        answer = exchange(method, path, headers, body,
                          signing_name=probe.get("signing_name") if probe["kind"] == "aws" else None,
                          hostname=hostname, address=address, port=port, region=region, credentials=credentials,
                          ssl_context=ssl_context, timeout=timeout, guard=guard, clock=clock)
    except ExchangeFailed as exc:
        return result(outcome=exc.outcome, phase=exc.phase, message=exc.message)
    server_date, skew = clock_skew(answer)
    code, message = (None, "")
    if answer.status >= 300:
        code, message = error_fields(answer.body, answer.headers)
    outcome = classify(answer.status, code, message, probe.get("expect_status"))
    return result(outcome=outcome, http_status=answer.status, error_code=code, message=message or None,
                  server_date=server_date, skew_seconds=skew)
