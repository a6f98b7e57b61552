"""AWS Signature Version 4 for the agent's own small requests, as botocore's SigV4Auth signs them.

Why not botocore's signer: importing botocore.auth pulls in urllib3, botocore.utils and
botocore.compat, ~90 ms of CPU on every run of a check that otherwise needs ~300. The agent
signs a handful of header-signed requests (query, JSON and REST-JSON protocols, never S3's
variant, never presigned URLs), and for those SigV4 is a few hashes. tests/unit/test_sigv4.py
holds every request the catalogue and the inventory build equal, header for header, to what
botocore's SigV4Auth.add_auth produces.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
# hop-by-hop and tracing headers a proxy may change: botocore's list, never signed
UNSIGNED_HEADERS = frozenset(("baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
                              "proxy-authorization", "te", "traceparent", "tracestate", "trailer",
                              "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"))
DEFAULT_PORTS = {"http": 80, "https": 443}


def sign(method: str, url: str, headers: Dict[str, str], body: bytes, *, credentials: Any, service: str,
         region: str, now: Optional[float] = None) -> Dict[str, str]:
    """headers plus X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization.
    credentials: anything with access_key, secret_key and token attributes."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    signed = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date",
                                                                     "x-amz-security-token")}
    signed["X-Amz-Date"] = stamp
    if credentials.token:
        signed["X-Amz-Security-Token"] = credentials.token
    parts = urlsplit(url)
    to_sign = _headers_to_sign(signed, parts)
    names = ";".join(name for name, _ in to_sign)
    canonical = "\n".join([
        method.upper(),
        quote(_remove_dot_segments(parts.path), safe="/~"),
        _canonical_query(parts.query),
        "".join("%s:%s\n" % (name, value) for name, value in to_sign),
        names,
        hashlib.sha256(body or b"").hexdigest(),
    ])
    scope = "/".join([stamp[:8], region, service, "aws4_request"])
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + credentials.secret_key).encode("utf-8")
    for part in (stamp[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["Authorization"] = "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, credentials.access_key, scope, names, signature)
    return signed


def _headers_to_sign(headers: Dict[str, str], parts) -> List[Tuple[str, str]]:
    """(lower-case name, value with whitespace runs folded) sorted by name; host from the URL
    when the request does not carry one, as botocore adds it."""
    values: Dict[str, List[str]] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower not in UNSIGNED_HEADERS:
            values.setdefault(lower, []).append(" ".join(str(value).split()))
    if "host" not in values:
        values["host"] = [_host(parts)]
    return [(name, ",".join(values[name])) for name in sorted(values)]


def _host(parts) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = "%s:%d" % (host, parts.port)
    return host


def _canonical_query(query: str) -> str:
    """The URL's query as it is written, pairs sorted (botocore does not re-encode them)."""
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join("%s=%s" % pair for pair in pairs)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 with empty segments dropped too (AWS wants no double slashes), as
    botocore.utils.normalize_url_path does it; an empty path is '/'."""
    if not path:
        return "/"
    output: List[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment and segment != ".":
            output.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and output else ""
    return first + "/".join(output) + last
