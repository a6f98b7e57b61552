"""Verdict rows for what running components need: APIs with no VPC endpoint, the global STS
endpoint, the Pod Identity agent. The rows join test_verdicts.NODE_ROWS (every code has one)."""
import pytest

from vpce_doctor.checks import no_privatelink, sts_global
from vpce_doctor.checks import verdicts

from .evidence import dns, inside, node, public, tls

PRICING = "api.pricing.us-east-1.amazonaws.com"
TIMEOUT = dict(ok=False, phase="connect", kind="timeout", error="TCP connect timed out after 1.0s")


def probe(hostname, vpc, tls_results):
    return {"hostname": hostname, "vpc_dns": vpc, "node_dns": None, "tls": tls_results,
            "resolves_in_vpc": vpc.any_in_vpc, "connects": any(t.ok for t in tls_results)}


def pricing(probe_=None, disabled_by=None):
    entry = {"id": "karpenter-pricing", "api": "AWS Price List (pricing) API", "component": "karpenter", "pid": 42,
             "hostname": PRICING, "source": "karpenter docs", "disabled_by": disabled_by}
    if probe_ is not None:
        entry["probe"] = probe_
    return [entry]


PUBLIC_TIMEOUT = probe(PRICING, public("vpc", PRICING), [tls("203.0.113.10", **TIMEOUT)])
PUBLIC_OK = probe(PRICING, public("vpc", PRICING), [tls("203.0.113.10")])
PRIVATE_OK = probe(PRICING, inside("vpc", PRICING), [tls()])
NO_NAME = probe(PRICING, dns("vpc", status="nxdomain", hostname=PRICING), [])
STS_DOWN = probe("sts.amazonaws.com", public("vpc", "sts.amazonaws.com"), [tls("203.0.113.10", **TIMEOUT)])
STS_OK = probe("sts.amazonaws.com", public("vpc", "sts.amazonaws.com"), [tls("203.0.113.10")])
LEGACY = [{"component": "aws-node", "pid": 7, "setting": "AWS_STS_REGIONAL_ENDPOINTS=legacy"}]


def agent(*probes):
    return {"running": True, "pid": 9, "probes": list(probes)}


REFUSED = {"url": "http://169.254.170.23", "address": "169.254.170.23", "port": 80, "bound_on": "pod-id-link0",
           "up": False, "error_kind": "refused", "error": "Connection refused"}
UNBOUND = {"url": "http://169.254.170.23", "address": "169.254.170.23", "port": 80, "bound_on": None,
           "up": False, "error_kind": "timeout", "error": "no answer within 1.0s"}
UP = {"url": "http://169.254.170.23", "address": "169.254.170.23", "port": 80, "bound_on": "pod-id-link0",
      "up": True, "http_status": 404}
NOT_ALLOWED = {"url": "http://169.254.170.23", "address": "169.254.170.23", "port": 80, "up": None,
               "error_kind": "not_allowed", "error": "outside --allow-net"}

# (name, NodeEvidence fields, expected codes) -- appended to test_verdicts.NODE_ROWS
COMPONENT_ROWS = [
    ("pricing API does not connect", dict(no_privatelink=pricing(PUBLIC_TIMEOUT)), ["no_privatelink_service"]),
    ("pricing API name does not resolve", dict(no_privatelink=pricing(NO_NAME)), ["no_privatelink_service"]),
    ("pricing API answers through a public path", dict(no_privatelink=pricing(PUBLIC_OK)), ["no_privatelink_service"]),
    ("pricing API served inside the VPC", dict(no_privatelink=pricing(PRIVATE_OK)), []),
    ("pricing API turned off", dict(no_privatelink=pricing(disabled_by="ISOLATED_VPC=true in its environment")), []),
    ("global STS does not connect", dict(sts_global={"hostname": "sts.amazonaws.com", "components": LEGACY,
                                                     "probe": STS_DOWN}), ["sts_global_endpoint"]),
    ("global STS connects", dict(sts_global={"hostname": "sts.amazonaws.com", "components": LEGACY, "probe": STS_OK}),
     []),
    ("nobody on global STS", dict(sts_global={"hostname": "sts.amazonaws.com", "components": []}), []),
    ("pod identity agent refuses", dict(pod_identity=agent(REFUSED)), ["pod_identity_agent_unreachable"]),
    ("pod identity address not bound", dict(pod_identity=agent(UNBOUND)), ["pod_identity_agent_unreachable"]),
    ("pod identity agent up", dict(pod_identity=agent(UP)), []),
    ("pod identity probe not allowed", dict(pod_identity=agent(NOT_ALLOWED)), []),
    ("pod identity agent not running", dict(pod_identity={"running": False}), []),
]


