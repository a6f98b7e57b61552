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
# A path-only probe (the registry's /v2/, a service root, the layer bucket) got an HTTP answer after a
# verified TLS handshake: the name, the route and the endpoint work; the probe can prove no more.
REACHED = "reached"
# Denials, by the policy type AWS's message names (IAM's "... because no <type> allows ..." or
# "... with an explicit deny in a <type>"):
POLICY_DENIED = "policy_denied"  # a VPC endpoint policy
IAM_DENIED = "iam_denied"  # the node's own identity: identity-based policy, permissions boundary, session policy
ORG_DENIED = "org_denied"  # the organization: a service control policy (SCP) or resource control policy (RCP)
ACCESS_DENIED = "access_denied"  # denied, and the answer names no policy type (or a resource-based policy)
DENIALS = (POLICY_DENIED, IAM_DENIED, ORG_DENIED, ACCESS_DENIED)
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
# Rejections the AWS SDKs take for a skewed clock when the server's Date says so (EC2 answers a skewed
# signature with 401 AuthFailure "AWS was not able to validate the provided access credentials").
_SKEW_IF_DATE_OFF = {"AuthFailure", "InvalidSignatureException", "SignatureDoesNotMatch"}
# SigV4 allows 5 minutes (S3 15): auth rejected with the clocks this far apart is the clock's doing.
REJECTION_SKEW = 240.0
# botocore's standard retry mode (botocore/retries/standard.py, ThrottledRetryableChecker) plus the
# registry's TOOMANYREQUESTS (OCI distribution spec error codes).
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException", "TOOMANYREQUESTS"})
# The policy type in IAM's denial message (IAM User Guide, "Troubleshoot access denied error messages"):
# "... because no VPC endpoint policy allows the ec2:X action", "... with an explicit deny in a service control
# policy", newer answers with ": arn:..." of the policy appended, ECR's registry with its "denied: " prefix.
# The phrase, not the words anywhere: a page that merely mentions endpoint policies is not a denial.
_POLICY_TYPE = re.compile(r"(?:because no|with an explicit deny in an?) (VPC endpoint policy|identity-based policy|"
                          r"service control policy|resource control policy|permissions boundary|session policy|"
                          r"resource-based policy)\b", re.I)
_IDENTITY_SIDE = ("identity-based policy", "permissions boundary", "session policy")
_ORGANIZATION = ("service control policy", "resource control policy")
_SKEW_TEXT = re.compile(r"Signature expired|Signature not yet current|too skewed|RequestTimeTooSkewed", re.I)
# "Signature expired: 20151221T200419Z is now earlier than 20151221T201450Z (20151221T201950Z - 5 min.)"
# "Signature not yet current: 20151221T203000Z is still later than 20151221T202450Z (20151221T201950Z + 5 min.)"
_SIGV4_SKEW = re.compile(r"Signature (?:expired|not yet current): (\d{8}T\d{6}Z) is (?:now earlier|still later) than "
                         r"\d{8}T\d{6}Z \((\d{8}T\d{6}Z) [-+] (\d+) min\.?\)")
_S3_TIMES = re.compile(r"<RequestTime>\s*([^<]+?)\s*</RequestTime>.*?<ServerTime>\s*([^<]+?)\s*</ServerTime>", re.S)
MESSAGE_LIMIT = 400


def bare_code(code: Optional[str]) -> str:
    """An error code as botocore reduces it: "ns#Code" and "Code:http://internal..." are both "Code"."""
    return (code or "").split(":", 1)[0].rsplit("#", 1)[-1].strip()


def denial_policy(message: str) -> Optional[str]:
    """The policy type a denial message names ("VPC endpoint policy", "service control policy", ...), or None."""
    found = _POLICY_TYPE.search(message or "")
    return found.group(1).lower().replace("vpc", "VPC") if found else None


