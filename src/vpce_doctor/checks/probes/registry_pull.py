"""One image pull, end to end, the way containerd does it through the endpoints, stopped after
one byte of one layer: GetAuthorizationToken (ecr.api) -> the manifest (ecr.dkr) -> for an index,
this node's platform's manifest -> the smallest layer's blob (ecr.dkr answers with a redirect to a
presigned URL) -> `Range: bytes=0-0` of that URL on AWS's layer bucket (S3, through the gateway).

Why all of it: the layer bucket answers an unsigned request with S3's bare AccessDenied whether or
not the gateway endpoint's policy allows AWS's bucket; only a presigned request from the registry
tells a working pull from a denied one.

What never leaves this module: the authorization token (a password for every repository the node
role can read) and the presigned URL's query string (a credential for the layer). Both are masked
out of every server string kept as evidence; the steps name hosts and paths, never a query.
Nothing is written to disk; a body is read only up to https.MAX_BODY (manifests are a few KiB).
"""
from __future__ import annotations

import base64
import json
import platform
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

from ...core.addresses import NetworkGuard, format_addr
from . import aws_call, https
from .aws_errors import (ACCESS_DENIED, DENIALS, ERROR, MESSAGE_LIMIT, SKIPPED, SUCCESS, TIMEOUT, UNEXPECTED, classify,
                         denial_policy, parse_error)

TOKEN, MANIFEST, PLATFORM_MANIFEST, BLOB, LAYER = "token", "manifest", "platform_manifest", "blob", "layer"
STEP_SERVICE = {TOKEN: "ecr.api", MANIFEST: "ecr.dkr", PLATFORM_MANIFEST: "ecr.dkr", BLOB: "ecr.dkr", LAYER: "s3"}
OK, FAILED = "ok", "failed"
NOT_FOUND = "not_found"  # the registry's 404 (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN)

# What containerd asks the registry for (containerd images/mediatypes.go, the OCI image spec's
# media types); "*/*" last as containerd's resolver does.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX, "*/*"))
INDEXES = (DOCKER_LIST, OCI_INDEX)
REDIRECTS = (301, 302, 303, 307, 308)
ECR_TOKEN_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag][@sha256:...]
_REFERENCE = re.compile(
    r"^(?P<host>(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?)"
    r"/(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImageRef:
    image: str
    registry: str
    account: str
    region: str
    repository: str
    reference: str  # the digest when given, else the tag (default "latest", as containerd)


def parse_reference(image: str) -> Optional[ImageRef]:
    """A private ECR image reference, or None (public registries, ECR Public, a malformed name)."""
    found = _REFERENCE.match((image or "").strip())
    if not found:
        return None
    reference = found.group("digest") or found.group("tag") or "latest"
    return ImageRef(image=image.strip(), registry=found.group("host"), account=found.group("account"),
                    region=found.group("region"), repository=found.group("repository"), reference=reference)


@dataclass(frozen=True)
class PullStep:
    step: str  # token | manifest | platform_manifest | blob | layer
    service: str  # the catalogue service whose endpoint carries it
    outcome: str  # success, or aws_call's outcome words (timeout, policy_denied, access_denied...), not_found
    host: str
    address: Optional[str] = None
    scope: Optional[str] = None  # vpc | remote | public: where the node's resolver sent the name
    http_status: Optional[int] = None
    error_code: Optional[str] = None
    message: Optional[str] = None
    denied_by: Optional[str] = None  # the policy type the denial names, if any
    path: Optional[str] = None  # what was asked, never with a query string
    ms: float = 0.0


@dataclass(frozen=True)
class PullResult:
    image: str
    source: str  # --image, or where the node refers to it (running container, sandbox image...)
    outcome: str  # ok | failed | skipped | error
    steps: Tuple[PullStep, ...] = ()
    message: Optional[str] = None
    ms: float = 0.0

    @property
    def failed_step(self) -> Optional[PullStep]:
        return self.steps[-1] if self.outcome == FAILED and self.steps else None


@dataclass
class PullContext:
    """What a pull is handed: the name resolution the other probes use, the TLS context, the
    credentials and clock, and the run's deadline (time.monotonic() value)."""
    region: str
    dns_suffix: str
    port: int
    credentials: Any
    ssl_context: Any
    timeout: float
    guard: NetworkGuard
    clock: Callable[[], float]
    deadline: float
    resolve: Callable[[str], List[Tuple[str, Optional[str]]]]  # hostname -> [(address, scope)]
    layer_hosts: Tuple[str, ...] = ()  # the only hosts a blob redirect is followed to
    machine: str = field(default_factory=platform.machine)
    # (host, address) -> a kept-alive connection: the registry's three requests share one handshake
    sessions: Dict[Tuple[str, str], Any] = field(default_factory=dict)


class _Failed(Exception):
    def __init__(self, step: PullStep):
        super().__init__(step.outcome)
        self.step = step


class _Secrets:
    """The values no evidence may hold: the node's credentials, the token, the presigned query."""

    def __init__(self, credentials: Any):
        self.credentials = credentials
        self.values: List[str] = []

    def add(self, value: Optional[str]) -> None:
        if value and len(value) >= 8:
            self.values.append(value)

    def mask(self, text: Optional[str]) -> str:
        text = aws_call._mask_known(text or "", self.credentials)
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


def _architecture(machine: str) -> str:
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine.lower(), machine)


