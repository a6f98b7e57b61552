"""Fixes for denials: which policy to read, with the command that reads it, and the endpoint
policy statement a path-only probe cannot prove. Filled in like remediation.py's."""
from __future__ import annotations

import json
from typing import List, Optional, Sequence

from ..core.model import Remediation
from .remediation import Where, q


def _endpoint_policy_command(where: Where, endpoint_id: Optional[str], service_name: str) -> str:
    if endpoint_id:
        return ("aws ec2 describe-vpc-endpoints --region %s --vpc-endpoint-ids %s --query 'VpcEndpoints[].PolicyDocument' "
                "--output text" % (q(where.region), q(endpoint_id)))
    return ("aws ec2 describe-vpc-endpoints --region %s --filters Name=vpc-id,Values=%s Name=service-name,Values=%s "
            "--query 'VpcEndpoints[].[VpcEndpointId,PolicyDocument]' --output text"
            % (q(where.region), q(where.vpc_id or "<VPC-ID>"), q(service_name)))


def _identity_commands(where: Where, role: Optional[str], action: str) -> List[str]:
    role_name = role or "<NODE-ROLE>"
    return [
        "aws iam list-attached-role-policies --role-name %s" % q(role_name),
        "aws iam list-role-policies --role-name %s" % q(role_name),
        "aws iam simulate-principal-policy --policy-source-arn $(aws iam get-role --role-name %s --query Role.Arn "
        "--output text) --action-names %s" % (q(role_name), q(action)),
    ]


def _organization_commands() -> List[str]:
    # Organizations answers only in the management account (or a delegated administrator).
    return [
        "aws organizations list-policies-for-target --target-id <ACCOUNT-ID> --filter SERVICE_CONTROL_POLICY",
        "aws organizations list-policies-for-target --target-id <ACCOUNT-ID> --filter RESOURCE_CONTROL_POLICY",
    ]


def access_denied(where: Where, service_id: str, action: str, endpoint_id: Optional[str], service_name: str,
                  role: Optional[str], candidates: Sequence[str]) -> Remediation:
    commands = []
    if "the VPC endpoint policy" in candidates:
        commands.append(_endpoint_policy_command(where, endpoint_id, service_name))
    if "the node role's identity policies" in candidates:
        commands += _identity_commands(where, role, action)
    commands += _organization_commands()
    return Remediation(
        text="AWS denied %s (%s) without naming the policy. Read each candidate in turn: %s. The one that has no "
             "statement allowing %s (or one denying it) is the cause; an encoded authorization message, when EC2 "
             "gives one, says which: aws sts decode-authorization-message --encoded-message <MESSAGE>."
             % (action, service_id, "; ".join(candidates), action),
        commands=tuple(commands))


def org_policy_denied(where: Where, service_id: str, action: str, policy_type: str) -> Remediation:
    return Remediation(
        text="An organization's %s denies %s (%s) for this account; granting it to the node role does not help. "
             "Ask the organization's administrators to allow it for this account, from the management account."
             % (policy_type, action, service_id),
        commands=tuple(_organization_commands()))


def path_policy_statement(where: Where, service_id: str, endpoint_id: Optional[str], action: str, resource: str,
                          service_name: Optional[str] = None) -> Remediation:
    """The endpoint policy statement that lets nodes read the resource (the ECR layer bucket)."""
    statement = {"Sid": "AllowEcrLayerBucket", "Effect": "Allow", "Principal": "*", "Action": [action],
                 "Resource": [resource]}
    endpoint = endpoint_id or "<VPCE-ID>"
    return Remediation(
        text="The %s gateway endpoint's policy must allow %s on %s (image layers are served from AWS's bucket). Add "
             "this statement to the policy's Statement list, keeping the others: %s"
             % (service_id, action, resource, json.dumps(statement)),
        commands=(
            _endpoint_policy_command(where, endpoint_id, service_name or "com.amazonaws.%s.%s" % (where.region, service_id)),
            "aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --policy-document file://endpoint-policy.json"
            % (q(where.region), q(endpoint)),
        ))
