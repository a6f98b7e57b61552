"""Scenarios are data: what the simulated VPC has and breaks, and what vpce-doctor must
find there (`expect`: (code, service) pairs; None for node-level findings)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from .simulated_account import ACCOUNT

DEFAULT_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "ssm", "ssmmessages", "ec2messages",
                    "eks-auth", "elasticloadbalancing", "kms")
INTERFACE = tuple(s for s in DEFAULT_SERVICES if s != "s3")
ALL_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "s3", "sts", "logs", "monitoring", "elasticloadbalancing", "autoscaling",
                "ssm", "ssmmessages", "ec2messages", "kms", "xray", "eks", "eks-auth", "elasticfilesystem",
                "aps-workspaces", "secretsmanager", "sqs")
OPTIONAL = ("logs", "ssm", "ssmmessages", "ec2messages", "eks-auth", "elasticloadbalancing", "kms")


@dataclass(frozen=True)
class FakeProcess:
    """A process the scan takes for a node component: its argv (argv[0] is the name the scan sees)
    and environment, as that component's image and Helm chart would start it."""
    argv: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...] = ()


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
    # corporate (forwards to the VPC resolver) | vpc | public (does not forward) | hub (centralised DNS: the corporate
    # resolver forwards AWS names to the hub VPC's Resolver inbound endpoint; the hub's private zones for
    # `hub_services` are associated with the hub only, so the VPC resolver answers them public)
    node_dns: str = "corporate"
    corporate_overrides: Dict[str, str] = field(default_factory=dict)  # service -> "public" | "nxdomain"
    vpc_resolver_down: bool = False
    policy_deny: Tuple[str, ...] = ()
    # the endpoint policy denies the probe, and AWS's answer is an older wording that names no policy type
    policy_deny_unnamed: Tuple[str, ...] = ()
    org_deny: Tuple[str, ...] = ()  # an organization's SCP denies the probe's action
    identity_deny: Tuple[str, ...] = ()
    # the S3 gateway endpoint's policy: None (AWS's default, full access) or "own-buckets-only", the common
    # restrictive policy that forgets ECR's layer bucket
    s3_gateway_policy: Optional[str] = None
    untrusted_tls: Tuple[str, ...] = ()
    kubelet_env: Optional[Dict[str, str]] = None
    aws_clock_offset: float = 0.0  # AWS clock minus the node's clock, seconds
    imds: str = "v2"  # v2 | v1 | off (HttpEndpoint disabled: 403 to everything) | down
    cluster_endpoint: Optional[str] = None  # private | public
    # Centralised endpoints: a hub VPC holds these services' endpoints; a private zone shared with
    # this VPC answers their names with the hub's addresses, reached over a transit gateway.
    hub_services: Tuple[str, ...] = ()
    hub_unreachable: Tuple[str, ...] = ()  # hub services whose addresses do not take 443 from here
    # "tgw": the node subnet's route table sends the hub CIDR to the transit gateway; "flag": only a
    # default route goes there, and the operator names the hub CIDR with --endpoint-cidr
    hub_route: str = "tgw"
    secondary_cidr_endpoints: bool = False  # endpoint ENIs sit in the VPC's secondary CIDR block
    s3_gateway_on_node_table: bool = True  # False: the gateway endpoint is on another route table
    managed_policies_only: bool = False  # the node role holds only the AWS-managed node policies
    demo: bool = False  # listed first by `vpce-doctor demo --list`
    # --- configuration only preflight reads (moto state; the node-side servers ignore these) ---
    vpc_dns_support: bool = True
    vpc_dns_hostnames: bool = True
    endpoint_states: Dict[str, str] = field(default_factory=dict)  # service -> e.g. "pendingAcceptance"
    resolver_forward: Tuple[str, ...] = ()  # domains a Resolver FORWARD rule on the VPC sends to corporate DNS
    resolver_forward_to: str = "corporate"  # or "hub": the rule targets a hub VPC's Resolver inbound endpoint
    sg_443_from: Dict[str, str] = field(default_factory=dict)  # service -> the only CIDR its endpoint SG admits
    nacl_no_ephemeral: bool = False  # the node subnet's NACL lets 443 out but no ephemeral ports back
    policy_principal: Dict[str, str] = field(default_factory=dict)  # service -> the only principal its policy allows
    # service -> a private hosted zone on the VPC answers its name: "hub" (alias to another VPC's endpoint),
    # "vpc" (an A record inside the VPC) or "public" (an A record to a public address)
    private_zone_records: Dict[str, str] = field(default_factory=dict)
    # A private hosted zone on this VPC for a parent of the service names ("{region}.{dns_suffix}" or
    # "{dns_suffix}", the classic how-to), holding A records to this VPC's endpoints for `parent_zone_services`
    # only: Route 53 answers every other name under it NXDOMAIN
    parent_zone: str = ""
    parent_zone_services: Tuple[str, ...] = ()
    # seed-style: one private hosted zone per service name on this VPC, with an A record to the service's endpoint;
    # `empty_service_zones`: zones made for a service name and left without their record
    service_zones: Tuple[str, ...] = ()
    empty_service_zones: Tuple[str, ...] = ()
    # what preflight must find when it differs from `expect` read through CONFIG_DECIDED (preflight scenarios)
    expect_preflight: Optional[Tuple[Tuple[str, Optional[str]], ...]] = None
    # preflight's status when expect_preflight is given for a scenario the node check also runs
    # (expect_status is then the node's); default: expect_status
    expect_preflight_status: Optional[str] = None
    processes: Tuple[FakeProcess, ...] = ()  # node components that run (demo/components_side.py)
    pod_identity: Optional[str] = None  # up | down: whether the Pod Identity agent's address answers HTTP
    # images the node check pulls one byte of (--image; {account} and {region} filled in), and how the
    # registry answers their manifests: None (it serves them), "identity" (DENIED: the node role may not
    # read the repository), "name-unknown" (no such repository)
    pull_images: Tuple[str, ...] = ()
    registry_pull_deny: Optional[str] = None

    def images(self) -> Tuple[str, ...]:
        """The --image references, as the demo and the lab pass them."""
        return tuple(i.format(account=ACCOUNT, region=self.region) for i in self.pull_images)


