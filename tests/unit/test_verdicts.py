"""The verdict table: one row per finding code, plus the healthy and trap cases."""
import pytest

from vpce_doctor.checks import verdicts
from vpce_doctor.checks.probes import aws_call

from .evidence import (NO_INVENTORY, api, dns, endpoint, inside, inventory, node, public, service, tls)

S3_HOST = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
TIMEOUT = dict(ok=False, phase="connect", kind="timeout", error="TCP connect timed out")

SERVICE_ROWS = [
    # (name, service evidence, node evidence, expected [(code, severity)])
    ("healthy", service(), node(), []),
    ("endpoint missing, required", service(vpc=public("vpc"), node=[public("node")],
                                           tls_results=[tls("203.0.113.10", **TIMEOUT)]),
     node(inventory()), [("endpoint_missing", "critical")]),
    ("endpoint missing, optional", service(vpc=public("vpc"), node=[public("node")], required=False),
     node(inventory()), [("endpoint_missing", "warning")]),
    ("endpoint missing, no inventory", service(vpc=public("vpc"), node=[public("node")]), node(NO_INVENTORY),
     [("endpoint_missing", "critical")]),
    ("private DNS off", service(vpc=public("vpc"), node=[public("node")]), node(inventory(endpoint(private_dns=False))),
     [("private_dns_disabled", "critical")]),
    ("custom DNS not forwarding", service(node=[public("node")]), node(), [("custom_dns_not_forwarding", "critical")]),
    ("record missing", service(node=[dns("node", status="nxdomain")]), node(), [("dns_record_missing", "critical")]),
    ("record missing (NODATA)", service(node=[dns("node", status="nodata")]), node(), [("dns_record_missing", "critical")]),
    ("VPC resolver timeout", service(vpc=dns("vpc", status="timeout")), node(), [("dns_failure", "critical")]),
    ("node resolver SERVFAIL", service(node=[dns("node", status="servfail")]), node(), [("dns_failure", "critical")]),
    ("443 blocked everywhere", service(tls_results=[tls(**TIMEOUT), tls("10.0.2.20", **TIMEOUT)],
                                      api_result=api(aws_call.TIMEOUT)), node(), [("port_blocked", "critical")]),
    ("443 blocked in one AZ", service(tls_results=[tls(), tls("10.0.2.20", **TIMEOUT)]), node(),
     [("port_blocked", "warning")]),
    ("TLS verify fails", service(tls_results=[tls(ok=False, phase="verify", kind="certificate", error="bad CA")]),
     node(), [("tls_failure", "critical")]),
    ("endpoint policy denies", service(api_result=api(aws_call.POLICY_DENIED, "AccessDenied", "no VPC endpoint policy")),
     node(), [("policy_denied", "critical")]),
    ("identity policy denies", service(api_result=api(aws_call.IAM_DENIED, "AccessDenied", "identity")), node(),
     [("iam_denied", "warning")]),
    ("no ENI in the node's AZ", service(), node(inventory(endpoint(azs=("us-east-1b",)))),
     [("endpoint_az_missing", "warning")]),
    ("S3 gateway: public answers are right", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST,
                                                     name="com.amazonaws.us-east-1.s3",
                                                     vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)],
                                                     tls_results=[tls("203.0.113.10")]), node(), []),
    ("S3 gateway missing", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                                   vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)],
                                   tls_results=[tls("203.0.113.10", **TIMEOUT)]), node(), [("endpoint_missing", "critical")]),
    ("aws-cn: cn.com.amazonaws endpoint name matches", service(vpc=public("vpc"), node=[public("node")],
                                                               name="cn.com.amazonaws.cn-north-1.ec2"),
     node(inventory(endpoint(service="cn.com.amazonaws.cn-north-1.ec2", private_dns=False))),
     [("private_dns_disabled", "critical")]),
    ("aws-cn: healthy", service(name="cn.com.amazonaws.cn-north-1.ec2"),
     node(inventory(endpoint(service="cn.com.amazonaws.cn-north-1.ec2"))), []),
    ("node resolver is the VPC resolver", service(node=[]), node(), []),
    ("DNS check crashed: not judged", service(), node(), []),
]


@pytest.mark.parametrize("name,evidence,node_evidence,expected", SERVICE_ROWS, ids=[r[0] for r in SERVICE_ROWS])
def test_service_rules(name, evidence, node_evidence, expected):
    if name.startswith("DNS check crashed"):
        evidence = evidence.__class__(**dict(evidence.__dict__, dns=None))
    findings = verdicts.service_findings(evidence, node_evidence)
    assert [(f.code, f.severity) for f in findings] == expected
    for f in findings:
        assert f.service == evidence.id and f.message and f.remediation.text


def test_one_root_cause_keeps_its_symptoms_as_evidence():
    evidence = service(vpc=public("vpc"), node=[public("node")],
                       tls_results=[tls("203.0.113.10", **TIMEOUT)], api_result=api(aws_call.TIMEOUT, message="connect timed out"))
    [finding] = verdicts.service_findings(evidence, node(inventory(endpoint(private_dns=False))))
    assert finding.code == "private_dns_disabled"
    assert any("tls 203.0.113.10" in e for e in finding.evidence)
    assert any(e.startswith("api DescribeAvailabilityZones") for e in finding.evidence)
    assert "--vpc-endpoint-id vpce-0123 --private-dns-enabled" in finding.remediation.commands[0]


