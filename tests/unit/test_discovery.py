import pytest

from vpce_doctor.agent import components, resolvconf
from vpce_doctor.core.addresses import AddressError, NetworkGuard, NetworkNotAllowed, parse_addr
from vpce_doctor.core.settings import SettingsError, resolve_settings
from vpce_doctor.checks.proxy import _without_userinfo, no_proxy_gaps


def test_resolv_conf_plain(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# generated\nsearch ec2.internal\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 ; zone\noptions timeout:2\n")
    servers, sources = resolvconf.node_resolvers(str(conf), str(tmp_path / "none"))
    assert servers == ["10.0.0.2", "fe80::1"]
    assert sources["10.0.0.2"] == str(conf)


def test_resolv_conf_systemd_stub_adds_real_upstreams(tmp_path):
    stub, upstream = tmp_path / "resolv.conf", tmp_path / "upstream.conf"
    stub.write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\n")
    upstream.write_text("nameserver 10.0.0.2\nnameserver 10.1.0.53\n")
    servers, sources = resolvconf.node_resolvers(str(stub), str(upstream))
    assert servers == ["127.0.0.53", "10.0.0.2", "10.1.0.53"]
    assert "systemd-resolved" in sources["10.1.0.53"]


@pytest.mark.parametrize("text,expected", [
    ("10.0.0.2", ("10.0.0.2", 53)), ("10.0.0.2:5353", ("10.0.0.2", 5353)),
    ("[fd00::2]:5353", ("fd00::2", 5353)), ("fd00::2", ("fd00::2", 53)), ("[fd00::2]", ("fd00::2", 53)),
])
def test_parse_addr(text, expected):
    assert parse_addr(text, 53) == expected


@pytest.mark.parametrize("text", ["dns.example.com", "10.0.0.2:99999", "10.0.0.2:x", ""])
def test_parse_addr_rejects(text):
    with pytest.raises(AddressError):
        parse_addr(text, 53)


def test_network_guard():
    guard = NetworkGuard(["127.0.0.0/8"])
    guard.check("127.10.0.2")
    with pytest.raises(NetworkNotAllowed):
        guard.check("10.0.0.2")
    NetworkGuard().check("198.51.100.7")  # no allow-list: production


def test_component_matching_by_name_and_argv0():
    found = components.match_components([
        {"pid": 10, "name": "kubelet", "cmdline": ["/usr/bin/kubelet", "--config", "x"]},
        {"pid": 11, "name": "sleep", "cmdline": ["containerd"]},
        {"pid": 12, "name": "controller", "cmdline": ["/ko-app/controller"]},  # not karpenter
        {"pid": 13, "name": "controller", "cmdline": ["/karpenter/controller"]},
        {"pid": 14, "name": "aws-k8s-agent", "cmdline": []},
        {"pid": 15, "name": "bash", "cmdline": ["bash"]},
    ])
    assert [(c["name"], c["pid"]) for c in found] == [("kubelet", 10), ("containerd", 11), ("aws-node", 14),
                                                      ("karpenter", 13)]


def test_proxy_settings_from_environ():
    env = components.parse_environ(b"PATH=/bin\0https_proxy=http://p:3128\0NO_PROXY=localhost\0")
    assert components.proxy_settings(env) == {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "localhost"}


@pytest.mark.parametrize("no_proxy,missing", [
    ("", [".amazonaws.com", "169.254.169.254", "10.0.0.0/16"]),
    ("localhost,127.0.0.1", [".amazonaws.com", "169.254.169.254", "10.0.0.0/16"]),
    (".amazonaws.com,169.254.169.254,10.0.0.0/16", []),
    ("amazonaws.com,169.254.0.0/16,10.0.0.0/8", []),
    ("*", []),
    (".us-east-1.amazonaws.com,169.254.169.254", ["10.0.0.0/16"]),
])
def test_no_proxy_gaps(no_proxy, missing):
    assert no_proxy_gaps(no_proxy, "us-east-1", "amazonaws.com", ["10.0.0.0/16"]) == missing


def test_proxy_password_never_reported():
    assert _without_userinfo("http://user:s3cret@proxy:3128") == "http://***@proxy:3128"


@pytest.mark.parametrize("text,expected", [
    ("clusters:\n- cluster:\n    certificate-authority: /etc/k/ca.crt\n    server: https://ABC.gr7.us-east-1.eks.amazonaws.com\n",
     "https://ABC.gr7.us-east-1.eks.amazonaws.com"),
    ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    apiServerEndpoint: https://X.yl4.eu-west-1.eks.amazonaws.com\n",
     "https://X.yl4.eu-west-1.eks.amazonaws.com"),
    ("nothing here\n", None),
])
def test_cluster_endpoint_from_kubeconfig_and_nodeadm(text, expected):
    assert components.cluster_endpoint_from_text(text) == expected


