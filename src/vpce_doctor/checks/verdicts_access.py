"""Verdicts on what AWS said to the API probe once the path worked: who denied the call, and
whether a path-only probe proved what the service needs.

AWS's denial message names the policy type when it can (IAM User Guide, "Troubleshoot access
denied error messages": "... because no VPC endpoint policy allows ...", "... with an explicit deny
in a service control policy"); older wordings and some services name none ("You are not authorized
to perform this operation.", "User: ... is not authorized to perform: X on resource: Y"). Then the
endpoint's own PolicyDocument, when the inventory read it, is evaluated (endpoint_policy.py) to
tell an endpoint policy from the rest; otherwise every candidate is named with the command that
reads it. Nothing here calls a denial without a policy type an identity denial.

| API outcome (policy type named)          | code              | severity                                  |
|------------------------------------------|-------------------|-------------------------------------------|
| policy_denied (VPC endpoint policy)      | policy_denied     | critical                                  |
| iam_denied (identity, boundary, session) | iam_denied        | info; warning when a running component needs the action |
| org_denied (SCP, RCP)                    | org_policy_denied | info; warning when a running component needs the action |
| access_denied, endpoint policy denies it | policy_denied     | critical (the evaluation is the evidence) |
| access_denied, endpoint policy allows it | access_denied     | info; warning when needed                 |
| access_denied, policy not readable       | access_denied     | warning (it may be the endpoint policy)   |
| any denial of sts:GetCallerIdentity       | access_denied / policy_denied: never iam_denied (the call needs no permission) |
| reached on the layer bucket, endpoint policy denies s3:GetObject | policy_denied | critical           |
| reached on the layer bucket, policy not readable | layer_bucket_unverified | info                   |
"""
from __future__ import annotations

from typing import List, Optional

from ..core.model import CRITICAL, INFO, WARNING, Finding
from . import endpoint_policy
from . import remediation as fix
from . import remediation_access as access_fix
from .probes import aws_call

CODES = ("org_policy_denied", "access_denied", "layer_bucket_unverified")

# "If an administrator attaches a policy to your identity that explicitly denies access to the
# sts:GetCallerIdentity action, you can still perform this operation. Permissions are not required
# because the same information is returned when access is denied." (AWS STS API Reference,
# GetCallerIdentity). A denial of it is never the node role's identity policy.
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})


