"""What the process scan keeps of a component: its name (karpenter and the load balancer controller
are both "controller"), the named settings only (never a secret), containerd's image references."""
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from vpce_doctor.agent import components, image_refs
from vpce_doctor.checks import pod_identity
from vpce_doctor.core.addresses import NetworkGuard


def test_controllers_told_apart():
    found = components.match_components([
        {"pid": 20, "name": "controller", "cmdline": ["/ko-app/controller"], "environ": {"KARPENTER_SERVICE": "karpenter"}},
        {"pid": 21, "name": "controller", "cmdline": ["/controller", "--cluster-name=c", "--ingress-class=alb"]},
        {"pid": 22, "name": "controller", "cmdline": ["/controller", "--leader-elect"]},  # something else
        {"pid": 23, "name": "eks-pod-identity-agent", "cmdline": ["/eks-pod-identity-agent", "server"]},
    ])
    assert [(c["name"], c["pid"]) for c in found] == [("eks-pod-identity-agent", 23), ("karpenter", 20),
                                                      ("aws-load-balancer-controller", 21)]


def test_only_named_settings_are_kept():
    raw = {"readable": True, "env": {"AWS_STS_REGIONAL_ENDPOINTS": "legacy", "ISOLATED_VPC": "true",
                                     "AWS_SECRET_ACCESS_KEY": "s3cret", "AWS_SESSION_TOKEN": "tok", "PATH": "/bin"}}
    cmdline = ["/controller", "--enable-shield=false", "--enable-waf", "false", "--token=abc", "--enable-wafv2"]
    settings = components.component_settings(cmdline, raw)
    assert settings["env"] == {"AWS_STS_REGIONAL_ENDPOINTS": "legacy", "ISOLATED_VPC": "true"}
    assert settings["args"] == {"--enable-shield": "false", "--enable-waf": "false", "--enable-wafv2": ""}
    assert "s3cret" not in json.dumps(settings) and "abc" not in json.dumps(settings)
    unreadable = components.component_settings(["/controller"], {"readable": False, "error": "run as root"})
    assert unreadable["env_readable"] is False and unreadable["env_error"] == "run as root"


def _write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


def test_image_references_and_mirrors(tmp_path):
    root = str(tmp_path)
    _write(root, image_refs.CONFIG, 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
                                    '  sandbox_image = "public.ecr.aws/eks-distro/kubernetes/pause:3.9"\n'
                                    '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."quay.io"]\n'
                                    '  endpoint = ["https://quay-mirror.corp"]\n')
    _write(root, os.path.join(image_refs.HOSTS_DIR, "docker.io", "hosts.toml"),
           'server = "https://registry-1.docker.io"\n[host."https://mirror.corp"]\n  capabilities = ["pull"]\n')
    _write(root, os.path.join(image_refs.TASKS_DIR, "abc", "config.json"),
           json.dumps({"annotations": {image_refs.IMAGE_ANNOTATION: "docker.io/library/nginx:1.27"}}))
    _write(root, os.path.join(image_refs.TASKS_DIR, "def", "config.json"), "{not json")
    found = image_refs.collect(root, kubelet_pause_image="602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/pause:3.5")
    assert [r["image"] for r in found["references"]] == [
        "public.ecr.aws/eks-distro/kubernetes/pause:3.9", "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/pause:3.5",
        "docker.io/library/nginx:1.27"]
    assert found["mirrors"] == {"quay.io": "https://quay-mirror.corp", "docker.io": "https://mirror.corp"}


def test_image_references_on_a_node_without_containerd_files(tmp_path):
    assert image_refs.collect(str(tmp_path)) == {"references": [], "mirrors": {}}


def test_pod_identity_ipv6_only_on_ipv6_nodes():
    v4_only = pod_identity.default_endpoints(["10.0.0.0/16"], {"10.0.1.5": "eth0", "fe80::1": "eth0"})
    assert v4_only == ["http://169.254.170.23"]
    dual = pod_identity.default_endpoints(["10.0.0.0/16", "2600:1f18:1::/56"], {"2600:1f18:1:2::5": "eth0"})
    assert dual == ["http://169.254.170.23", "http://[fd00:ec2::23]"]


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_pod_identity_probe_against_real_sockets():
    server = HTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        up = pod_identity.probe("http://127.0.0.1:%d" % server.server_address[1], 2.0, NetworkGuard(["127.0.0.0/8"]), {})
    finally:
        server.shutdown()
        server.server_close()
    assert up["up"] is True and up["http_status"] == 404 and up["bound_on"] == "lo"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        down = pod_identity.probe("http://127.0.0.1:%d" % port, 2.0, NetworkGuard(["127.0.0.0/8"]), {})
    assert down["up"] is False and down["error_kind"] == "refused"
    blocked = pod_identity.probe("http://169.254.170.23", 2.0, NetworkGuard(["127.0.0.0/8"]), {})
    assert blocked["up"] is None and blocked["error_kind"] == "not_allowed"


@pytest.mark.parametrize("url", ["https://169.254.170.23", "http://pod-identity.local", "http://[fd00:ec2::23"])
def test_pod_identity_endpoint_setting_is_an_http_address(url):
    from vpce_doctor.core.settings import Settings, SettingsError, validate

    with pytest.raises(SettingsError):
        validate(Settings(pod_identity_endpoints=(url,)))