def _one(**fields):
    [finding] = verdicts.node_findings(node(**fields))
    return finding


def test_severity_follows_reachability():
    assert _one(no_privatelink=pricing(PUBLIC_TIMEOUT)).severity == "critical"
    assert _one(no_privatelink=pricing(NO_NAME)).severity == "critical"
    assert _one(no_privatelink=pricing(PUBLIC_OK)).severity == "warning"


def test_no_privatelink_names_api_and_workaround():
    finding = _one(no_privatelink=pricing(PUBLIC_TIMEOUT))
    assert "karpenter" in finding.message and PRICING in finding.message and "pricing" in finding.message
    assert "TCP connect timed out" in finding.message
    assert "isolatedVPC=true" in finding.remediation.text
    assert any("settings.isolatedVPC=true" in c for c in finding.remediation.commands)
    assert "source: karpenter docs" in finding.evidence


def test_registry_fix_fills_the_region_quoted():
    from vpce_doctor.checks import remediation
    from vpce_doctor.checks.remediation import Where

    where = Where(region="us-east-1;rm -rf /", vpc_id="vpc-1", subnet_id="subnet-1", vpc_cidrs=())
    [command] = remediation.no_privatelink_service(where, "ecr-public", "containerd").commands
    assert "--region 'us-east-1;rm -rf /'" in command


def test_sts_fix_targets_the_workload():
    finding = _one(sts_global={"hostname": "sts.amazonaws.com", "components": LEGACY, "probe": STS_DOWN})
    assert "aws-node" in finding.message and "AWS_STS_REGIONAL_ENDPOINTS=legacy" in finding.message
    assert finding.remediation.commands == ("kubectl -n kube-system set env daemonset/aws-node "
                                            "AWS_STS_REGIONAL_ENDPOINTS=regional",)
    kubelet = _one(sts_global={"hostname": "sts.amazonaws.com", "probe": STS_DOWN,
                               "components": [{"component": "kubelet", "pid": 1,
                                               "setting": "AWS_ENDPOINT_URL_STS=https://sts.amazonaws.com"}]})
    assert "AWS_ENDPOINT_URL_STS=https://sts.us-east-1.amazonaws.com" in kubelet.remediation.commands[1]


def test_pod_identity_evidence_says_why():
    refused = _one(pod_identity=agent(REFUSED))
    assert "connection refused (address bound on pod-id-link0)" in refused.message
    unbound = _one(pod_identity=agent(UNBOUND))
    assert "not bound on any interface" in unbound.message and "timed out" in unbound.message
    assert "process eks-pod-identity-agent running, pid 9" in unbound.evidence


