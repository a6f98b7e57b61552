"""The image pull's verdicts (checks/verdicts_pull.py): one row per case, judged with the service's own
findings, so that one root cause gives one finding."""
import pytest

from vpce_doctor.checks import verdicts, verdicts_pull
from vpce_doctor.checks.image_pull import ImagePullEvidence
from vpce_doctor.checks.probes import aws_call, registry_pull
from vpce_doctor.checks.probes.registry_pull import PullResult, PullStep
from vpce_doctor.checks.probes.route_table import Route

from .evidence import (DENIED, NO_INVENTORY, allow, api, endpoint, gateway, inside, inventory, node, policy, public,
                       route_table, service, tls)

IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"
REGISTRY = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
LAYER_HOST = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
LAYERS = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"
ROLE = "arn:aws:iam::111122223333:role/node"
TIMEOUT = dict(ok=False, phase="connect", kind="timeout", error="TCP connect timed out")


def step(name, outcome="success", status=200, **kw):
    host = {"token": "api.ecr.us-east-1.amazonaws.com", "layer": LAYER_HOST}.get(name, REGISTRY)
    return PullStep(name, registry_pull.STEP_SERVICE[name], outcome, host, "10.0.1.20:443", "vpc", status, **kw)


OK_STEPS = (step("token"), step("manifest"), step("blob", status=307), step("layer", status=206))


def pulled(*steps, outcome=None):
    failed = steps and steps[-1].outcome != "success"
    return ImagePullEvidence((PullResult(IMAGE, "--image", outcome or ("failed" if failed else "ok"), tuple(steps)),))


def layer_denied():
    return pulled(*OK_STEPS[:3], step("layer", aws_call.ACCESS_DENIED, 403, error_code="AccessDenied",
                                      message="Access Denied"))


def layer_timeout():
    return pulled(*OK_STEPS[:3], step("layer", aws_call.TIMEOUT, None, message="connect timed out after 3.0s"))


def manifest(outcome, status, code, message, denied_by=None):
    return pulled(step("token"), step("manifest", outcome, status, error_code=code, message=message,
                                      denied_by=denied_by))


def s3(**kw):
    """The layer bucket's bare 403 to the unsigned path-only probe, through the gateway on the node's table."""
    values = dict(id="s3", endpoint_type="Gateway", hostname=LAYER_HOST, name="com.amazonaws.us-east-1.s3",
                  vpc=public("vpc", LAYER_HOST), node=[public("node", LAYER_HOST)], tls_results=[tls("203.0.113.10")],
                  api_result=api(aws_call.REACHED, "AccessDenied", "HTTP 403 AccessDenied", operation="GetLayerBucket"),
                  iam_action="s3:GetObject", iam_resource=LAYERS)
    values.update(kw)
    return service(**values)


def dkr(**kw):
    values = dict(id="ecr.dkr", name="com.amazonaws.us-east-1.ecr.dkr", hostname=REGISTRY,
                  vpc=inside("vpc", REGISTRY), node=[inside("node", REGISTRY)],
                  api_result=api(aws_call.REACHED, None, "HTTP 401", operation="GetRegistryBase"), iam_action=None)
    values.update(kw)
    return service(**values)


def on_table(gw):
    return inventory(gw, table=route_table(Route(None, "pl-63a5400a", "vpc-endpoint", "vpce-0gw", "active")))


