"""Preflight and the on-node check cannot drift apart: for every scenario of the simulated VPC,
the service-level findings preflight predicts from the configuration (moto) equal those the
node check must find (scenario.expect), for every code the configuration decides."""
import pytest

from vpce_doctor.core.model import EXIT_CODES

from ..integration.test_scenarios import READ_ONLY
from .conftest import ALL

# Codes the AWS configuration decides, so preflight must predict them exactly as the node finds them.
CONFIG_DECIDED = {
    "endpoint_missing": "DescribeVpcEndpoints: no endpoint for the service",
    "private_dns_disabled": "the endpoint's PrivateDnsEnabled, and no private hosted zone record",
    "port_blocked": "endpoint security groups and the NACLs of both subnets",
    "policy_denied": "the endpoint policy document",
    "endpoint_az_missing": "the endpoint's subnets and their AZs",
    "gateway_route_missing": "the gateway endpoint's route tables",
    "cluster_endpoint_unreachable": "DescribeCluster: endpointPrivateAccess",
}
# Codes whose cause is outside the AWS configuration: preflight cannot predict them, and must not
# invent a configuration problem in their scenarios either.
OUTSIDE_CONFIG = {
    "custom_dns_not_forwarding": "the node's own resolver (a corporate DNS server)",
    "dns_record_missing": "the node's own resolver's zone data",
    "dns_failure": "a resolver that is down",
    "tls_failure": "a TLS-inspecting appliance",
    "iam_denied": "the node role's identity policies (preflight reads endpoint policies only)",
    "clock_skew": "the node's clock",
    "no_credentials": "the instance's credentials",
    "proxy_bypass_missing": "kubelet's environment",
    "imds_unreachable": "the instance's metadata service",
    "inventory_unavailable": "the node role's identity policies (DescribeVpcEndpoints denied)",
    "no_privatelink_service": "which components run on the node and their settings",
    "sts_global_endpoint": "a component's environment on the node",
    "pod_identity_agent_unreachable": "the Pod Identity agent process on the node",
}


def expected(scenario):
    if scenario.expect_preflight is not None:
        return sorted(scenario.expect_preflight)
    for code, _ in scenario.expect:
        assert code in CONFIG_DECIDED or code in OUTSIDE_CONFIG, "say whether the configuration decides %s" % code
    return sorted((c, s) for c, s in scenario.expect if c in CONFIG_DECIDED)


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(ALL))
def test_preflight_predicts_what_the_node_finds(name, preflight_runs, report_validator):
    report, code, stderr, requests, subnet = preflight_runs[name]
    assert report is not None and "Traceback" not in stderr, stderr
    report_validator(report)
    assert report["mode"] == "preflight" and report["target"]["subnets"][0]["id"] == subnet
    found = sorted((f["code"], f["service"]) for f in report["findings"])
    want = expected(ALL[name])
    assert found == want
    assert all(f["subnet"] in (subnet, None) for f in report["findings"])
    status = ALL[name].expect_status if ALL[name].expect_preflight is not None else (
        "ok" if not want else report["status"])
    assert report["status"] == status and code == EXIT_CODES[status]
    if want:
        assert report["status"] in ("warn", "critical")
    # no call failed: every service was judged, none is unknown
    assert [c for c in report["checks"] if c["state"] != "done"] == []
    assert all(s["status"] != "unknown" for s in report["services"])


@pytest.mark.integration
def test_preflight_only_ever_read(preflight_runs):
    """Every request that reached (simulated) AWS in any preflight run was read-only."""
    requests = [r for run in preflight_runs.values() for r in run[3]]
    assert len(requests) >= 10 * len(preflight_runs)
    writes = sorted({"%s %s" % r for r in requests if not READ_ONLY.match(r[1])})
    assert not writes, writes
    services = {service for service, _ in requests}
    assert {"ec2", "route53", "route53resolver", "eks"} <= services
