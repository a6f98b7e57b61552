"""Verdicts on the image pull (image_pull.py): what a real pull proves that the per-service probes
cannot, and one finding per root cause. Each failed pull is judged on the service whose endpoint
carried its failing step (token: ecr.api, manifest and blob: ecr.dkr, layer: s3); a finding that
service already has (endpoint_missing, private_dns_disabled, gateway_route_missing, port_blocked,
policy_denied...) explains it, and the pull's steps become that finding's evidence instead of a
second finding. A pull that fetched its byte clears layer_bucket_unverified: the layer bucket
served a presigned request through the gateway endpoint, which only its policy could have denied.

| failing step, outcome                              | code                      | severity |
|----------------------------------------------------|---------------------------|----------|
| layer, 403 (S3's bare AccessDenied)                | layer_bucket_denied       | critical |
| layer, no connection (timeout, refused)            | layer_bucket_unreachable  | critical |
| manifest or blob, 403 (registry DENIED)            | image_pull_denied         | critical |
| manifest or blob, 404 (NAME_UNKNOWN, MANIFEST_UNKNOWN) | image_not_found       | warning  |
| any other step failure nothing else explains       | image_pull_failed         | warning  |
| a clock rejection, no credentials, --no-api        | (clock_skew / no_credentials / nothing) |  |
"""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence

from ..core.model import CRITICAL, WARNING, Finding
from . import endpoint_policy
from . import remediation as fix
from . import remediation_access as access_fix
from . import remediation_pull as pull_fix
from .probes import aws_call, registry_pull
from .probes.registry_pull import LAYER, PullResult, PullStep

CODES = ("layer_bucket_denied", "layer_bucket_unreachable", "image_pull_denied", "image_not_found", "image_pull_failed")
LAYER_ACTION = "s3:GetObject"
# a service finding that does not explain a failed pull (it says the path works, or is about something else)
NOT_AN_EXPLANATION = ("layer_bucket_unverified", "endpoint_az_missing")
NO_PATH = (aws_call.TIMEOUT, aws_call.CONNECT_ERROR)


def _finding(code, severity, service, message, remedy, evidence=()) -> Finding:
    return Finding(code=code, severity=severity, service=service, message=message, remediation=remedy,
                   evidence=tuple(evidence))


def pulls(node) -> Sequence[PullResult]:
    evidence = getattr(node, "image_pull", None)
    return tuple(getattr(evidence, "pulls", ()) or ())


def step_line(step: PullStep) -> str:
    where = "%s (%s)" % (step.address, step.scope) if step.address else "no address"
    status = "HTTP %d" % step.http_status if step.http_status else step.outcome
    said = " %s" % step.error_code if step.error_code else ""
    detail = ": %s" % step.message if step.message and step.outcome != registry_pull.SUCCESS else ""
    return "pull %s %s%s -> %s %s%s%s, %.0f ms" % (step.step, step.host, step.path or "", where, status, said, detail,
                                                  step.ms)


def pull_evidence(result: PullResult) -> List[str]:
    return ["image %s (%s): %s" % (result.image, result.source, result.outcome)] + [step_line(s) for s in result.steps]


def service_findings(ev, findings: List[Finding], node) -> List[Finding]:
    """The service's findings with the pull taken into account (ev: verdicts.ServiceEvidence)."""
    done = list(pulls(node))
    if not done:
        return findings
    if ev.id == "s3" and any(p.outcome == registry_pull.OK and any(s.step == LAYER for s in p.steps) for p in done):
        findings = [f for f in findings if f.code != "layer_bucket_unverified"]
    for result in done:
        step = result.failed_step
        if step is None or step.service != ev.id:
            continue
        explaining = [i for i, f in enumerate(findings) if f.code not in NOT_AN_EXPLANATION]
        if explaining:
            first = findings[explaining[0]]
            findings[explaining[0]] = replace(first, evidence=first.evidence + tuple(pull_evidence(result)))
            continue
        found = judge(result, step, ev, node)
        if found is not None:
            findings = [f for f in findings if f.code != "layer_bucket_unverified"] + [found]
    return findings