def test_settings_precedence_flag_env_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('region = "eu-west-1"\ntimeout = 5\nservices = ["ec2", "sts"]\nvpc_resolver = "10.9.0.2"\n')
    env = {"VPCE_DOCTOR_TIMEOUT": "4", "VPCE_DOCTOR_VPC_RESOLVER": "10.8.0.2"}
    s = resolve_settings({"config_path": str(config), "vpc_resolver": "10.7.0.2"}, env)
    assert (s.region, s.timeout, s.services, s.vpc_resolver) == ("eu-west-1", 4.0, ("ec2", "sts"), "10.7.0.2")
    assert resolve_settings({"config_path": str(config)}, {}).timeout == 5.0


@pytest.mark.parametrize("flags,message", [
    ({"vpc_resolver": "resolver.corp"}, "not an address"),
    ({"services": ("ec2", "nope")}, "unknown service"),
    ({"timeout": -1}, "timeout must be between"),
    ({"config_path": "/nonexistent/config.toml"}, "config file not found"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "CA bundle not found"),
])
def test_settings_errors(flags, message):
    with pytest.raises(SettingsError, match=message):
        resolve_settings(flags, {}, known_services=("ec2", "sts"))


def test_config_rejects_unknown_keys(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('regoin = "eu-west-1"\n')
    with pytest.raises(SettingsError, match="unknown key"):
        resolve_settings({"config_path": str(config)}, {})


def test_endpoint_cidrs_from_flag_environment_and_config(tmp_path):
    from vpce_doctor.core.settings import SettingsError, resolve_settings

    config = tmp_path / "config.toml"
    config.write_text('endpoint_cidrs = ["10.99.0.0/16"]\n')
    assert resolve_settings({"config_path": str(config)}, environ={}).endpoint_cidrs == ("10.99.0.0/16",)
    env = {"VPCE_DOCTOR_ENDPOINT_CIDRS": "10.98.0.0/16,fd00:99::/48"}
    assert resolve_settings({"config_path": str(config)}, environ=env).endpoint_cidrs == ("10.98.0.0/16", "fd00:99::/48")
    flags = {"config_path": str(config), "endpoint_cidrs": ["10.97.0.0/16"]}
    assert resolve_settings(flags, environ=env).endpoint_cidrs == ("10.97.0.0/16",)
    with pytest.raises(SettingsError, match="not a CIDR"):
        resolve_settings({"config_path": str(config), "endpoint_cidrs": ["hub"]}, environ={})


ROUTE_TABLES_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>6f570b0b-9c18-4b07-bdec-73740dcf861a</requestId>
  <routeTableSet><item>
    <routeTableId>rtb-0node</routeTableId><vpcId>vpc-0spoke</vpcId>
    <routeSet>
      <item><destinationCidrBlock>10.1.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state></item>
      <item><destinationPrefixListId>pl-63a5400a</destinationPrefixListId><gatewayId>vpce-0gw</gatewayId><state>active</state></item>
      <item><destinationCidrBlock>10.99.0.0/16</destinationCidrBlock><transitGatewayId>tgw-0hub</transitGatewayId><state>active</state></item>
      <item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock><transitGatewayId>tgw-0hub</transitGatewayId><state>active</state></item>
      <item><destinationCidrBlock>172.20.0.0/16</destinationCidrBlock><vpcPeeringConnectionId>pcx-0peer</vpcPeeringConnectionId><state>blackhole</state></item>
    </routeSet>
    <associationSet><item><routeTableAssociationId>rtbassoc-1</routeTableAssociationId><routeTableId>rtb-0node</routeTableId>
      <subnetId>subnet-0a</subnetId><main>false</main></item></associationSet>
  </item></routeTableSet>
</DescribeRouteTablesResponse>"""


def test_route_table_parsing_reads_gateway_tgw_and_peering_routes():
    from vpce_doctor.checks.probes.route_table import RouteTable, parse_route_tables

    [(table_id, main, routes, _subnets)] = parse_route_tables(ROUTE_TABLES_XML)
    table = RouteTable(available=True, id=table_id, main=main, routes=routes)
    assert (table_id, main) == ("rtb-0node", False)
    assert [(r.prefix_list_id, r.target_id) for r in table.gateway_routes()] == [("pl-63a5400a", "vpce-0gw")]
    # the default route and a blackholed peering route say nothing about where endpoints live
    assert table.remote_networks() == ("10.99.0.0/16",)
    assert [r.target for r in routes] == ["local", "vpc-endpoint", "transit-gateway", "transit-gateway", "peering"]


def test_dns_answers_are_reclassified_by_route_table_destinations():
    from vpce_doctor.checks.probes.dns import DnsLookup, resolved, with_remote_networks

    lookup = DnsLookup("sts.us-east-1.amazonaws.com", "A", "vpc", "10.1.0.2:53", "answer",
                       addresses=(resolved("52.94.0.20", ("10.1.0.0/16",)), resolved("10.1.2.3", ("10.1.0.0/16",))))
    assert [a.scope for a in lookup.addresses] == ["public", "vpc"]
    moved = with_remote_networks(lookup, ("52.94.0.0/22",))
    assert [(a.scope, a.in_vpc) for a in moved.addresses] == [("remote", False), ("vpc", True)]
    assert with_remote_networks(lookup, ()) is lookup
