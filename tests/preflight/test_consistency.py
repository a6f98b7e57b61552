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
    "private_zone_shadows": "ListHostedZonesByVPC: a private zone for a parent of the name, without its record",
}
# Codes whose cause is outside the AWS configuration: preflight cannot predict them, and must not
# invent a configuration problem in their scenarios either.
OUTSIDE_CONFIG = {
    "custom_dns_not_forwarding": "the node's own resolver (a corporate DNS server)",
    "dns_record_missing": "the node's own resolver's zone data (a private zone for the name itself without its "
                          "record is read by preflight: those scenarios say so in expect_preflight)",
    "vpc_resolver_differs": "what the node's own resolvers answer (centralised DNS)",
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
    "org_policy_denied": "an organization's SCPs and RCPs (preflight reads endpoint policies only)",
    "access_denied": "a denial AWS does not attribute, with the endpoint policy unread or allowing the action",
    "layer_bucket_unverified": "whether the node may read the inventory (the gateway policy, unread from the node)",
    "image_pull_denied": "the node role's identity policies and the repository's policy (preflight reads endpoint "
                         "policies only)",
    "image_not_found": "the registry's content",
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
    sc = ALL[name]
    status = (sc.expect_preflight_status or sc.expect_status) if sc.expect_preflight is not None else (
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


@pytest.mark.integration
def test_hub_names_are_read_from_the_shared_zones_and_classed_as_the_node_classes_them(preflight_runs):
    """hub-spoke: each hub-served name has a private zone on the spoke VPC whose record holds the hub endpoint's
    addresses (the ones the simulated VPC resolver answers the node), classed remote through the transit gateway
    route; what the spoke cannot read (the hub's security groups: sts) is said, not guessed."""
    from vpce_doctor.demo.aws_side import SimulatedAws

    report = preflight_runs["hub-spoke"][0]
    sim = SimulatedAws(ALL["hub-spoke"])
    sim._hub_endpoints()  # the hub's addresses are a pure function of the scenario
    services = {s["id"]: s["probes"]["config"] for s in report["services"]}
    for service_id, addresses in sim.hub_addresses.items():
        record = services[service_id]["private_zone_record"]
        assert (record["class"], sorted(record["values"])) == ("remote", sorted(ip for ip, _ in addresses))
        assert any("outside this VPC" in why for why in services[service_id]["cannot_tell"])
    assert "private_zone_record" not in services["kms"]
    assert report["target"]["remote_cidrs"] == [sim.plan.hub_cidr]


@pytest.mark.integration
def test_a_hub_behind_a_default_route_needs_its_cidr_named_as_on_the_node():
    """hub-spoke-healthy: the route table has only 0.0.0.0/0 to the transit gateway. Without --endpoint-cidr the
    hub's 127.172.x addresses look public to preflight as to the node (endpoint_missing); the node check's
    environment variable names it for preflight too."""
    import json

    from .conftest import Moto

    scenario = ALL["hub-spoke-healthy"]
    with Moto(scenario) as moto:
        args = moto.args("--format", "json")
        cut = args.index("--endpoint-cidr")
        bare = args[:cut] + args[cut + 2:]
        without = moto.preflight_args(bare)
        from_env = moto.preflight_args(bare, VPCE_DOCTOR_ENDPOINT_CIDRS=args[cut + 1])
        bad = moto.preflight_args(bare + ["--endpoint-cidr", "hub-vpc"])
        text = moto.preflight_args(moto.args("--format", "text", "--no-tui"))
    assert sorted(f["code"] for f in json.loads(without.stdout)["findings"]) == ["endpoint_missing"] * len(
        scenario.hub_services)
    assert json.loads(from_env.stdout)["findings"] == [] and from_env.returncode == 0
    rows = {line.split()[0]: line for line in text.stdout.splitlines() if line.startswith(("sts ", "kms ", "s3 "))}
    assert "remote (zone " in rows["sts"] and "remote (zone " in rows["kms"] and "remote" not in rows["s3"]
    assert bad.returncode == 3 and "--endpoint-cidr: not a CIDR: 'hub-vpc'" in bad.stderr and not bad.stdout