@pytest.mark.parametrize("env,region,expected", [
    ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS=legacy"),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "LEGACY"}, "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS=legacy"),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "ap-east-1", None),  # newer regions are always regional
    ({"AWS_STS_REGIONAL_ENDPOINTS": "regional"}, "us-east-1", None),
    ({"AWS_ENDPOINT_URL_STS": "https://sts.amazonaws.com"}, "ap-east-1", "AWS_ENDPOINT_URL_STS=https://sts.amazonaws.com"),
    ({"AWS_ENDPOINT_URL_STS": "https://sts.us-east-1.amazonaws.com", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
     "us-east-1", None),  # an explicit URL wins
    ({}, "us-east-1", None),
])
def test_global_sts_selection(env, region, expected):
    assert sts_global.global_selector(env, region, sts_global.legacy_global_regions()) == expected


def _component(name, env=None, args=None, images=None):
    return {"name": name, "pid": 5, "settings": {"env_readable": True, "env": env or {}, "args": args or {}},
            "images": images or {}}


@pytest.mark.parametrize("components,expected", [
    ([_component("karpenter")], [("karpenter-pricing", "api.pricing.us-east-1.amazonaws.com", None)]),
    ([_component("karpenter", env={"ISOLATED_VPC": "true"})],
     [("karpenter-pricing", "api.pricing.us-east-1.amazonaws.com", "ISOLATED_VPC=true in its environment")]),
    ([_component("karpenter", args={"--isolated-vpc": ""})],
     [("karpenter-pricing", "api.pricing.us-east-1.amazonaws.com", "--isolated-vpc on its command line")]),
    ([_component("aws-load-balancer-controller", args={"--enable-shield": "false", "--enable-waf": "false"})],
     [("lbc-shield", "shield.us-east-1.amazonaws.com", "--enable-shield=false on its command line"),
      ("lbc-waf-regional", "waf-regional.us-east-1.amazonaws.com", "--enable-waf=false on its command line"),
      ("lbc-wafv2", "wafv2.us-east-1.amazonaws.com", None)]),
    ([_component("containerd", images={"references": [{"image": "nginx:1.27", "source": "running container"},
                                                      {"image": "public.ecr.aws/eks-distro/pause:3.9",
                                                       "source": "sandbox"}],
                                       "mirrors": {"docker.io": "https://mirror.corp"}})],
     [("ecr-public", "public.ecr.aws", None),
      ("docker-hub", "registry-1.docker.io", "a containerd mirror for docker.io (https://mirror.corp)")]),
    ([_component("containerd", images={"references": [{"image": "602401143452.dkr.ecr.us-east-1.amazonaws.com/x:1",
                                                       "source": "sandbox"}]})], []),
    ([_component("kubelet")], []),
])
def test_which_apis_apply(components, expected):
    found = no_privatelink.needed_apis(components, "us-east-1", "aws", "amazonaws.com")
    assert [(e["id"], e["hostname"], e["disabled_by"]) for e in found] == expected


@pytest.mark.parametrize("region,partition,suffix,host", [
    ("eu-west-1", "aws", "amazonaws.com", "api.pricing.eu-central-1.amazonaws.com"),
    ("ap-southeast-2", "aws", "amazonaws.com", "api.pricing.ap-south-1.amazonaws.com"),
    ("us-west-2", "aws", "amazonaws.com", "api.pricing.us-east-1.amazonaws.com"),
    ("cn-north-1", "aws-cn", "amazonaws.com.cn", "api.pricing.cn-northwest-1.amazonaws.com.cn"),
])
def test_pricing_region_follows_karpenter(region, partition, suffix, host):
    [entry] = no_privatelink.needed_apis([_component("karpenter")], region, partition, suffix)
    assert entry["hostname"] == host


@pytest.mark.parametrize("reference,registry", [
    ("nginx", "docker.io"), ("library/nginx:1", "docker.io"), ("docker.io/library/nginx", "docker.io"),
    ("public.ecr.aws/karpenter/controller:1.0", "public.ecr.aws"), ("localhost:5000/x", "localhost:5000"),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5", "602401143452.dkr.ecr.us-west-2.amazonaws.com"),
])
def test_image_registry(reference, registry):
    assert no_privatelink.image_registry(reference) == registry


def test_every_catalogue_entry_names_its_source_and_workaround():
    for api in no_privatelink.load_apis():
        assert api["source"] and api["workaround"] and api["component"] and api["hostname"]
        assert api["needed_when"] in ("always", "image_registry")