# How the real components look to a process scan: Karpenter's image runs /ko-app/controller and its
# chart sets KARPENTER_SERVICE; the load balancer controller's runs /controller with --ingress-class.
KARPENTER = ("/ko-app/controller",)
KARPENTER_ENV = (("KARPENTER_SERVICE", "karpenter"), ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
                 # a secret in a component's environment, which no output may ever show
                 ("AWS_SECRET_ACCESS_KEY", "kArPeNtEr+EnViRoN+sEcReT+0123456789abcdefgh"))
LB_CONTROLLER = ("/controller", "--cluster-name=demo", "--ingress-class=alb")
POD_IDENTITY_AGENT = FakeProcess(("/eks-pod-identity-agent", "server", "--port", "80", "--cluster-name", "demo"))


def process_secrets(scenario: "Scenario"):
    """Values of the scenario's component environments that must never reach a report."""
    return [v for p in scenario.processes for k, v in p.env if "SECRET" in k or "TOKEN" in k]


# A private image of the node's own account, pulled end to end by the image pull probe (--image)
DEMO_IMAGE = "{account}.dkr.ecr.{region}.amazonaws.com/vpce-doctor/demo:v1"
PULL_SERVICES = ("ec2", "ecr.api", "ecr.dkr", "s3", "sts")


def _all(code: str, services) -> Tuple[Tuple[str, Optional[str]], ...]:
    return tuple((code, s) for s in services)


