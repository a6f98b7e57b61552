"""One cheap read-only call to a service, sent to a chosen address with the right SNI.

Signing is SigV4 as botocore's SigV4Auth does it (probes/sigv4.py; a test holds the two equal);
the wire is probes/https.py pinned to the address the node's DNS gave, because the agent tests
the endpoint path and must not resolve names through the system resolver or go through HTTPS_PROXY. Responses are reduced to status,
error code and message at once: a token or body never outlives this function.
"""
from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlencode

from ...core.addresses import NetworkGuard, NetworkNotAllowed, format_addr
from ..catalogue import READ_ONLY_OPERATION
from . import https, sigv4
from .aws_errors import (  # noqa: F401 - the outcome words are part of this module's interface
    ACCESS_DENIED, CLOCK_SKEW, CONNECT_ERROR, DENIALS, ERROR, IAM_DENIED, INCONCLUSIVE, INVALID_CREDENTIALS,
    MESSAGE_LIMIT, NO_CREDENTIALS, ORG_DENIED, POLICY_DENIED, REACHED, SERVER_ERROR, SKIPPED, SUCCESS, THROTTLED,
    THROTTLING_CODES, TIMEOUT, TLS_ERROR, UNEXPECTED, UNPARSEABLE, classify, decode_body, denial_policy,
    looks_like_aws, parse_error, skew_from_error,
)


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
    # for denials: the policy type AWS's message names ("VPC endpoint policy", "service control policy",
    # "identity-based policy", ...), None when it names none
    denied_by: Optional[str] = None


def error_fields(body: bytes, headers, credentials: Any = None,
                 protocol: Optional[str] = None) -> Tuple[Optional[str], str]:
    """(code, message) with this run's own secrets masked, then cut (mask first: a cut inside an
    echoed token leaves a piece nothing recognises). The code may come from a header
    (x-amzn-ErrorType, x-amzn-query-error): it is the server's string like any other."""
    code, message, _ = parse_error(body, headers, protocol)
    return _masked_code(code, credentials), _mask_known(message, credentials)[:MESSAGE_LIMIT]


def _masked_code(code: Optional[str], credentials: Any) -> Optional[str]:
    return _mask_known(code, credentials)[:128] if code else None


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
        headers = sigv4.sign(method, "https://%s%s" % (netloc, path), headers, body, credentials=credentials,
                             service=signing_name, region=region)
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
    path_only = probe["kind"] == "http"
    protocol = probe.get("protocol")
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
            code, message, aws_shaped = parse_error(answer.body, answer.headers, protocol)
        elif not path_only:
            aws_shaped = looks_like_aws(decode_body(answer.body, answer.headers), answer.headers)
        # Everything the server sent is its own string: this run's secrets out of each before it is kept.
        message, code = _mask_known(message, credentials), _masked_code(code, credentials)
        server_date = _mask_known(server_date, credentials)[:64] if server_date else None
        outcome = classify(answer.status, code, message, path_only, aws_shaped, skew)
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
        if outcome == REACHED:
            message = "HTTP %d%s: the name, the route and the endpoint answer (this probe can prove no more)" % (
                answer.status, " %s" % code if code else "")
        elif outcome in (UNPARSEABLE, SERVER_ERROR) and not message:
            message = _describe(answer, credentials)
        if outcome == THROTTLED:
            message = "throttled %s (%s); %s" % ("twice" if attempts > 1 else "once, no time left to retry",
                                                 code or "HTTP %d" % answer.status, message)
        return result(outcome=outcome, http_status=answer.status, error_code=code,
                      message=message[:MESSAGE_LIMIT] or None, server_date=server_date, skew_seconds=skew,
                      denied_by=denial_policy(message) if outcome in DENIALS else None)


def _describe(answer: Exchange, credentials: Any = None) -> str:
    """What an answer that is not AWS's looked like, in words (never its bytes)."""
    content_type = _mask_known(answer.headers.get("content-type") or "no Content-Type", credentials)
    text = decode_body(answer.body, answer.headers).lstrip().lower()
    kind = ("an HTML page (a captive portal or a proxy?)" if not looks_like_aws(text, answer.headers) and "<" in text[:512]
            else "an empty body" if not text else "a body that is not AWS's JSON or XML")
    return "HTTP %d with %s (%s, %d bytes)" % (answer.status, kind, content_type[:60], len(answer.body))
