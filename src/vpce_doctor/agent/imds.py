"""EC2 instance metadata: IMDSv2 (token PUT then GETs), IMDSv1 only if the token call is refused."""
from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from .addresses import NetworkGuard, NetworkNotAllowed

DEFAULT_ENDPOINT = "http://169.254.169.254"


@dataclass
class ImdsFacts:
    endpoint: str
    reachable: bool = False
    version: Optional[str] = None  # "v2" | "v1"
    error: Optional[str] = None
    identity: Dict[str, str] = field(default_factory=dict)
    vpc_id: Optional[str] = None
    subnet_id: Optional[str] = None
    vpc_cidrs: List[str] = field(default_factory=list)
    local_ipv4: Optional[str] = None
    iam_role: Optional[str] = None


class _Refused(Exception):
    pass


class ImdsClient:
    def __init__(self, endpoint: str, timeout: float, guard: NetworkGuard):
        parts = urlsplit(endpoint if "://" in endpoint else "http://" + endpoint)
        self.endpoint = "%s://%s" % (parts.scheme, parts.netloc)
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.timeout = timeout
        self.guard = guard
        self.token: Optional[str] = None

    def _request(self, method: str, path: str, headers: Dict[str, str]) -> Tuple[int, str]:
        self.guard.check(self.host)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(65536).decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path: str) -> Optional[str]:
        headers = {"X-aws-ec2-metadata-token": self.token} if self.token else {}
        status, body = self._request("GET", path, headers)
        return body if status == 200 else None

    def connect(self) -> str:
        """Returns the IMDS version in use; raises OSError when IMDS cannot be reached at all."""
        status, body = self._request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        if status == 200 and body:
            self.token = body.strip()
            return "v2"
        # The token call was answered but refused: IMDSv1 may still be on.
        if self.get("/latest/meta-data/instance-id") is not None:
            return "v1"
        raise _Refused("IMDS refused the token call (HTTP %d) and IMDSv1 is off" % status)


def discover(endpoint: str, timeout: float, guard: NetworkGuard) -> ImdsFacts:
    client = ImdsClient(endpoint, timeout, guard)
    facts = ImdsFacts(endpoint=client.endpoint)
    try:
        facts.version = client.connect()
    except (OSError, http.client.HTTPException, _Refused, NetworkNotAllowed) as exc:
        facts.error = "%s: %s" % (type(exc).__name__, exc)
        return facts
    facts.reachable = True
    try:
        document = client.get("/latest/dynamic/instance-identity/document")
        if document:
            data = json.loads(document)
            facts.identity = {k: str(data[k]) for k in ("region", "availabilityZone", "instanceId", "accountId", "privateIp")
                              if data.get(k)}
        mac = (client.get("/latest/meta-data/mac") or "").strip()
        if mac:
            base = "/latest/meta-data/network/interfaces/macs/%s/" % mac
            facts.vpc_id = (client.get(base + "vpc-id") or "").strip() or None
            facts.subnet_id = (client.get(base + "subnet-id") or "").strip() or None
            cidrs = client.get(base + "vpc-ipv4-cidr-blocks") or client.get(base + "vpc-ipv4-cidr-block") or ""
            facts.vpc_cidrs = [c.strip() for c in cidrs.split() if c.strip()]
            ipv6 = client.get(base + "vpc-ipv6-cidr-blocks") or ""
            facts.vpc_cidrs += [c.strip() for c in ipv6.split() if c.strip()]
        facts.local_ipv4 = (client.get("/latest/meta-data/local-ipv4") or "").strip() or facts.identity.get("privateIp")
        roles = client.get("/latest/meta-data/iam/security-credentials/")
        facts.iam_role = roles.split()[0] if roles and roles.split() else None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        facts.error = "IMDS answered the token call but a later read failed: %s: %s" % (type(exc).__name__, exc)
    return facts
