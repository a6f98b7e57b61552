"""A deliberately small reading of VPC endpoint policies: does the policy let the node role
make a given call?

What it understands: Effect Allow/Deny; Action and NotAction, Resource and NotResource with
`*` and `?` wildcards (case-insensitive actions, as IAM matches them); Principal "*",
{"AWS": "*" | ARN | [ARNs]}. An explicit Deny wins; otherwise an Allow is needed (an
endpoint policy has no implicit allow). What it does not (any Condition, a principal it
cannot compare because the node role is not known, NotPrincipal) makes the statement
"cannot tell" - and the answer is then None unless a certain Deny or a certain Allow
decides it anyway. A missing policy is AWS's default full-access policy.
"""
from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Dict, List, Optional, Tuple

ALLOWED, DENIED, UNKNOWN = "allowed", "denied", "cannot tell"


def _list(value: Any) -> List[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _match(patterns: List[str], value: str, case: bool) -> bool:
    for pattern in patterns:
        regex = fnmatch.translate(pattern)  # * and ? as IAM uses them ([ ] never occur in actions or ARNs)
        if re.match(regex, value, 0 if case else re.IGNORECASE):
            return True
    return False


def _principal_matches(statement: Dict[str, Any], role_arn: Optional[str]) -> Optional[bool]:
    if "NotPrincipal" in statement:
        return None
    principal = statement.get("Principal", "*")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = _list(principal.get("AWS"))
        if "*" in aws:
            return True
        if role_arn is None:
            return None
        # an assumed-role session of the node role is matched by the role ARN and by its account root
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
        return role_arn in aws or (account is not None and ("arn:aws:iam::%s:root" % account in aws or account in aws))
    return False


def _applies(statement: Dict[str, Any], action: str, resource: Optional[str], role_arn: Optional[str]) -> Optional[bool]:
    if "Action" in statement:
        if not _match(_list(statement["Action"]), action, case=False):
            return False
    elif "NotAction" in statement:
        if _match(_list(statement["NotAction"]), action, case=False):
            return False
    else:
        return False
    if resource is None:  # "some resource we cannot name" (an image repository): only "*" is certain
        if "NotResource" in statement or "*" not in _list(statement.get("Resource")):
            return None
    elif "Resource" in statement:
        if not _match(_list(statement["Resource"]), resource, case=True):
            return False
    elif "NotResource" in statement and _match(_list(statement["NotResource"]), resource, case=True):
        return False
    principal = _principal_matches(statement, role_arn)
    if principal is False:
        return False
    if principal is None or statement.get("Condition"):
        return None
    return True


def evaluate(document: Optional[Any], action: str, resource: Optional[str] = None,
             role_arn: Optional[str] = None) -> Tuple[str, str]:
    """(allowed | denied | cannot tell, why) for one action on one resource (None: a resource
    we cannot name, which only a "*" Resource certainly covers)."""
    if document in (None, ""):
        return ALLOWED, "no policy: the default full-access policy"
    try:
        policy = json.loads(document) if isinstance(document, str) else document
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else list(statements)
    except (ValueError, AttributeError):
        return UNKNOWN, "the policy document is not readable JSON"
    allow, may_deny, may_allow = None, [], []
    for number, statement in enumerate(statements):
        applies = _applies(statement, action, resource, role_arn)
        label = statement.get("Sid") or "statement %d" % (number + 1)
        if statement.get("Effect") == "Deny":
            if applies:
                return DENIED, "%s denies %s" % (label, action)
            if applies is None:
                may_deny.append("%s may deny %s (condition or principal)" % (label, action))
        elif statement.get("Effect") == "Allow":
            if applies:
                allow = label
            elif applies is None:
                may_allow.append("%s may allow %s (condition or principal)" % (label, action))
    if may_deny:
        return UNKNOWN, "; ".join(may_deny)
    if allow:
        return ALLOWED, "%s allows %s" % (allow, action)
    if may_allow:
        return UNKNOWN, "; ".join(may_allow)
    return DENIED, "no statement allows %s%s" % (action, " for " + role_arn if role_arn else "")
