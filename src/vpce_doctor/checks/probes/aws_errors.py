"""What AWS answers look like, and what is not one: outcome words, error parsing per protocol
(JSON `__type`, XML `<Code>`, the registry's `errors[]`, `x-amzn-ErrorType`), IAM's endpoint-policy
phrase, throttling codes, and the clock offset a skew rejection carries. Pure functions of bytes
and headers; aws_call.py does the talking."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

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
