"""Scenarios are data: what the simulated VPC has and breaks, and what vpce-doctor must
find there (`expect`: (code, service) pairs; None for node-level findings)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

DEFAULT_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "ssm", "ssmmessages", "ec2messages",
                    "eks-auth", "elasticloadbalancing", "kms")
INTERFACE = tuple(s for s in DEFAULT_SERVICES if s != "s3")
ALL_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "monitoring", "elasticloadbalancing", "autoscaling",
                "ssm", "ssmmessages", "ec2messages", "kms", "xray", "eks", "eks-auth", "elasticfilesystem",
                "aps-workspaces", "secretsmanager", "sqs")
OPTIONAL = ("logs", "ssm", "ssmmessages", "ec2messages", "eks-auth", "elasticloadbalancing", "kms")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    expect: Tuple[Tuple[str, Optional[str]], ...]
    expect_status: str
    region: str = "us-east-1"
    services: Tuple[str, ...] = DEFAULT_SERVICES
    endpoints: Tuple[str, ...] = INTERFACE  # interface endpoints that exist
    private_dns_off: Tuple[str, ...] = ()
    s3_gateway: bool = True
    eni_azs: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # default ("a", "b")
    sg_drop_443: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # service -> AZs whose ENI drops 443
    node_dns: str = "corporate"  # corporate (forwards to the VPC resolver) | vpc | public (does not forward)
    corporate_overrides: Dict[str, str] = field(default_factory=dict)  # service -> "public" | "nxdomain"
    vpc_resolver_down: bool = False
    policy_deny: Tuple[str, ...] = ()
    identity_deny: Tuple[str, ...] = ()
    untrusted_tls: Tuple[str, ...] = ()
    kubelet_env: Optional[Dict[str, str]] = None
    aws_clock_offset: float = 0.0  # AWS clock minus the node's clock, seconds
    imds: str = "v2"  # v2 | v1 | down
    cluster_endpoint: Optional[str] = None  # private | public
    demo: bool = False  # listed first by `vpce-doctor demo --list`


def _all(code: str, services) -> Tuple[Tuple[str, Optional[str]], ...]:
    return tuple((code, s) for s in services)


SCENARIOS = {s.name: s for s in [
    Scenario("healthy", "Every endpoint present, private DNS on, corporate DNS forwards: nothing to fix.",
             expect=(), expect_status="ok", cluster_endpoint="private", demo=True),
    # every catalogue service, each with its endpoint: `make bench` measures "healthy, 20 services" here
    Scenario("healthy-all", "Healthy, all 20 catalogue services with endpoints.",
             services=ALL_SERVICES, endpoints=tuple(s for s in ALL_SERVICES if s != "s3"),
             expect=(), expect_status="ok", cluster_endpoint="private"),
    Scenario("private-dns-off", "The classic: ECR endpoints exist but private DNS was left off, so image pulls "
             "go to public ECR addresses and time out.",
             private_dns_off=("ecr.api", "ecr.dkr"),
             expect=_all("private_dns_disabled", ("ecr.api", "ecr.dkr")), expect_status="critical", demo=True),
    Scenario("corporate-dns-not-forwarding", "The VPC uses a corporate DNS server that resolves AWS names on the "
             "internet instead of forwarding them to the VPC resolver.",
             node_dns="public", expect=_all("custom_dns_not_forwarding", INTERFACE), expect_status="critical", demo=True),
    Scenario("nothing-at-all", "A fresh isolated subnet: no endpoints, no S3 gateway.",
             endpoints=(), s3_gateway=False,
             expect=_all("endpoint_missing", DEFAULT_SERVICES), expect_status="critical", demo=True),
    Scenario("sg-drops-443", "The sts endpoint's security group has no 443 rule; one logs ENI is behind a NACL.",
             sg_drop_443={"sts": ("a", "b"), "logs": ("b",)},
             expect=(("port_blocked", "sts"), ("port_blocked", "logs")), expect_status="critical"),
    Scenario("policy-denied", "The ecr.api endpoint policy denies GetAuthorizationToken; the node role may not "
             "describe log groups.", policy_deny=("ecr.api",), identity_deny=("logs",),
             expect=(("policy_denied", "ecr.api"), ("iam_denied", "logs")), expect_status="critical"),
    Scenario("untrusted-tls", "Something with a certificate from another CA answers for sts (TLS inspection).",
             untrusted_tls=("sts",), expect=(("tls_failure", "sts"),), expect_status="critical"),
    Scenario("stale-records", "The corporate resolver has a stale public record for ec2 and an empty zone for "
             "the registry name.", corporate_overrides={"ec2": "public", "ecr.dkr": "nxdomain"},
             expect=(("custom_dns_not_forwarding", "ec2"), ("dns_record_missing", "ecr.dkr")), expect_status="critical"),
    Scenario("vpc-resolver-down", "The VPC resolver does not answer at all.", vpc_resolver_down=True,
             expect=_all("dns_failure", DEFAULT_SERVICES), expect_status="critical"),
    Scenario("az-missing", "The ecr.dkr endpoint has an ENI only in AZ b; the node is in AZ a.",
             eni_azs={"ecr.dkr": ("b",)}, expect=(("endpoint_az_missing", "ecr.dkr"),), expect_status="warn"),
    Scenario("s3-gateway-missing", "Interface endpoints are all there, but there is no S3 gateway endpoint: image "
             "layers cannot be fetched.", s3_gateway=False, expect=(("endpoint_missing", "s3"),),
             expect_status="critical"),
    Scenario("proxy-without-bypass", "kubelet runs with HTTPS_PROXY and a NO_PROXY that forgot the AWS domains.",
             kubelet_env={"HTTPS_PROXY": "http://proxy.corp.example:3128", "NO_PROXY": "localhost,127.0.0.1"},
             expect=(("proxy_bypass_missing", None),), expect_status="critical"),
    Scenario("clock-skew", "The node clock is 10 minutes behind AWS.", aws_clock_offset=600.0,
             expect=(("clock_skew", None),), expect_status="critical"),
    Scenario("imds-down", "IMDS answers nothing, so there are no instance credentials.", imds="down",
             expect=(("imds_unreachable", None), ("no_credentials", None)), expect_status="warn"),
    Scenario("imdsv1-only", "IMDS refuses the v2 token call but v1 answers: works, reported as v1.", imds="v1",
             expect=(), expect_status="ok"),
    Scenario("cluster-endpoint-public", "The EKS API server has public access only.", cluster_endpoint="public",
             expect=(("cluster_endpoint_unreachable", None),), expect_status="critical"),
    Scenario("cn-healthy", "Healthy, in the aws-cn partition (Ningxia).", region="cn-northwest-1",
             expect=(), expect_status="ok"),
    Scenario("cn-private-dns-off", "aws-cn: the sts endpoint has private DNS off.", region="cn-northwest-1",
             private_dns_off=("sts",), expect=(("private_dns_disabled", "sts"),), expect_status="critical"),
]}