def pull(ref: ImageRef, source: str, pc: PullContext) -> PullResult:
    """The pull, reduced to its steps. Never raises for what a server or the network does."""
    started = time.monotonic()
    steps: List[PullStep] = []
    secrets = _Secrets(pc.credentials)
    pc = replace(pc, sessions={})  # this pull's own connections (pulls run side by side)
    try:
        return _pull(ref, source, pc, steps, secrets, started)
    finally:
        for session in pc.sessions.values():
            session.close()
        pc.sessions.clear()


def _pull(ref: ImageRef, source: str, pc: PullContext, steps: List[PullStep], secrets: "_Secrets",
          started: float) -> PullResult:
    try:
        authorization = _token(pc, steps, secrets)
        path = "/v2/%s/manifests/%s" % (ref.repository, quote(ref.reference, safe=":"))
        manifest = _manifest(pc, ref, MANIFEST, path, authorization, steps, secrets)
        if manifest.get("_media_type") in INDEXES or "manifests" in manifest:
            digest = _platform_digest(manifest, _architecture(pc.machine))
            if digest is None:
                return _unusable(ref, source, steps, started, "the index has no manifest for linux/%s"
                                 % _architecture(pc.machine))
            manifest = _manifest(pc, ref, PLATFORM_MANIFEST, "/v2/%s/manifests/%s" % (ref.repository, digest),
                                 authorization, steps, secrets)
        layer = _smallest_layer(manifest)
        if layer is None:
            return _unusable(ref, source, steps, started, "the manifest lists no layer")
        location = _blob(pc, ref, layer, authorization, steps, secrets)
        del authorization  # the token's last use: gone before the layer bucket is asked
        if location is not None:
            _layer(pc, location, steps, secrets)
    except _Failed:
        # no credentials to ask for a token: nothing was tried (no_credentials says why)
        skipped = steps[-1].outcome == SKIPPED
        return _result(ref, source, SKIPPED if skipped else FAILED, steps, started, steps[-1].message if skipped else None)
    return _result(ref, source, OK, steps, started, None)


def _unusable(ref, source, steps, started, why: str) -> PullResult:
    """A manifest that answered but cannot be pulled from: its step is where the pull failed."""
    steps[-1] = replace(steps[-1], outcome=UNEXPECTED, message=why)
    return _result(ref, source, FAILED, steps, started, why)


def _result(ref, source, outcome, steps, started, message) -> PullResult:
    return PullResult(image=ref.image, source=source, outcome=outcome, steps=tuple(steps), message=message,
                      ms=round((time.monotonic() - started) * 1000.0, 1))


def _address(pc: PullContext, step: str, host: str, steps: List[PullStep]) -> Tuple[str, Optional[str]]:
    found = pc.resolve(host)
    if not found:
        steps.append(PullStep(step, STEP_SERVICE[step], ERROR, host, message="%s does not resolve from the node" % host))
        raise _Failed(steps[-1])
    return found[0]