SCENARIOS = {s.name: s for s in [
    Scenario("healthy", "Every endpoint present, private DNS on, corporate DNS forwards: nothing to fix; an image "
             "pull fetches its first layer byte.",
             expect=(), expect_status="ok", cluster_endpoint="private", demo=True, pull_images=(DEMO_IMAGE,)),
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
    Scenario("policy-denied-unnamed", "The ec2 endpoint's policy allows only the VPC's network Describe calls, and "
             "EC2 denies DescribeInstances with its bare \"You are not authorized to perform this operation.\": the "
             "endpoint's own policy, read from the inventory, names the cause.",
             policy_deny_unnamed=("ec2",), expect=(("policy_denied", "ec2"),), expect_status="critical"),
    Scenario("scp-denied", "An organization's service control policy denies kms:ListKeys to the account: the path "
             "works, granting it to the node role would not help.", org_deny=("kms",),
             expect=(("org_policy_denied", "kms"),), expect_status="ok"),
    Scenario("layer-bucket-not-in-gateway-policy", "The S3 gateway endpoint's policy allows only the account's own "
             "buckets: S3 answers on the path, but every image layer pull gets 403 (AWS's layer bucket is left out).",
             s3_gateway_policy="own-buckets-only", expect=(("policy_denied", "s3"),), expect_status="critical",
             pull_images=(DEMO_IMAGE,)),
    # --- the image pull (checks/image_pull.py): one finding per root cause ---
    Scenario("pull-layer-bucket-denied", "The S3 gateway policy leaves out ECR's layer bucket and the node cannot read "
             "the inventory (managed node policies only): the image pull itself gets S3's bare 403 on the layer.",
             services=PULL_SERVICES, endpoints=("ec2", "ecr.api", "ecr.dkr", "sts"), managed_policies_only=True,
             s3_gateway_policy="own-buckets-only", pull_images=(DEMO_IMAGE,),
             expect=(("inventory_unavailable", None), ("layer_bucket_denied", "s3")), expect_status="critical",
             # preflight reads the gateway policy itself (tests/preflight): the same cause, named policy_denied
             expect_preflight=(("policy_denied", "s3"),)),
    Scenario("pull-gateway-off-route-table", "The S3 gateway endpoint is not on the node subnet's route table: the "
             "pull's layer download times out, which the S3 finding already explains.",
             services=PULL_SERVICES, endpoints=("ec2", "ecr.api", "ecr.dkr", "sts"), s3_gateway_on_node_table=False,
             pull_images=(DEMO_IMAGE,), expect=(("gateway_route_missing", "s3"),), expect_status="critical"),
    Scenario("pull-registry-endpoint-missing", "No ecr.dkr endpoint: the registry's name resolves to public addresses "
             "and the pull's manifest request times out, which endpoint_missing already explains.",
             services=PULL_SERVICES, endpoints=("ec2", "ecr.api", "sts"), pull_images=(DEMO_IMAGE,),
             expect=(("endpoint_missing", "ecr.dkr"),), expect_status="critical"),
    Scenario("pull-repository-denied", "Every path works, but the registry denies the node role the image's manifest "
             "(no identity-based policy allows ecr:BatchGetImage on that repository).",
             services=PULL_SERVICES, endpoints=("ec2", "ecr.api", "ecr.dkr", "sts"), pull_images=(DEMO_IMAGE,),
             registry_pull_deny="identity", expect=(("image_pull_denied", "ecr.dkr"),), expect_status="critical"),
    Scenario("pull-image-missing", "The registry has no such repository (NAME_UNKNOWN): a typo in the image name.",
             services=PULL_SERVICES, endpoints=("ec2", "ecr.api", "ecr.dkr", "sts"), pull_images=(DEMO_IMAGE,),
             registry_pull_deny="name-unknown", expect=(("image_not_found", "ecr.dkr"),), expect_status="warn"),
    Scenario("imds-off", "IMDS is turned off for the instance (HttpEndpoint disabled): 403 to everything.",
             imds="off", expect=(("imds_unreachable", None), ("no_credentials", None), ("layer_bucket_unverified", "s3")),
             expect_status="warn"),
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
             expect=(("clock_skew", None), ("layer_bucket_unverified", "s3")), expect_status="critical"),
    Scenario("imds-down", "IMDS answers nothing, so there are no instance credentials.", imds="down",
             expect=(("imds_unreachable", None), ("no_credentials", None), ("layer_bucket_unverified", "s3")),
             expect_status="warn"),
    Scenario("imdsv1-only", "IMDS refuses the v2 token call but v1 answers: works, reported as v1.", imds="v1",
             expect=(), expect_status="ok"),
    Scenario("cluster-endpoint-public", "The EKS API server has public access only.", cluster_endpoint="public",
             expect=(("cluster_endpoint_unreachable", None),), expect_status="critical"),
    Scenario("cn-healthy", "Healthy, in the aws-cn partition (Ningxia).", region="cn-northwest-1",
             expect=(), expect_status="ok"),
    Scenario("karpenter-no-pricing", "Karpenter runs in an isolated VPC without its isolated-VPC setting: it calls "
             "the pricing API, which has no VPC endpoint.", processes=(FakeProcess(KARPENTER, KARPENTER_ENV),),
             expect=(("no_privatelink_service", None),), expect_status="critical"),
    Scenario("karpenter-isolated-vpc", "Karpenter runs with settings.isolatedVPC=true: it never calls the pricing API.",
             processes=(FakeProcess(KARPENTER, KARPENTER_ENV + (("ISOLATED_VPC", "true"),)),),
             expect=(), expect_status="ok"),
    Scenario("lb-controller-wafv2-on", "The load balancer controller has Shield and WAF Classic turned off but "
             "WAFv2 still on, and WAFv2 is not reachable from the subnet.",
             processes=(FakeProcess(LB_CONTROLLER + ("--enable-shield=false", "--enable-waf=false")),),
             expect=(("no_privatelink_service", None),), expect_status="critical"),
    Scenario("sts-global-endpoint", "The VPC CNI (aws-node) runs with AWS_STS_REGIONAL_ENDPOINTS=legacy, so its IRSA "
             "calls go to sts.amazonaws.com, which has no private DNS; the regional sts endpoint is fine.",
             processes=(FakeProcess(("/app/aws-k8s-agent",), (("AWS_STS_REGIONAL_ENDPOINTS", "legacy"),)),),
             expect=(("sts_global_endpoint", None),), expect_status="critical"),
    Scenario("pod-identity-agent-down", "eks-pod-identity-agent runs but nothing answers on its link-local address.",
             processes=(POD_IDENTITY_AGENT,), pod_identity="down",
             expect=(("pod_identity_agent_unreachable", None),), expect_status="critical"),
    Scenario("pod-identity-agent-up", "eks-pod-identity-agent runs and answers on its link-local address.",
             processes=(POD_IDENTITY_AGENT,), pod_identity="up", expect=(), expect_status="ok"),
    Scenario("cn-private-dns-off", "aws-cn: the sts endpoint has private DNS off.", region="cn-northwest-1",
             private_dns_off=("sts",), expect=(("private_dns_disabled", "sts"),), expect_status="critical"),
    Scenario("hub-spoke", "Centralised endpoints: a hub VPC's endpoints answer through a shared private zone over "
             "a transit gateway. kms is missing from the hub; the hub's sts endpoint drops 443 from this VPC.",
             endpoints=(), hub_services=tuple(s for s in INTERFACE if s != "kms"), hub_unreachable=("sts",),
             expect=(("endpoint_missing", "kms"), ("port_blocked", "sts")), expect_status="critical",
             # sts's 443 is dropped by the hub endpoint's security group, in the hub VPC (often another
             # account): the spoke's configuration, all preflight reads, shows a routed hub address. kms
             # has no record in the shared zones, so its name answers public: endpoint_missing in both.
             expect_preflight=(("endpoint_missing", "kms"),), expect_preflight_status="warn"),
    Scenario("hub-spoke-healthy", "Centralised endpoints, all working: the spoke's route table only has a default "
             "route to the transit gateway, so the operator names the hub CIDR (--endpoint-cidr).",
             endpoints=(), hub_services=INTERFACE, hub_route="flag", expect=(), expect_status="ok"),
    Scenario("centralised-dns", "Centralised DNS: the hub VPC holds the endpoints and their private zones; the "
             "node's corporate resolver forwards AWS names to the hub's Resolver inbound endpoint. The VPC resolver "
             "answers public addresses (context, at info); the node's path works.",
             endpoints=(), hub_services=INTERFACE, node_dns="hub",
             expect=_all("vpc_resolver_differs", INTERFACE), expect_status="ok",
             # the spoke's configuration shows no endpoint and no zone: the DHCP options' DNS servers (what they
             # forward to, the hub) are outside what preflight reads, so it predicts what the VPC resolver says
             expect_preflight=_all("endpoint_missing", INTERFACE), expect_preflight_status="critical"),
    Scenario("region-zone-shadows-s3", "The classic how-to: one private hosted zone for us-east-1.amazonaws.com "
             "on the VPC, with records for the interface endpoints (private DNS off). Route 53 answers every other "
             "name under it NXDOMAIN: S3's (the image layer bucket) and kms's, which has no endpoint.",
             endpoints=tuple(s for s in INTERFACE if s != "kms"),
             private_dns_off=tuple(s for s in INTERFACE if s not in ("kms", "eks-auth")),
             parent_zone="{region}.{dns_suffix}",
             parent_zone_services=tuple(s for s in INTERFACE if s not in ("kms", "eks-auth")),
             expect=(("private_zone_shadows", "s3"), ("private_zone_shadows", "kms")), expect_status="critical",
             expect_preflight=(("private_zone_shadows", "s3"), ("private_zone_shadows", "kms"))),
    Scenario("per-service-zones", "Seed-style: one private hosted zone per service name, each with a record to the "
             "endpoint (private DNS off); kms's zone was created without its record.",
             private_dns_off=tuple(s for s in INTERFACE if s != "eks-auth"),
             service_zones=tuple(s for s in INTERFACE if s not in ("kms", "eks-auth")), empty_service_zones=("kms",),
             expect=(("dns_record_missing", "kms"),), expect_status="warn",
             expect_preflight=(("dns_record_missing", "kms"),)),
    Scenario("secondary-cidr", "The endpoint ENIs sit in the VPC's secondary CIDR block (IMDS lists both blocks).",
             secondary_cidr_endpoints=True, expect=(), expect_status="ok"),
    Scenario("s3-gateway-other-route-table", "The S3 gateway endpoint exists but only on the VPC's main route table; "
             "the node's subnet has its own table: image layer pulls time out.", s3_gateway_on_node_table=False,
             expect=(("gateway_route_missing", "s3"),), expect_status="critical"),
    Scenario("managed-policies", "The node role holds only the AWS-managed node policies: the inventory and some "
             "probe actions are denied (each API's real error), which proves the paths; nothing to fix. The gateway "
             "policy cannot be read, but the image pull reads a layer byte: no layer_bucket_unverified.",
             managed_policies_only=True, pull_images=(DEMO_IMAGE,),
             expect=(("inventory_unavailable", None), ("iam_denied", "logs"), ("iam_denied", "ssm"),
                     ("iam_denied", "elasticloadbalancing"), ("iam_denied", "kms")),
             expect_status="ok"),
    Scenario("cn-managed-policies", "aws-cn with only the managed node policies (no inventory, so the catalogue "
             "names the endpoint services): the logs and sts endpoints are missing.", region="cn-northwest-1",
             managed_policies_only=True, endpoints=tuple(s for s in INTERFACE if s not in ("logs", "sts")),
             expect=(("inventory_unavailable", None), ("endpoint_missing", "logs"), ("endpoint_missing", "sts"),
                     ("iam_denied", "ssm"), ("iam_denied", "elasticloadbalancing"), ("iam_denied", "kms"),
                     ("layer_bucket_unverified", "s3")),
             expect_status="critical"),
]}


