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