def _timeout(pc: PullContext, step: str, host: str, steps: List[PullStep]) -> float:
    left = pc.deadline - time.monotonic()
    if left < 0.05:
        steps.append(PullStep(step, STEP_SERVICE[step], TIMEOUT, host, message="no time left in the run for this step"))
        raise _Failed(steps[-1])
    return min(pc.timeout, left)


def _send(pc: PullContext, step: str, host: str, method: str, path: str, headers: Dict[str, str], body: bytes,
          steps: List[PullStep], secrets: _Secrets, signing_name: Optional[str] = None,
          shown_path: Optional[str] = None) -> Tuple[aws_call.Exchange, PullStep]:
    address, scope = _address(pc, step, host, steps)
    timeout = _timeout(pc, step, host, steps)
    started = time.monotonic()
    base = dict(step=step, service=STEP_SERVICE[step], host=host, address=format_addr(address, pc.port), scope=scope,
                path=shown_path if shown_path is not None else path)
    session = pc.sessions.get((host, address))
    if session is None:  # exchange() checks the address against the guard before any use
        session = pc.sessions[(host, address)] = https.PinnedSession(address, pc.port, host, pc.ssl_context, timeout)
    _bound(session, timeout)
    try:
        answer = aws_call.exchange(method, path, headers, body, signing_name=signing_name, hostname=host,
                                   address=address, port=pc.port, region=pc.region, credentials=pc.credentials,
                                   ssl_context=pc.ssl_context, timeout=timeout, guard=pc.guard, clock=pc.clock,
                                   session=session)
    except aws_call.ExchangeFailed as exc:
        steps.append(PullStep(outcome=exc.outcome, message=secrets.mask(exc.message)[:MESSAGE_LIMIT],
                              ms=_ms(started), **base))
        raise _Failed(steps[-1]) from None
    return answer, PullStep(outcome=SUCCESS, http_status=answer.status, ms=_ms(started), **base)


def _bound(session: Any, timeout: float) -> None:
    """A kept-alive connection gets this step's timeout (what is left of the run may be less than before)."""
    session.args = session.args[:4] + (timeout,)
    conn = session.conn
    if conn is not None:
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000.0, 1)


def _fail_on_error(answer: aws_call.Exchange, step: PullStep, protocol: Optional[str], steps: List[PullStep],
                   secrets: _Secrets) -> None:
    """An error answer becomes the step's outcome (masked, cut) and ends the pull."""
    code, message, shaped = parse_error(answer.body, answer.headers, protocol)
    code = (secrets.mask(code)[:128] or None) if code else None
    message = secrets.mask(message)[:MESSAGE_LIMIT]
    outcome = classify(answer.status, code, message, False, shaped)
    if answer.status == 404 and protocol == "registry":
        outcome = NOT_FOUND
    if code == "DENIED" and outcome == UNEXPECTED:
        outcome = ACCESS_DENIED
    steps.append(replace(step, outcome=outcome, error_code=code, message=message or None,
                         denied_by=denial_policy(message) if outcome in DENIALS else None))
    raise _Failed(steps[-1])


def _token(pc: PullContext, steps: List[PullStep], secrets: _Secrets) -> str:
    """GetAuthorizationToken through ecr.api; the Basic authorization value, held by the caller only."""
    host = "api.ecr.%s.%s" % (pc.region, pc.dns_suffix)
    if pc.credentials is None:
        steps.append(PullStep(TOKEN, "ecr.api", SKIPPED, host, message="no AWS credentials to sign with"))
        raise _Failed(steps[-1])
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECR_TOKEN_TARGET}
    answer, step = _send(pc, TOKEN, host, "POST", "/", headers, b"{}", steps, secrets, signing_name="ecr",
                         shown_path="/ GetAuthorizationToken")
    if answer.status != 200:
        _fail_on_error(answer, step, "json", steps, secrets)
    try:
        token = json.loads(answer.body.decode("utf-8"))["authorizationData"][0]["authorizationToken"]
        if not isinstance(token, str) or not token:
            raise ValueError
    except (ValueError, KeyError, IndexError, TypeError):
        steps.append(replace(step, outcome=UNEXPECTED, message="HTTP 200 without an authorizationToken"))
        raise _Failed(steps[-1]) from None
    secrets.add(token)
    try:  # base64 of "AWS:<password>": the password alone is a secret too
        secrets.add(base64.b64decode(token, validate=False).decode("utf-8", "replace").partition(":")[2])
    except ValueError:
        pass
    steps.append(step)
    return "Basic " + token