def classify(status: int, code: Optional[str], message: str, path_only: bool = False, aws_shaped: bool = True,
             date_skew: Optional[float] = None) -> str:
    """HTTP status + AWS error code + message -> outcome. Pure; the verdict table leans on it.

    path_only: the probe asks no API (the registry's /v2/, a service root, the layer bucket unsigned):
    any answer after the verified handshake proves the path, whatever its status or body, unless it is
    an endpoint policy's denial, which says more. aws_shaped: False when the body is not an AWS answer
    at all (an HTML page, binary, UTF-16 noise); such an answer never counts as success for an API call.
    date_skew: server minus local seconds from the answer's Date header."""
    code = bare_code(code)
    message = message or ""
    denied = aws_shaped and (status == 403 or code in _DENIED_CODES)
    policy = denial_policy(message) if denied else None
    if policy == "VPC endpoint policy":
        return POLICY_DENIED
    # A clock rejection is about this node whatever the call (S3's 403 RequestTimeTooSkewed; a presigned
    # URL's X-Amz-Date is checked like a signature's).
    if aws_shaped and status >= 400 and (code in _SKEW_CODES or _SKEW_TEXT.search(message)):
        return CLOCK_SKEW
    if path_only:
        return REACHED
    if status == 429 or code in THROTTLING_CODES:
        return THROTTLED
    if not aws_shaped:
        return UNPARSEABLE
    if status >= 500:
        return SERVER_ERROR
    if 200 <= status < 300 and not code:
        return SUCCESS
    if code in _SKEW_IF_DATE_OFF and date_skew is not None and abs(date_skew) >= REJECTION_SKEW:
        return CLOCK_SKEW
    if code in _DENIED_CODES:
        if policy in _IDENTITY_SIDE:
            return IAM_DENIED
        return ORG_DENIED if policy in _ORGANIZATION else ACCESS_DENIED
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


def parse_error(body: bytes, headers, protocol: Optional[str] = None) -> Tuple[Optional[str], str, bool]:
    """(code, message, aws_shaped) of an error answer, read as botocore's parser for `protocol` reads it
    (tests/wire holds the two equal on every answer in the wire corpus):
      json       `__type`, "ns#Code" reduced; `x-amzn-query-error: Code;Sender` (query-compatible APIs
                 such as SQS) names the query error code instead
      rest-json  `x-amzn-ErrorType` header first, then the body's `code`/`Code`, then `__type`
      ec2, query, rest-xml   XML `<Code>`/`<Message>` (EC2's Response/Errors/Error, query's ErrorResponse/Error,
                 S3's bare Error), entities decoded
      registry   the Docker registry's `{"errors":[{"code","message"}]}`
    With no protocol (a path-only probe, an unknown front end) whichever of these the body is.
    The code is bare ("ThrottlingException"); the message is whole (from the first 8 KiB of the
    body): callers mask and cut it."""
    text = decode_body(body, headers)
    header_code = _header(headers, "x-amzn-errortype")
    code: Optional[str] = None
    message = ""
    aws_shaped = looks_like_aws(text, headers)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
            aws_shaped = bool(header_code)
        if isinstance(data, dict):
            errors = data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                data = errors[0]  # the registry's {"errors":[{"code":"DENIED","message":"denied: ..."}]}
            if protocol == "rest-json":
                code = header_code or _text_field(data, "code", "Code", "__type")
            else:
                code = _text_field(data, "__type", "code", "Code") or header_code
            message = _text_field(data, "message", "Message") or ""
            query_error = _header(headers, "x-amzn-query-error")
            if code and query_error and protocol in (None, "json"):
                parts = query_error.split(";")
                if len(parts) == 2 and parts[0]:
                    code = parts[0]
    elif aws_shaped and stripped.startswith("<"):
        # Code and Message of the <Error> element (EC2's Response/Errors/Error, query's ErrorResponse/Error,
        # S3's bare Error); a bare <UnknownOperationException/> root has neither, for botocore too
        error = _XML_ERROR.search(text)
        found = _XML_CODE.search(error.group(1)) if error else None
        code = _xml_text(found.group(1)) if found else None
        found = _XML_MESSAGE.search(error.group(1)) if error else None
        message = _xml_text(found.group(1)) if found else ""
        aws_shaped = bool(code) or not stripped[1:2].isalpha() or stripped.startswith(("<?xml", "<Error", "<Response"))
    code = code or header_code
    return (bare_code(code) or None) if code else None, message, aws_shaped


def _header(headers, name: str) -> Optional[str]:
    value = headers.get(name)
    return value if isinstance(value, str) and value else None


_XML_ERROR = re.compile(r"<Error(?:\s[^>]*)?>(.*?)</Error>", re.S)
_XML_CODE = re.compile(r"<Code>(.*?)</Code>", re.S)
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.S)
_XML_ENTITY = re.compile(r"&(lt|gt|quot|apos|amp|#x[0-9a-fA-F]+|#[0-9]+);")
_XML_NAMED = {"lt": "<", "gt": ">", "quot": '"', "apos": "'", "amp": "&"}


def _xml_text(raw: str) -> str:
    """An element's text with XML's entities decoded, as an XML parser would (xml.sax.saxutils would
    import urllib.request onto the check path)."""
    def one(found) -> str:
        name = found.group(1)
        if name[0] != "#":
            return _XML_NAMED[name]
        number = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(number) if 0 < number < 0x110000 else found.group(0)
    return _XML_ENTITY.sub(one, raw.strip())


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
