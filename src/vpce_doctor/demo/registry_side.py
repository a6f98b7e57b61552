"""The simulated registry's content and the layer bucket's presigned answers, for the image pull
(checks/probes/registry_pull.py): every answer is a wire corpus entry with its source.

- the registry (ecr.dkr) answers a manifest GET with a token moto issued: a tag with the OCI spec's
  example index, a digest with its example manifest; a blob GET with ECR's 307 to the layer bucket
  and a presigned query; no token (or another one) gets ECR's plain-text 401;
- the scenario's registry_pull_deny answers the manifest with the registry's DENIED (the node role's
  identity) or NAME_UNKNOWN instead;
- the layer bucket answers a presigned GET with 206 and one byte, or, when the scenario's gateway
  endpoint policy does not allow s3:GetObject on AWS's bucket, S3's bare AccessDenied (S3 adds no
  policy context for a bucket outside the caller's account).
"""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Dict
from urllib.parse import parse_qs, urlsplit

from ..checks import endpoint_policy
from . import aws_answers, aws_config, wire

Answer = aws_answers.Answer
_PATH = re.compile(r"^/v2/(?P<repository>[a-z0-9._/-]+)/(?P<kind>manifests|blobs)/(?P<reference>[A-Za-z0-9_.:-]+)$")
# The presigned query's values: markers the secret scan looks for in every artifact (never real)
PRESIGN = {"presign_token": "PRESIGNMARK-security-token-0123456789abcdef",
           "presign_credential": "ASIAPRESIGNMARK0000%2F20261203%2Fus-east-1%2Fs3%2Faws4_request",
           "presign_signature": "presignmark0123456789abcdef0123456789abcdef0123456789abcdef012345",
           "expires": "3600"}


def serves(service_id: str, path: str) -> bool:
    """The pull's requests: the registry's, except its base /v2/ (the ecr.dkr probe's); a presigned layer GET."""
    if service_id == "ecr.dkr":
        return path.split("?", 1)[0] != "/v2/"
    return service_id == "s3" and is_presigned(path)


def answer(sim, account: str, service_id: str, method: str, path: str, headers: Dict[str, str]) -> Answer:
    return registry(sim, account, method, path, headers) if service_id == "ecr.dkr" else layer(sim, path)


def token_password(account: str) -> str:
    """What moto's GetAuthorizationToken issues (moto/ecr/responses.py): base64 of AWS:<this>."""
    return "%s-auth-token" % account


def secrets(account: str):
    password = token_password(account)
    return [password, base64.b64encode(("AWS:%s" % password).encode()).decode()] + \
        [PRESIGN["presign_token"], PRESIGN["presign_signature"], "ASIAPRESIGNMARK0000"]


def _header(headers: Dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _authorized(account: str, headers: Dict[str, str]) -> bool:
    value = _header(headers, "authorization")
    if not value.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return user == "AWS" and password == token_password(account)


def registry(sim, account: str, method: str, path: str, headers: Dict[str, str]) -> Answer:
    region = sim.region
    values = aws_answers._values(account, region)
    if not _authorized(account, headers):
        return wire.answer("registry/v2-unauthenticated", **values)
    found = _PATH.match(path.split("?", 1)[0])
    if method != "GET" or not found:
        raise LookupError("the simulated registry serves manifest and blob GETs only: %s %s" % (method, path))
    repository, reference = found.group("repository"), found.group("reference")
    values["repository"] = repository
    if found.group("kind") == "manifests":
        deny = sim.scenario.registry_pull_deny
        if deny == "identity":
            return wire.answer("registry/manifest-denied-identity", **values)
        if deny == "name-unknown":
            return wire.answer("registry/name-unknown", **values)
        entry = "registry/manifest-oci" if reference.startswith("sha256:") else "registry/manifest-oci-index"
        return _with_digest(entry, architecture=_architecture())
    layer_path = "%s/%s" % (hashlib.sha256(repository.encode()).hexdigest()[:32],
                            hashlib.sha256(reference.encode()).hexdigest()[:32])
    return wire.answer("registry/blob-redirect", region=region, layer_path=layer_path,
                       request_time=datetime.fromtimestamp(sim.aws_clock(), timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
                       **PRESIGN)


def _architecture() -> str:
    import platform

    from ..checks.probes.registry_pull import _architecture as node_architecture

    return node_architecture(platform.machine())


def _with_digest(entry_id: str, **values: str) -> Answer:
    """The entry with Docker-Content-Digest the sha256 of the body it sends, as a registry computes it."""
    entry = wire.corpus()[entry_id]
    _, _, body = entry.render(digest="", **values)
    return entry.render(digest="sha256:" + hashlib.sha256(body).hexdigest(), **values)


def is_presigned(path: str) -> bool:
    return "X-Amz-Signature=" in (urlsplit(path).query or "")


def layer(sim, path: str) -> Answer:
    """A presigned GET of a layer: the gateway endpoint's policy decides, as AWS applies it."""
    values = aws_answers._values("")
    bucket = "prod-%s-starport-layer-bucket" % sim.region
    key = urlsplit(path).path.lstrip("/")
    resource = "arn:%s:s3:::%s/%s" % (sim.partition.id, bucket, key)
    verdict, _ = endpoint_policy.evaluate(aws_config.gateway_policy(sim), "s3:GetObject", resource)
    query = parse_qs(urlsplit(path).query)
    if verdict != endpoint_policy.ALLOWED or query.get("X-Amz-Signature") != [PRESIGN["presign_signature"]]:
        return wire.answer("s3/layer-bucket-endpoint-policy-denied", **values)
    return wire.answer("s3/range-0-0-partial-content", size="16724", etag=hashlib.sha256(key.encode()).hexdigest()[:32],
                       http_date=formatdate(sim.aws_clock() - 86400, usegmt=True), first_byte="\x1f", **values)