def _manifest(pc: PullContext, ref: ImageRef, step_name: str, path: str, authorization: str,
              steps: List[PullStep], secrets: _Secrets) -> Dict[str, Any]:
    headers = {"Accept": ACCEPT, "Authorization": authorization}
    answer, step = _send(pc, step_name, ref.registry, "GET", path, headers, b"", steps, secrets)
    if answer.status != 200:
        _fail_on_error(answer, step, "registry", steps, secrets)
    try:
        manifest = json.loads(answer.body.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError
    except ValueError:
        steps.append(replace(step, outcome=UNEXPECTED,
                             message="HTTP 200 with a manifest that is not JSON (%d bytes)" % len(answer.body)))
        raise _Failed(steps[-1]) from None
    steps.append(step)
    content_type = (answer.headers.get("content-type") or "").split(";")[0].strip()
    manifest["_media_type"] = manifest.get("mediaType") or content_type
    return manifest


def _platform_digest(index: Dict[str, Any], architecture: str) -> Optional[str]:
    for entry in index.get("manifests") or ():
        if not isinstance(entry, dict):
            continue
        wanted = entry.get("platform") or {}
        digest = entry.get("digest")
        if wanted.get("os") == "linux" and wanted.get("architecture") == architecture and _DIGEST.match(digest or ""):
            return digest
    return None


def _smallest_layer(manifest: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    layers = [l for l in manifest.get("layers") or () if isinstance(l, dict) and _DIGEST.match(l.get("digest") or "")]
    sizes = [(l.get("size") if isinstance(l.get("size"), int) else 1 << 62, i) for i, l in enumerate(layers)]
    return layers[min(sizes)[1]] if sizes else None


def _blob(pc: PullContext, ref: ImageRef, layer: Dict[str, Any], authorization: str, steps: List[PullStep],
          secrets: _Secrets) -> Optional[str]:
    """The blob request; ECR answers with a redirect to the layer bucket (the Location is returned,
    a secret), a registry that serves the blob itself with the byte (then None)."""
    path = "/v2/%s/blobs/%s" % (ref.repository, layer["digest"])
    headers = {"Authorization": authorization, "Range": "bytes=0-0"}
    answer, step = _send(pc, BLOB, ref.registry, "GET", path, headers, b"", steps, secrets)
    if answer.status in (200, 206):
        steps.append(step)
        return None
    if answer.status not in REDIRECTS:
        _fail_on_error(answer, step, "registry", steps, secrets)
    location = answer.headers.get("location") or ""
    parts = urlsplit(location)
    secrets.add(parts.query)
    for pair in parts.query.split("&"):
        secrets.add(pair.partition("=")[2])
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host not in pc.layer_hosts or (parts.port not in (None, 443)):
        steps.append(replace(step, outcome=UNEXPECTED, message="redirect to %s, not the layer bucket (%s): not followed"
                              % (secrets.mask("%s://%s" % (parts.scheme, host))[:120] or "nowhere",
                                 ", ".join(pc.layer_hosts))))
        raise _Failed(steps[-1])
    steps.append(step)
    return location


def _layer(pc: PullContext, location: str, steps: List[PullStep], secrets: _Secrets) -> None:
    """One byte of the layer from the presigned URL (no Authorization: the query signs it)."""
    parts = urlsplit(location)
    host = (parts.hostname or "").lower()
    target = parts.path + ("?" + parts.query if parts.query else "")
    answer, step = _send(pc, LAYER, host, "GET", target, {"Range": "bytes=0-0"}, b"", steps, secrets,
                         shown_path=parts.path)
    if answer.status not in (200, 206):
        _fail_on_error(answer, step, "rest-xml", steps, secrets)
    steps.append(step)

