"""How the simulated AWS side answers: moto for real APIs; everything else from the wire corpus
(demo/wire.py), each answer a real AWS answer with its public source: the registry's /v2/, the
layer bucket, service roots, endpoint-policy, identity and SCP denials, a skewed clock."""
from __future__ import annotations

import http.client
import time
from datetime import datetime, timezone
from typing import Dict, Tuple

from . import wire

Answer = Tuple[int, Dict[str, str], bytes]
ROLE_ARN = "arn:aws:sts::%s:assumed-role/eks-node-role/i-0123456789abcdef0"
REQUEST_ID = "5e0c0b7a-1d2f-4c3b-9a8e-0f1e2d3c4b5a"

# Which corpus entry (demo/wire/*.json, each with its source) answers each case, per protocol.
# A protocol missing from a row has no answer of that kind in the corpus: the simulator refuses
# to make one up (KeyError at the scenario's first such request).
ENDPOINT_POLICY_DENIAL = {"ec2": "ec2/endpoint-denied-implicit", "query": "query/endpoint-denied-implicit",
                          "json": "json/endpoint-denied-implicit", "registry": "registry/manifest-denied-endpoint-policy"}
IDENTITY_DENIAL = {"ec2": "ec2/identity-denied", "query": "query/identity-denied", "json": "json/identity-denied-json11",
                   "rest-json": "rest-json/eks-identity-denied", "registry": "registry/manifest-denied-identity"}
# older and some current wordings name no policy type, also when an endpoint policy is the cause
UNNAMED_DENIAL = {"ec2": "ec2/denied-bare", "json": "json/identity-denied-dynamodb",
                  "rest-json": "rest-json/eks-identity-denied"}
SCP_DENIAL = {"ec2": "ec2/scp-denied-explicit", "query": "query/scp-denied-explicit", "json": "json/scp-denied-explicit"}
# what a signature outside the allowed window gets: EC2's AuthFailure names no time (the Date header
# does), the others say "Signature expired"
SKEW_REJECTION = {"ec2": "ec2/auth-failure", "query": "query/signature-expired", "json": "json/signature-expired",
                  "rest-json": "rest-json/signature-expired", "s3": "s3/request-time-too-skewed"}


def _values(account: str, region: str = "us-east-1", **more: str) -> Dict[str, str]:
    values = dict(account=account, region=region, role_arn=ROLE_ARN % account, request_id=REQUEST_ID,
                  resource="*", encoded_message="EXAMPLE-encoded-authorization-failure-message",
                  host_id="vpce-doctor-simulated-host-id", repository="vpce-doctor/demo")
    values.update(more)
    return values


def policy_denial(protocol: str, action: str, account: str) -> Answer:
    return wire.answer(ENDPOINT_POLICY_DENIAL[protocol], **_values(account, action=action))


def identity_denial(protocol: str, action: str, account: str) -> Answer:
    return wire.answer(IDENTITY_DENIAL[protocol], **_values(account, action=action))


def unnamed_denial(protocol: str, action: str, account: str) -> Answer:
    return wire.answer(UNNAMED_DENIAL[protocol], **_values(account, action=action))


def scp_denial(protocol: str, action: str, account: str) -> Answer:
    return wire.answer(SCP_DENIAL[protocol], **_values(account, action=action))


# What the AWS-managed node policies grant (AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly,
# AmazonSSMManagedInstanceCore, AmazonEKS_CNI_Policy; read-only actions only, as the agent sends nothing else).
# sts:GetCallerIdentity needs no permission at all.
MANAGED_NODE_POLICY_ACTIONS = frozenset([
    "ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications", "ec2:DescribeVpcs",
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "eks:DescribeCluster",
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy",
    "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings",
    "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument",
    "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations", "ssm:ListInstanceAssociations",
    "sts:GetCallerIdentity",
])


def managed_policies_allow(action: str) -> bool:
    service = action.split(":", 1)[0]
    return action in MANAGED_NODE_POLICY_ACTIONS or service in ("ssmmessages", "ec2messages")


def skew_error(protocol: str, request_time: str, server_time: float, account: str) -> Answer:
    def stamp(seconds: float, fmt: str = "%Y%m%dT%H%M%SZ") -> str:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime(fmt)

    entry = wire.corpus()[SKEW_REJECTION[protocol]]
    window = 900 if "15 min." in entry.body else 300  # STS's window is 15 minutes, most services' 5
    return entry.render(**_values(
        account, request_time=request_time, server_time=stamp(server_time),
        server_time_minus_skew=stamp(server_time - window), server_time_iso=stamp(server_time, "%Y-%m-%dT%H:%M:%SZ")))


def request_skew(headers: Dict[str, str], server_time: float):
    """Seconds between the request's X-Amz-Date and the simulated AWS clock, or None."""
    stamp = next((v for k, v in headers.items() if k.lower() == "x-amz-date"), None)
    if not stamp:
        return None, None
    try:
        sent = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None, stamp
    return server_time - sent, stamp


def action_of(method: str, path: str, headers: Dict[str, str], body: bytes) -> str:
    """The API action a request asks for: Action= (query), X-Amz-Target (JSON), else METHOD /path (REST)."""
    from urllib.parse import parse_qs

    target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), None)
    if target:
        return target.rsplit(".", 1)[-1]
    if method == "POST" and body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return "%s %s" % (method, path.split("?", 1)[0])


def registry_base(account: str, region: str) -> Answer:
    return wire.answer("registry/v2-unauthenticated", **_values(account, region))


def layer_bucket() -> Answer:
    return wire.answer("s3/access-denied-bare", **_values(""))


# Service roots asked with an unsigned GET /: no public capture shows what ssmmessages, ec2messages
# or eks-auth answer (frontend/*-root in the corpus say so); the simulator answers with AWS front ends'
# documented shapes for unsigned requests, and the probe accepts any answer after a verified handshake.
SERVICE_ROOT = {"ssmmessages": "frontend/missing-auth-token-json", "ec2messages": "frontend/unknown-operation-json",
                "eks-auth": "frontend/missing-auth-token-json"}


def service_root(service_id: str) -> Answer:
    return wire.answer(SERVICE_ROOT.get(service_id, "frontend/unknown-operation-xml"), **_values(""))


def cluster_unauthorized() -> Answer:
    return wire.answer("kubernetes/unauthorized")


# Read-only probes moto does not implement (it answers them with an HTML 404), answered in the
# real API's success shape from the corpus.
NOT_IN_MOTO = {"xray": "rest-json/xray-success-get-sampling-rules"}


def not_in_moto(service_id: str) -> Answer:
    return wire.answer(NOT_IN_MOTO[service_id], **_values(""))


def forward(moto: Tuple[str, int], method: str, path: str, headers: Dict[str, str], body: bytes) -> Answer:
    conn = http.client.HTTPConnection(moto[0], moto[1], timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def now() -> float:
    return time.time()
