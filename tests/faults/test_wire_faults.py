"""Real AWS answers, from the wire corpus (each with its public source), served by a loopback
endpoint with a verified certificate to the probe they belong to, through the real command line:
each case, the API outcome, the findings and the service's status a support engineer should read."""
import pytest

from .conftest import run_api_case
from .hostile import RawServer, imds_responder, wire_answer

pytestmark = pytest.mark.integration

ROLE = "arn:aws:sts::111122223333:assumed-role/node-role/i-0fa17"


def always(entry_id, **values):
    return lambda request, index: wire_answer(entry_id, **values)


# case -> (responder, service, API outcome, finding codes, service status)
CASES = {
    # path-only probes: any answer after a verified handshake proves the path, and nothing more
    "registry 401, text/plain as ECR sends it": (always("registry/v2-unauthenticated", account="111122223333",
                                                        region="us-east-1"), "ecr.dkr", "reached", [], "ok"),
    "layer bucket: S3's bare AccessDenied proves the path, not the gateway policy": (
        always("s3/access-denied-bare"), "s3", "reached", ["layer_bucket_unverified"], "ok"),
    "ssmmessages root: missing authentication token": (always("frontend/missing-auth-token-json"), "ssmmessages",
                                                       "reached", [], "ok"),
    "ec2messages root: a bare <UnknownOperationException/>": (always("frontend/unknown-operation-xml"), "ec2messages",
                                                              "reached", [], "ok"),
    "eks-auth root: unknown operation (JSON)": (always("frontend/unknown-operation-json"), "eks-auth", "reached", [],
                                                "ok"),
    "registry denial in the endpoint policy's words": (always(
        "registry/manifest-denied-endpoint-policy", account="111122223333", region="us-east-1", role_arn=ROLE,
        repository="app"), "ecr.dkr", "policy_denied", ["policy_denied"], "critical"),
    # denials, by the policy AWS names
    "GetCallerIdentity 403 in identity words: never the identity policy": (always(
        "query/identity-denied", role_arn=ROLE, action="sts:GetCallerIdentity", resource="*"), "sts", "iam_denied",
        ["access_denied"], "warn"),
    "EC2's bare 'You are not authorized to perform this operation.'": (
        always("ec2/denied-bare"), "ec2", "access_denied", ["access_denied"], "warn"),
    "EC2 endpoint policy, explicit deny": (always("ec2/endpoint-denied-explicit", role_arn=ROLE,
                                                  action="ec2:DescribeInstances", resource="*"),
                                           "ec2", "policy_denied", ["policy_denied"], "critical"),
    "query endpoint policy, no statement allows": (always("query/endpoint-denied-implicit", role_arn=ROLE,
                                                          action="sts:GetCallerIdentity", resource="*"),
                                                   "sts", "policy_denied", ["policy_denied"], "critical"),
    "JSON identity denial": (always("json/identity-denied-json11", role_arn=ROLE, action="logs:DescribeLogGroups",
                                    resource="*"), "logs", "iam_denied", ["iam_denied"], "ok"),
    "SCP explicit deny (JSON)": (always("json/scp-denied-explicit", role_arn=ROLE, action="logs:DescribeLogGroups",
                                        resource="*"), "logs", "org_denied", ["org_policy_denied"], "ok"),
    "RCP explicit deny (JSON)": (always("json/rcp-denied-explicit", role_arn=ROLE, action="kms:ListKeys",
                                        resource="*"), "kms", "org_denied", ["org_policy_denied"], "ok"),
    "SCP deny with the policy's ARN appended (query)": (always(
        "query/scp-denied-explicit-with-policy-arn", role_arn=ROLE, action="elasticloadbalancing:DescribeLoadBalancers",
        resource="*", policy_arn="arn:aws:organizations::111122223333:policy/o-a1/service_control_policy/p-b2"),
        "elasticloadbalancing", "org_denied", ["org_policy_denied"], "ok"),
    "EKS denial naming no policy type (rest-json)": (always("rest-json/eks-identity-denied", role_arn=ROLE,
                                                            account="111122223333", region="us-east-1"),
                                                     "eks", "access_denied", ["access_denied"], "warn"),
    # the clock
    "EC2 AuthFailure with AWS's Date 10 minutes ahead": (
        lambda request, index: wire_answer("ec2/auth-failure", date_offset=600), "ec2", "clock_skew", ["clock_skew"],
        "ok"),
    "EC2 AuthFailure with the clocks agreeing: the credentials": (always("ec2/auth-failure"), "ec2",
                                                                  "invalid_credentials", ["no_credentials"], "ok"),
    "EC2 RequestExpired": (lambda request, index: wire_answer("ec2/request-expired", date_offset=-1200,
                                                              request_time_iso="2026-12-03T11:40:00Z"),
                           "ec2", "clock_skew", ["clock_skew"], "ok"),
    "JSON 'Signature not yet current'": (always("json/signature-not-yet-current", request_time="20261203T121000Z",
                                                server_time="20261203T115500Z",
                                                server_time_plus_skew="20261203T120000Z"),
                                         "logs", "clock_skew", ["clock_skew"], "ok"),
    # throttling: botocore's standard retry list, and the query error code a JSON answer carries in a header
    "LimitExceededException": (always("json/limitexceededexception", message="Rate exceeded"), "logs", "throttled",
                               [], "unknown"),
    "ProvisionedThroughputExceededException": (always("json/provisioned-throughput-exceeded"), "logs", "throttled",
                                               [], "unknown"),
    "EC2ThrottledException (503)": (always("ec2/ec2-throttled-exception"), "ec2", "throttled", [], "unknown"),
    "BandwidthLimitExceeded (509)": (always("query/bandwidth-limit-exceeded"), "sts", "throttled", [], "unknown"),
    "query-compatible JSON throttle (x-amzn-query-error)": (always("json/query-compatible-throttle"), "sqs",
                                                            "throttled", [], "unknown"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_aws_answer(case, node, servers, good_tls):
    run_api_case(node, servers, good_tls, *CASES[case])


def test_imds_turned_off_is_named(node, servers):
    """HttpEndpoint disabled: IMDS answers 403 to the token call and to IMDSv1 (EC2 User Guide)."""
    def off(request, index):
        return wire_answer("imds/403-forbidden-or-off")

    imds = servers(RawServer("127.77.0.253", off))
    node.imds_url = "http://127.77.0.253:%d" % imds.port
    outcome = node.run()
    [finding] = [f for f in outcome.report["findings"] if f["code"] == "imds_unreachable"]
    assert "turned off" in finding["message"] and "--http-endpoint enabled" in " ".join(
        finding["remediation"]["commands"])
    assert outcome.report["node"]["imds"]["turned_off"] is True


def test_imdsv2_required_is_not_called_turned_off(node, servers):
    """A refused token call with IMDSv1 answering 401 is IMDS refusing, not IMDS off."""
    imds = servers(RawServer("127.77.0.252", imds_responder({}, token_status=403)))
    node.imds_url = "http://127.77.0.252:%d" % imds.port
    outcome = node.run()
    [finding] = [f for f in outcome.report["findings"] if f["code"] == "imds_unreachable"]
    assert "turned off" not in finding["message"] and "IMDSv1 is off (HTTP 401)" in finding["message"]