OWN_BUCKETS = policy(allow("s3:*", ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"]))

PULL_ROWS = [
    # (name, service evidence, node evidence, expected [(code, severity)] for that service)
    ("healthy pull clears layer_bucket_unverified", s3(), node(NO_INVENTORY, image_pull=pulled(*OK_STEPS)), []),
    ("no pull: the unsigned probe cannot tell", s3(), node(NO_INVENTORY), [("layer_bucket_unverified", "info")]),
    ("layer 403, no inventory: the gateway policy", s3(), node(NO_INVENTORY, image_pull=layer_denied()),
     [("layer_bucket_denied", "critical")]),
    ("layer 403, the inventory's policy denies: policy_denied keeps the pull as evidence",
     s3(), node(on_table(gateway(policy_document=OWN_BUCKETS)), role_arn=ROLE, image_pull=layer_denied()),
     [("policy_denied", "critical")]),
    ("layer 403, the policy allows it: look elsewhere", s3(),
     node(on_table(gateway(policy_document=policy(allow("s3:GetObject", LAYERS)))), role_arn=ROLE,
          image_pull=layer_denied()), [("layer_bucket_denied", "critical")]),
    ("layer timeout, gateway off the node's table: gateway_route_missing explains it",
     s3(tls_results=[tls("203.0.113.10", **TIMEOUT)]),
     node(inventory(gateway(route_tables=("rtb-main",)), table=route_table(id="rtb-node")), image_pull=layer_timeout()),
     [("gateway_route_missing", "critical")]),
    ("layer timeout, nothing else says so: the route", s3(), node(NO_INVENTORY, image_pull=layer_timeout()),
     [("layer_bucket_unreachable", "critical")]),
    ("manifest denied by the node role's identity", dkr(),
     node(image_pull=manifest(aws_call.IAM_DENIED, 403, "DENIED", "... because no identity-based policy allows the "
                              "ecr:BatchGetImage action", "identity-based policy")),
     [("image_pull_denied", "critical")]),
    ("manifest denied by the repository policy", dkr(),
     node(image_pull=manifest(aws_call.ACCESS_DENIED, 403, "DENIED", "... because no resource-based policy allows "
                              "the ecr:BatchGetImage action", "resource-based policy")),
     [("image_pull_denied", "critical")]),
    ("manifest unknown", dkr(), node(image_pull=manifest(registry_pull.NOT_FOUND, 404, "MANIFEST_UNKNOWN", "no tag")),
     [("image_not_found", "warning")]),
    ("registry endpoint missing explains the manifest timeout",
     dkr(vpc=public("vpc", REGISTRY), node=[public("node", REGISTRY)]),
     node(inventory(), image_pull=manifest(aws_call.TIMEOUT, None, None, "connect timed out")),
     [("endpoint_missing", "critical")]),
    ("a 5xx from the registry nothing else explains", dkr(),
     node(image_pull=manifest(aws_call.SERVER_ERROR, 500, None, "HTTP 500")), [("image_pull_failed", "warning")]),
    ("a clock rejection is clock_skew's, not the pull's", dkr(),
     node(image_pull=manifest(aws_call.CLOCK_SKEW, 403, "RequestTimeTooSkewed", "skewed")), []),
    ("the token step's failure on ecr.dkr's row is not ecr.dkr's", dkr(),
     node(image_pull=pulled(step("token", aws_call.TIMEOUT, None))), []),
]


@pytest.mark.parametrize("name,ev,node_ev,expected", PULL_ROWS, ids=[r[0] for r in PULL_ROWS])
def test_pull_rules(name, ev, node_ev, expected):
    findings = verdicts_pull.service_findings(ev, verdicts.service_findings(ev, node_ev), node_ev)
    assert [(f.code, f.severity) for f in findings] == expected
    assert all(f.service == ev.id for f in findings)
    failed = node_ev.image_pull.pulls[0].failed_step if node_ev.image_pull else None
    if findings and failed is not None and failed.service == ev.id:
        # the root cause carries the pull's steps as its evidence
        assert any(e.startswith("pull %s " % failed.step) for e in findings[0].evidence)


def test_the_layer_denial_names_the_statement_to_add_and_what_the_policy_says():
    denied = verdicts_pull.service_findings(s3(), [], node(NO_INVENTORY, image_pull=layer_denied()))[0]
    assert "s3:GetObject" in denied.remediation.text and LAYERS in denied.remediation.text
    assert "modify-vpc-endpoint" in " ".join(denied.remediation.commands)
    allowed_node = node(on_table(gateway(policy_document=policy(allow("s3:GetObject", LAYERS)))), role_arn=ROLE,
                        image_pull=layer_denied())
    allowed = verdicts_pull.service_findings(s3(), [], allowed_node)[0]
    assert "allows s3:GetObject" in allowed.message and "look elsewhere" in allowed.message


def test_a_cross_account_denial_names_the_repository_policy():
    ev = node(role_arn="arn:aws:iam::999988887777:role/node",
              image_pull=manifest(aws_call.ACCESS_DENIED, 403, "DENIED", "not authorized", None))
    found = verdicts_pull.service_findings(dkr(), [], ev)[0]
    assert found.code == "image_pull_denied" and "cross-account" in found.message
    assert "set-repository-policy" in " ".join(found.remediation.commands)
    assert "--registry-id 111122223333" in " ".join(found.remediation.commands)


def test_a_failure_on_a_service_this_run_does_not_check_is_judged_at_node_level():
    ev = node(NO_INVENTORY, image_pull=layer_denied())
    assert [(f.code, f.service) for f in verdicts_pull.unplaced(ev, ["ecr.api", "ecr.dkr"])] == \
        [("layer_bucket_denied", None)]
    assert verdicts_pull.unplaced(ev, ["ecr.api", "ecr.dkr", "s3"]) == []


def test_an_inventory_denied_node_still_gets_the_pull_verdict():
    findings = verdicts_pull.service_findings(s3(), verdicts.service_findings(s3(), node(DENIED)),
                                              node(DENIED, image_pull=layer_denied()))
    assert [f.code for f in findings] == ["layer_bucket_denied"]


def test_an_endpoint_policy_denial_names_the_registry_endpoint():
    ev = node(inventory(endpoint(service="com.amazonaws.us-east-1.ecr.dkr")),
              image_pull=manifest(aws_call.POLICY_DENIED, 403, "DENIED", "because no VPC endpoint policy allows",
                                  "VPC endpoint policy"))
    found = verdicts_pull.service_findings(dkr(), [], ev)[0]
    assert found.code == "image_pull_denied" and "vpce-0123" in " ".join(found.remediation.commands)