def test_remediation_is_filled_with_node_facts():
    [finding] = verdicts.service_findings(service(vpc=public("vpc"), node=[public("node")]), node(inventory()))
    commands = "\n".join(finding.remediation.commands)
    assert "--vpc-id vpc-0abc" in commands and "--subnet-ids subnet-0a" in commands
    assert "--service-name com.amazonaws.us-east-1.ec2" in commands and "--cidr 10.0.0.0/16" in commands


def test_custom_dns_fix_names_the_endpoint_alias_target():
    [finding] = verdicts.service_findings(service(node=[public("node")]), node())
    assert "vpce-0123-abcd.ec2.us-east-1.vpce.amazonaws.com" in finding.remediation.commands[1]
    assert "10.0.0.2" in finding.remediation.text  # the VPC+2 resolver a forwarder should use


NODE_ROWS = [
    ("healthy", dict(imds={"reachable": True}, credentials={"present": True}, api_results=[api(skew=1.0)]), []),
    ("clock skew from Date headers", dict(api_results=[api(skew=-600.0)]), ["clock_skew"]),
    ("skew within tolerance", dict(api_results=[api(skew=30.0)]), []),
    ("clock skew from a rejected signature", dict(api_results=[api(aws_call.CLOCK_SKEW, "SignatureDoesNotMatch")]),
     ["clock_skew"]),
    ("no credentials", dict(credentials={"present": False}), ["no_credentials"]),
    ("invalid credentials", dict(credentials={"present": True},
                                 api_results=[api(aws_call.INVALID_CREDENTIALS, "InvalidClientTokenId")]), ["no_credentials"]),
    ("IMDS unreachable", dict(imds={"reachable": False, "endpoint": "http://169.254.169.254", "error": "timeout"}),
     ["imds_unreachable"]),
    ("proxy without bypass", dict(proxy=[{"component": "kubelet", "https_proxy": "http://p:3128", "no_proxy": "localhost",
                                          "missing": [".amazonaws.com"]}]), ["proxy_bypass_missing"]),
    ("proxy with bypass", dict(proxy=[{"component": "kubelet", "https_proxy": "http://p:3128", "missing": []}]), []),
    ("cluster endpoint public", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                              "dns": public("node", "x.eks"), "tls": []}),
     ["cluster_endpoint_unreachable"]),
    ("cluster endpoint no TLS", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                             "dns": inside("node", "x.eks"), "tls": [tls(**TIMEOUT)]}),
     ["cluster_endpoint_unreachable"]),
    ("cluster endpoint fine", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                           "dns": inside("node", "x.eks"), "tls": [tls()]}), []),
]


@pytest.mark.parametrize("name,fields,expected", NODE_ROWS, ids=[r[0] for r in NODE_ROWS])
def test_node_rules(name, fields, expected):
    findings = verdicts.node_findings(node(**fields))
    assert [f.code for f in findings] == expected
    assert all(f.service is None and f.severity in ("critical", "warning") for f in findings)


def test_every_code_has_a_row():
    covered = {c for _, _, _, exp in SERVICE_ROWS for c, _ in exp} | {c for _, _, exp in NODE_ROWS for c in exp}
    assert covered == set(verdicts.CODES)


CLASSIFY = [
    (200, None, "", None, aws_call.SUCCESS),
    (401, None, "", [200, 401], aws_call.SUCCESS),
    (403, "AccessDenied", "Access Denied", [200, 403], aws_call.SUCCESS),
    (403, "AccessDeniedException", "... because no VPC endpoint policy allows the ecr:X action", None, aws_call.POLICY_DENIED),
    (403, "UnauthorizedOperation", "... with an explicit deny in a VPC endpoint policy", None, aws_call.POLICY_DENIED),
    (403, None, "denied because no VPC endpoint policy allows it", "any", aws_call.POLICY_DENIED),
    (403, "AccessDenied", "no identity-based policy allows", None, aws_call.IAM_DENIED),
    (400, "com.amazon.coral.service#AccessDeniedException", "not authorized", None, aws_call.IAM_DENIED),
    (403, "RequestTimeTooSkewed", "", None, aws_call.CLOCK_SKEW),
    (403, "SignatureDoesNotMatch", "Signature expired: 20261124T000000Z is now earlier than", None, aws_call.CLOCK_SKEW),
    (400, "InvalidClientTokenId", "The security token included in the request is invalid", None,
     aws_call.INVALID_CREDENTIALS),
    (500, "InternalError", "", None, aws_call.SERVER_ERROR),
]


@pytest.mark.parametrize("status,code,message,expect,outcome", CLASSIFY)
def test_api_outcome_classification(status, code, message, expect, outcome):
    assert aws_call.classify(status, code, message, expect) == outcome