def unplaced(node, service_ids: Sequence[str]) -> List[Finding]:
    """Failed pulls whose failing step's service is not among this run's services: judged at node level."""
    found = []
    for result in pulls(node):
        step = result.failed_step
        if step is not None and step.service not in service_ids:
            finding = judge(result, step, None, node)
            if finding is not None:
                found.append(replace(finding, service=None))
    return found


def _node_explains(step: PullStep) -> bool:
    """A clock rejection and missing or rejected credentials are node findings of their own (clock_skew,
    no_credentials); a token step skipped without credentials is no_credentials'."""
    return step.outcome in (aws_call.CLOCK_SKEW, aws_call.SKIPPED, aws_call.NO_CREDENTIALS,
                            aws_call.INVALID_CREDENTIALS)


def judge(result: PullResult, step: PullStep, ev, node) -> Optional[Finding]:
    if _node_explains(step):
        return None
    evidence = pull_evidence(result)
    ref = registry_pull.parse_reference(result.image)
    repository = ref.repository if ref else result.image
    registry_account = ref.account if ref else "<REGISTRY-ACCOUNT-ID>"
    if step.step == LAYER and step.outcome in aws_call.DENIALS:
        return _layer_denied(result, step, ev, node, evidence)
    if step.step == LAYER and step.outcome in NO_PATH:
        return _layer_unreachable(result, step, ev, node, evidence)
    if step.service == "ecr.dkr" and step.outcome in aws_call.DENIALS:
        return _pull_denied(result, step, ev, node, evidence, repository, registry_account)
    if step.service == "ecr.dkr" and step.outcome == registry_pull.NOT_FOUND:
        return _finding(
            "image_not_found", WARNING, step.service,
            "image %s cannot be pulled: the registry answers %s (%s) for its %s" % (
                result.image, step.error_code or "HTTP 404", step.message or "not found", step.step.replace("_", " ")),
            pull_fix.image_not_found(node.where, repository, registry_account, ref.reference if ref else "<TAG>",
                                     step.error_code), evidence)
    return _finding(
        "image_pull_failed", WARNING, step.service,
        "image %s could not be pulled: its %s step through %s ended %s%s" % (
            result.image, step.step.replace("_", " "), step.host, step.outcome,
            " (%s)" % step.message if step.message else ""),
        pull_fix.pull_failed(node.where, step.step, step.service, repository, registry_account), evidence)


def _gateway(ev, node):
    """The S3 gateway endpoint on the node subnet's route table (else any), and the table; from the inventory."""
    inventory = node.inventory if node.inventory is not None and node.inventory.available else None
    if inventory is None or ev is None:
        return None, [], node.route_table
    endpoints = inventory.endpoints_for(ev.endpoint_service_name)
    table = node.route_table
    on_table = [e for e in endpoints if table is not None and (table.id in e.route_table_ids or table.routes_to(e.id))]
    return (on_table or endpoints or [None])[0], endpoints, table


def _layer_denied(result, step, ev, node, evidence) -> Finding:
    """S3 answers the layer bucket's presigned GET with its bare AccessDenied: through a gateway endpoint
    that is the endpoint's policy, unless the policy, read from the inventory, allows AWS's bucket."""
    endpoint, _, _ = _gateway(ev, node)
    resource = (ev.iam_resource if ev is not None else None) or "arn:aws:s3:::prod-%s-starport-layer-bucket/*" % (
        node.where.region)
    endpoint_id = endpoint.id if endpoint is not None else None
    verdict, why = (endpoint_policy.evaluate(endpoint.policy_document, LAYER_ACTION, resource, node.role_arn)
                    if endpoint is not None else (None, None))
    head = "image %s: the layer bucket %s answered the presigned layer request with 403 %s" % (
        result.image, step.host, step.error_code or "")
    if verdict == endpoint_policy.ALLOWED:
        message = ("%s, yet gateway endpoint %s's policy allows %s on %s (%s), so look elsewhere: another S3 gateway "
                   "endpoint or a firewall or proxy answering for S3 on this path, or an organization's policy"
                   % (head, endpoint_id, LAYER_ACTION, resource, why))
        remedy = access_fix.access_denied(node.where, "s3", LAYER_ACTION, endpoint_id, ev.endpoint_service_name,
                                          node.iam_role, ["the VPC endpoint policy",
                                                          "an organization's service control or resource control policy"])
        return _finding("layer_bucket_denied", CRITICAL, "s3", message, remedy, evidence)
    if verdict == endpoint_policy.DENIED:
        said = "gateway endpoint %s's policy does not allow it (%s)" % (endpoint_id, why)
    elif verdict is not None:
        said = "gateway endpoint %s's policy is the cause unless shown otherwise (%s)" % (endpoint_id, why)
    else:
        said = ("the S3 gateway endpoint's policy is the cause (S3 gives AWS's bucket the same bare AccessDenied for "
                "any policy; the endpoint's policy was not read from the inventory)")
    message = "%s: every image layer pull through it fails. %s; it must allow %s on %s" % (
        head, said[0].upper() + said[1:], LAYER_ACTION, resource)
    return _finding("layer_bucket_denied", CRITICAL, "s3", message,
                    access_fix.path_policy_statement(node.where, "s3", endpoint_id, LAYER_ACTION, resource,
                                                     ev.endpoint_service_name if ev is not None else None), evidence)