def _finding(code, severity, service, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=service, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def api_findings(ev, node, endpoint) -> List[Finding]:
    api = ev.api
    if api is None:
        return []
    endpoint_id = endpoint.id if endpoint is not None else None
    detail = "%s: %s" % (api.error_code or api.http_status, api.message or "")
    if api.outcome == aws_call.REACHED and ev.iam_resource:
        return _path_only_policy(ev, node, endpoint)
    if api.outcome == aws_call.POLICY_DENIED:
        return [_finding("policy_denied", CRITICAL, ev.id,
                         "%s through the endpoint is denied by a VPC endpoint policy (%s)" % (api.operation, detail),
                         fix.policy_denied(node.where, ev.id, endpoint_id, api.operation), [detail])]
    needed = list(ev.action_needed_by)
    because = ("; %s needs this action" % ", ".join(needed) if needed
               else "; the denial itself proves the network path and the endpoint")
    if api.outcome == aws_call.IAM_DENIED and ev.iam_action not in NEEDS_NO_PERMISSION:
        # The denial came back from AWS through the endpoint: the path is proven. It matters only
        # when a running component needs that very action with the node role.
        return [_finding("iam_denied", WARNING if needed else INFO, ev.id,
                         "%s reached AWS through the endpoint but the node's identity is denied (%s)%s"
                         % (api.operation, detail, because),
                         fix.iam_denied(node.where, ev.id, api.operation), [detail])]
    if api.outcome == aws_call.ORG_DENIED and ev.iam_action not in NEEDS_NO_PERMISSION:
        return [_finding("org_policy_denied", WARNING if needed else INFO, ev.id,
                         "%s reached AWS through the endpoint but an organization's %s denies it (%s)%s"
                         % (api.operation, api.denied_by, detail, because),
                         access_fix.org_policy_denied(node.where, ev.id, ev.iam_action or api.operation,
                                                      api.denied_by or "service control policy"), [detail])]
    if api.outcome in aws_call.DENIALS:
        return _unattributed(ev, node, endpoint, detail, needed)
    return []


def _unattributed(ev, node, endpoint, detail: str, needed: List[str]) -> List[Finding]:
    """A denial whose message names no policy type (or names one that cannot apply): evaluate the
    endpoint policy when the inventory holds it, else name every candidate."""
    api = ev.api
    action = ev.iam_action or api.operation
    verdict, why = _evaluate(endpoint, action, None, node.role_arn)
    no_identity = action in NEEDS_NO_PERMISSION
    evidence = [detail] + (["endpoint %s policy: %s (%s)" % (endpoint.id, verdict, why)] if verdict else [])
    if verdict == endpoint_policy.DENIED:
        return [_finding("policy_denied", CRITICAL, ev.id,
                         "%s through the endpoint is denied, and endpoint %s's policy does not allow it (%s); AWS's "
                         "answer names no policy type (%s)" % (api.operation, endpoint.id, why, detail),
                         fix.policy_denied(node.where, ev.id, endpoint.id, api.operation), evidence)]
    candidates = ([] if verdict == endpoint_policy.ALLOWED else ["the VPC endpoint policy"]) \
        + ([] if no_identity else ["the node role's identity policies"]) \
        + ["an organization's service control or resource control policy"]
    if verdict == endpoint_policy.ALLOWED:
        severity = WARNING if needed else INFO
        cleared = "endpoint %s's policy allows it (%s), so " % (endpoint.id, why)
    else:
        severity = WARNING  # it may be the endpoint policy, which denies every caller through the endpoint
        cleared = ("the endpoint policy could not be evaluated (%s), so " % why if verdict
                   else "the endpoint policy was not read (%s), so " % _why_unread(node, endpoint))
    reason = ("%s needs no permission (an identity policy's deny does not apply to it); " % action
              if no_identity else "")
    return [_finding(
        "access_denied", severity, ev.id,
        "%s reached AWS through the endpoint and was denied, and AWS's answer does not say which policy (%s): %s%s"
        "the candidates are %s" % (api.operation, detail, reason, cleared, ", ".join(candidates)),
        access_fix.access_denied(node.where, ev.id, action, endpoint.id if endpoint is not None else None,
                                 ev.endpoint_service_name, node.iam_role, candidates), evidence)]


def _path_only_policy(ev, node, endpoint) -> List[Finding]:
    """The layer bucket answers an unsigned request through the gateway endpoint with S3's bare
    AccessDenied whether or not the endpoint policy allows AWS's bucket (S3 adds the policy's name
    only for requests within the caller's own account or organization): the answer proves the path,
    never the policy. Only the policy document tells."""
    action, resource = ev.iam_action, ev.iam_resource
    verdict, why = _evaluate(endpoint, action, resource, node.role_arn)
    if verdict == endpoint_policy.ALLOWED:
        return []
    if verdict == endpoint_policy.DENIED:
        return [_finding(
            "policy_denied", CRITICAL, ev.id,
            "gateway endpoint %s's policy does not allow %s on %s (%s): every image layer pull through it fails "
            "with 403, although S3 answers on the path" % (endpoint.id, action, resource, why),
            access_fix.path_policy_statement(node.where, ev.id, endpoint.id, action, resource, ev.endpoint_service_name),
            ["endpoint %s policy: denied (%s)" % (endpoint.id, why)])]
    unread = why if verdict else _why_unread(node, endpoint)
    return [_finding(
        "layer_bucket_unverified", INFO, ev.id,
        "S3 answers through the gateway path, but an unsigned request cannot show whether the endpoint policy allows "
        "%s on %s (S3 answers AWS's bucket with the same bare AccessDenied either way), and the policy was not "
        "evaluated: %s" % (action, resource, unread),
        access_fix.path_policy_statement(node.where, ev.id, endpoint.id if endpoint is not None else None, action,
                                         resource, ev.endpoint_service_name))]


def _evaluate(endpoint, action: Optional[str], resource: Optional[str], role_arn: Optional[str]):
    """(verdict, why) of the endpoint's own policy; (None, None) with no endpoint in the inventory. An
    endpoint listed without a PolicyDocument has no policy (AWS's default: full access)."""
    if endpoint is None or not action:
        return None, None
    return endpoint_policy.evaluate(endpoint.policy_document, action, resource, role_arn)


def _why_unread(node, endpoint) -> str:
    inventory = node.inventory
    if inventory is not None and not inventory.available:
        return "the endpoint inventory is not readable: %s" % inventory.reason
    return "no endpoint for this service in the inventory"
