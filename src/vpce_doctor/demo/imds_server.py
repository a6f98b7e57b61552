"""A small IMDS: IMDSv2 tokens, the identity document, network facts and role credentials.
mode "v1" refuses the token call (IMDSv1 only); "off" is HttpEndpoint disabled (403 to everything);
"down" answers nothing at all. Error answers come from the wire corpus (imds/*): the EC2 User Guide
documents their status codes, not their bodies, and the agent reads only the status."""
from __future__ import annotations

import json
import secrets
import string
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict

from . import wire
from .https_endpoint import Blackhole

MAC = "0e:11:22:33:44:55"


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: str = "", content_type: str = "text/plain") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, entry_id: str) -> None:
        status, headers, body = wire.answer(entry_id)
        self._send(status, body.decode(), headers.get("Content-Type", "text/plain"))

    def do_PUT(self):
        if self.server.mode == "off":
            return self._error("imds/403-forbidden-or-off")
        if self.path != "/latest/api/token":
            return self._error("imds/404-not-found")
        if self.server.mode == "v1":
            return self._error("imds/403-forbidden-or-off")
        token = _random(string.ascii_letters, 40)
        self.server.tokens.add(token)
        self._send(200, token)

    def do_GET(self):
        if self.server.mode == "off":
            return self._error("imds/403-forbidden-or-off")
        if self.server.mode == "v2" and self.headers.get("X-aws-ec2-metadata-token") not in self.server.tokens:
            return self._error("imds/401-unauthorized")
        body = self.server.paths.get(self.path)
        if body is None:
            return self._error("imds/404-not-found")
        self._send(200, body, "application/json" if body.startswith("{") else "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class ImdsServer:
    def __init__(self, address: str, facts: Dict[str, Any], mode: str = "v2", port: int = 0):
        self.address, self.mode = address, mode
        self.port = port
        self.credentials = {
            "Code": "Success", "Type": "AWS-HMAC",
            "AccessKeyId": "ASIA" + _random(string.ascii_uppercase + "234567", 16),
            "SecretAccessKey": _random(string.ascii_letters + string.digits + "+/", 40),
            "Token": "IQoJb3JpZ2luX2Vj" + _random(string.ascii_letters + string.digits + "+/", 300),
            "Expiration": (datetime.now(timezone.utc) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "LastUpdated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        net = "/latest/meta-data/network/interfaces/macs/%s/" % MAC
        identity = {k: facts[k] for k in ("region", "availabilityZone", "instanceId", "accountId", "privateIp")}
        identity.update({"architecture": "x86_64", "imageId": "ami-0123456789abcdef0", "instanceType": "m6i.large"})
        self.paths = {
            "/latest/dynamic/instance-identity/document": json.dumps(identity),
            "/latest/meta-data/instance-id": facts["instanceId"],
            "/latest/meta-data/mac": MAC,
            "/latest/meta-data/local-ipv4": facts["privateIp"],
            net + "vpc-id": facts["vpc_id"],
            net + "subnet-id": facts["subnet_id"],
            net + "vpc-ipv4-cidr-blocks": "\n".join(facts["vpc_cidrs"]),
            "/latest/meta-data/iam/security-credentials/": facts["role"],
            "/latest/meta-data/iam/security-credentials/%s" % facts["role"]: json.dumps(self.credentials),
        }
        if facts.get("vpc_ipv6_cidrs"):
            self.paths[net + "vpc-ipv6-cidr-blocks"] = "\n".join(facts["vpc_ipv6_cidrs"])
        if facts.get("cluster_name"):  # instance tags in metadata, as on a managed node group that allows them
            self.paths["/latest/meta-data/tags/instance/eks:cluster-name"] = facts["cluster_name"]
        self._server = None
        self._blackhole = None

    def start(self) -> "ImdsServer":
        if self.mode == "down":
            # Nothing answers: connects time out as when IMDS is disabled behind a firewall.
            self._blackhole = Blackhole(self.address, self.port).start()
            self.port = self._blackhole.port
            return self
        self._server = _Server((self.address, self.port), _Handler)
        self._server.mode, self._server.paths, self._server.tokens = self.mode, self.paths, set()
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._blackhole is not None:
            self._blackhole.stop()