def _layer_unreachable(result, step, ev, node, evidence) -> Finding:
    endpoint, endpoints, table = _gateway(ev, node)
    on_table = endpoint is not None and table is not None and (
        table.id in endpoint.route_table_ids or table.routes_to(endpoint.id))
    message = ("image %s: the layer bucket %s at %s does not answer (%s): no S3 gateway endpoint routes this subnet's "
               "traffic to S3, so every layer download times out" % (result.image, step.host, step.address,
                                                                    step.message or step.outcome))
    if endpoint is not None and not on_table:
        remedy = fix.gateway_route_missing(node.where, "s3", endpoint.id, table.id if table is not None else None)
    else:
        service_name = ev.endpoint_service_name if ev is not None else "com.amazonaws.%s.s3" % node.where.region
        remedy = fix.endpoint_missing(node.where, "s3", service_name, "Gateway",
                                      route_table_id=table.id if table is not None else None)
    return _finding("layer_bucket_unreachable", CRITICAL, "s3", message, remedy, evidence)


def _pull_denied(result, step, ev, node, evidence, repository: str, registry_account: str) -> Finding:
    """The registry's DENIED says which policy when it can ("because no <type> allows")."""
    node_account = node.role_arn.split(":")[4] if node.role_arn and node.role_arn.count(":") >= 5 else None
    cross_account = node_account is not None and registry_account != node_account
    said = "the registry answers %s: %s" % (step.error_code or "HTTP %s" % step.http_status, step.message or "")
    inventory = node.inventory if node.inventory is not None and node.inventory.available else None
    endpoint = inventory.endpoint_for(ev.endpoint_service_name) if inventory is not None and ev is not None else None
    if step.denied_by == "VPC endpoint policy":
        cause = "the ecr.dkr endpoint's policy denies the pull"
        remedy = fix.policy_denied(node.where, "ecr.dkr", endpoint.id if endpoint else None, "ecr:BatchGetImage")
    elif step.denied_by == "resource-based policy" or (cross_account and step.denied_by is None):
        cause = "repository %s in account %s does not grant this node's role the pull%s" % (
            repository, registry_account, " (a cross-account pull)" if cross_account else "")
        remedy = pull_fix.repository_policy(node.where, repository, registry_account, node.role_arn)
    elif step.denied_by in ("identity-based policy", "permissions boundary", "session policy"):
        cause = "the node role's %s does not allow the pull" % step.denied_by
        remedy = pull_fix.identity_pull(node.where, node.iam_role)
    else:
        candidates = ["the VPC endpoint policy", "the node role's identity policies",
                      "an organization's service control or resource control policy"]
        cause = "the answer names no policy type: the candidates are %s, and the repository policy" % ", ".join(
            candidates)
        remedy = access_fix.access_denied(node.where, "ecr.dkr", "ecr:BatchGetImage", endpoint.id if endpoint else None,
                                          ev.endpoint_service_name if ev is not None else "", node.iam_role, candidates)
    return _finding("image_pull_denied", CRITICAL, "ecr.dkr",
                    "image %s cannot be pulled: %s (%s)" % (result.image, cause, said), remedy, evidence)
