"""How the simulated AWS side answers: moto for real APIs, canned answers where moto has
none (registry /v2/, the layer bucket, services without a read-only API), and the
errors real AWS gives for endpoint-policy and identity denials and for a skewed clock."""
from __future__ import annotations

import http.client
import json
import time
from datetime import datetime, timezone
from typing import Dict, Tuple

Answer = Tuple[int, Dict[str, str], bytes]
ROLE_ARN = "arn:aws:sts::%s:assumed-role/eks-node-role/i-0123456789abcdef0"


def error(protocol: str, status: int, code: str, message: str) -> Answer:
    if protocol == "ec2":
        body = ("<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>"
                "<RequestID>5e0c0b7a-demo</RequestID></Response>" % (code, message))
        return status, {"Content-Type": "text/xml;charset=UTF-8"}, body.encode()
    if protocol in ("query", "s3"):
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>5e0c0b7a-demo</RequestId></ErrorResponse>" % (code, message))
        if protocol == "s3":
            body = "<Error><Code>%s</Code><Message>%s</Message></Error>" % (code, message)
        return status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "registry":
        body = json.dumps({"errors": [{"code": "DENIED", "message": message}]})
        return status, {"Content-Type": "application/json"}, body.encode()
    if protocol == "rest-json":
        return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"__type": code, "message": message}).encode()


def denial_code(protocol: str) -> str:
    return {"ec2": "UnauthorizedOperation", "query": "AccessDenied", "s3": "AccessDenied",
            "registry": "DENIED", "rest-json": "AccessDeniedException"}.get(protocol, "AccessDeniedException")


def policy_denial(protocol: str, action: str, account: str) -> Answer:
    message = ("User: %s is not authorized to perform: %s because no VPC endpoint policy allows the %s action"
               % (ROLE_ARN % account, action, action))
    return error(protocol, 403, denial_code(protocol), message)


def identity_denial(protocol: str, action: str, account: str) -> Answer:
    message = ("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action"
               % (ROLE_ARN % account, action, action))
    return error(protocol, 403, denial_code(protocol), message)


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


def managed_policy_denial(protocol: str, action: str, account: str) -> Answer:
    """An identity-policy denial as each protocol really sends it: EC2 403 UnauthorizedOperation
    with its "You are not authorized" preamble; query APIs 403 AccessDenied in an ErrorResponse;
    JSON APIs 400 with __type AccessDeniedException; REST-JSON 403 with a coral x-amzn-ErrorType."""
    who = "User: %s is not authorized to perform: %s because no identity-based policy allows the %s action" % (
        ROLE_ARN % account, action, action)
    if protocol == "ec2":
        return error("ec2", 403, "UnauthorizedOperation", "You are not authorized to perform this operation. " + who)
    if protocol == "query":
        return error("query", 403, "AccessDenied", who)
    if protocol == "rest-json":
        return 403, {"Content-Type": "application/json",
                     "x-amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/"}, \
            json.dumps({"message": who}).encode()
    return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
        {"__type": "AccessDeniedException", "message": who}).encode()


def skew_error(protocol: str, request_time: str, server_time: float) -> Answer:
    now = datetime.fromtimestamp(server_time, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    message = "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (request_time, now, now)
    code = {"ec2": "AuthFailure", "query": "SignatureDoesNotMatch"}.get(protocol, "InvalidSignatureException")
    return error(protocol, 403 if protocol != "ec2" else 401, code, message)


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


def registry_base() -> Answer:
    headers = {"Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0",
               "WWW-Authenticate": 'Basic realm="https://ecr.amazonaws.com/",service="ecr.amazonaws.com"'}
    return 401, headers, b'{"errors":[{"code":"UNAUTHORIZED","message":"Not Authorized"}]}'


def layer_bucket() -> Answer:
    return error("s3", 403, "AccessDenied", "Access Denied")


def service_root() -> Answer:
    return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'


# Read-only probes moto does not implement (it answers them with an HTML 404), answered in the
# real API's success shape: an empty list is what a fresh account returns.
NOT_IN_MOTO = {
    "xray": (200, {"Content-Type": "application/json"}, b'{"SamplingRuleRecords":[]}'),
}


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