# Configuration-only causes: a node there sees a symptom (timeouts, public answers), preflight
# names the cause. They live apart from SCENARIOS because the loopback World and the lab do
# not serve them (their node-side behaviour is not simulated); preflight runs them against moto.
NODE_ROLE_ARN = "arn:aws:iam::123456789012:role/eks-node-role"
PREFLIGHT_SCENARIOS = {s.name: s for s in [
    Scenario("dns-support-off", "The VPC has enableDnsSupport off: no endpoint's private DNS can work.",
             vpc_dns_support=False, expect=(), expect_status="critical",
             expect_preflight=_all("vpc_dns_disabled", INTERFACE)),
    Scenario("endpoint-pending-acceptance", "The sts endpoint waits in pendingAcceptance.",
             endpoint_states={"sts": "pendingAcceptance"}, expect=(), expect_status="critical",
             expect_preflight=(("endpoint_not_available", "sts"),)),
    Scenario("resolver-rule-amazonaws", "A Route 53 Resolver rule forwards amazonaws.com to the corporate DNS "
             "(eks-auth lives under api.aws; the S3 gateway needs no private DNS).",
             resolver_forward=("amazonaws.com",), expect=(), expect_status="critical",
             expect_preflight=tuple(("resolver_rule_overrides", s) for s in INTERFACE if s != "eks-auth")),
    Scenario("resolver-rule-to-hub", "Centralised DNS through Route 53 Resolver: a rule forwards amazonaws.com to "
             "the hub VPC's inbound endpoint and this VPC has no interface endpoints: the hub answers, which "
             "preflight cannot see (said, not a finding).", services=("ec2", "ecr.api", "ecr.dkr", "s3", "sts"),
             endpoints=(), resolver_forward=("amazonaws.com",), resolver_forward_to="hub", expect=(),
             expect_status="ok", expect_preflight=()),
    Scenario("sg-not-from-node-subnet", "The ecr.api endpoint's security group admits 443 only from another "
             "subnet.", sg_443_from={"ecr.api": "127.10.3.0/24"}, expect=(), expect_status="critical",
             expect_preflight=(("port_blocked", "ecr.api"),)),
    Scenario("nacl-no-ephemeral", "The node subnet's NACL lets 443 out but not the ephemeral ports back.",
             nacl_no_ephemeral=True, expect=(), expect_status="critical",
             expect_preflight=_all("port_blocked", DEFAULT_SERVICES)),
    Scenario("policy-not-node-role", "The ecr.dkr endpoint policy allows another role only.",
             policy_principal={"ecr.dkr": "arn:aws:iam::123456789012:role/some-other-role"}, expect=(),
             expect_status="critical", expect_preflight=(("policy_denied", "ecr.dkr"),)),
    Scenario("private-zones", "Private hosted zones answer three names: sts (no endpoint here) as an alias to a "
             "hub VPC's endpoint, ecr.api (private DNS off) inside the VPC, kms (no endpoint) with a stale public "
             "address.", endpoints=tuple(s for s in INTERFACE if s not in ("sts", "kms")),
             private_dns_off=("ecr.api",), private_zone_records={"sts": "hub", "ecr.api": "vpc", "kms": "public"},
             expect=(), expect_status="warn", expect_preflight=(("endpoint_missing", "kms"),)),
]}
