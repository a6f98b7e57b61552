"""Which node components run, and the proxy settings kubelet and containerd really use."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

from ..core.files import SMALL_LIMIT, read_bytes_capped, read_text_capped

# component name -> process names (psutil name or argv[0] basename) that mean it runs
COMPONENT_PROCESSES = {
    "kubelet": ["kubelet"],
    "containerd": ["containerd"],
    "aws-node": ["aws-k8s-agent", "aws-node", "ipamd"],
    "amazon-ssm-agent": ["amazon-ssm-agent", "ssm-agent-worker"],
    "eks-pod-identity-agent": ["eks-pod-identity-agent"],
    "cloudwatch-agent": ["amazon-cloudwatch-agent"],
    "fluent-bit": ["fluent-bit", "td-agent-bit"],
    "ebs-csi": ["aws-ebs-csi-driver", "ebs-plugin"],
    "efs-csi": ["aws-efs-csi-driver", "efs-plugin"],
    "cluster-autoscaler": ["cluster-autoscaler"],
    "karpenter": ["karpenter", "controller"],
    "aws-load-balancer-controller": ["aws-load-balancer-controller"],
    "xray-daemon": ["xray", "aws-xray-daemon"],
}
# whose environment is evidence for proxy_bypass_missing
PROXY_COMPONENTS = ("kubelet", "containerd")
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


def parse_environ(raw: bytes) -> Dict[str, str]:
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            key, _, value = item.partition(b"=")
            env[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return env


_USERINFO = re.compile(r"^((?:[a-z][a-z0-9+.\-]*://)?)[^/\s]+@", re.I)  # up to the last @: a password may hold one


def mask_userinfo(url: str) -> str:
    """http://user:password@proxy:3128 -> http://***@proxy:3128 (also without a scheme, which Go
    accepts): a proxy password is a secret, and these facts go into the report as they are."""
    return _USERINFO.sub(lambda m: m.group(1) + "***@", url.strip()) if "@" in url else url


def proxy_settings(env: Dict[str, str]) -> Dict[str, str]:
    """HTTPS_PROXY and NO_PROXY the way Go's net/http reads them (upper case wins), with any
    userinfo masked at the source."""
    out = {}
    for name in ("HTTPS_PROXY", "NO_PROXY"):
        value = env.get(name) or env.get(name.lower())
        if value:
            out[name] = mask_userinfo(value) if name == "HTTPS_PROXY" else value
    return out


def _read_environ(pid: int) -> Dict[str, Any]:
    try:
        raw = read_bytes_capped("/proc/%d/environ" % pid, SMALL_LIMIT)
        return {"readable": True, "proxy": proxy_settings(parse_environ(raw))}
    except PermissionError:
        return {"readable": False, "error": "not permitted to read /proc/%d/environ (run as root)" % pid}
    except OSError as exc:
        return {"readable": False, "error": "cannot read /proc/%d/environ: %s" % (pid, exc.strerror)}


def _karpenter_like(name: str, cmdline: List[str]) -> bool:
    # "controller" alone is too common a name; count it only when argv says karpenter.
    return name != "controller" or any("karpenter" in part for part in cmdline)


def match_components(processes: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """processes: dicts with pid, name, cmdline. Pure, so tests feed it a table."""
    found: Dict[str, Dict[str, Any]] = {}
    for proc in processes:
        cmdline = proc.get("cmdline") or []
        names = {proc.get("name") or ""}
        if cmdline:
            names.add(re.split(r"[/\\]", cmdline[0])[-1])
        for component, wanted in COMPONENT_PROCESSES.items():
            hit = next((n for n in names if n in wanted), None)
            if hit and _karpenter_like(hit, cmdline) and component not in found:
                found[component] = {"name": component, "pid": proc["pid"], "process": hit}
    return [found[c] for c in COMPONENT_PROCESSES if c in found]


def running_components(read_environ=_read_environ) -> List[Dict[str, Any]]:
    try:
        import psutil
    except ImportError:
        return []
    processes = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        info = proc.info
        processes.append({"pid": info["pid"], "name": info.get("name"), "cmdline": info.get("cmdline")})
    components = match_components(processes)
    for component in components:
        if component["name"] in PROXY_COMPONENTS:
            component["environ"] = read_environ(component["pid"])
    return components


KUBECONFIG_PATHS = ("/var/lib/kubelet/kubeconfig", "/etc/kubernetes/kubelet/kubeconfig", "/etc/eksctl/kubeconfig.yaml")
NODEADM_PATHS = ("/etc/eks/nodeadm/config.yaml", "/etc/kubernetes/nodeadm/config.yaml")


def cluster_endpoint_from_text(text: str) -> Optional[str]:
    """The API server URL from a kubeconfig (`server:`) or a nodeadm NodeConfig (`apiServerEndpoint:`).
    A line scan rather than a YAML parser: both files hold one such key, and PyYAML is not a dependency."""
    found = re.search(r"^\s*(?:server|apiServerEndpoint):\s*[\"']?(https://[^\s\"']+)", text, re.M)
    return found.group(1) if found else None


def discover_cluster_endpoint(paths: Iterable[str] = KUBECONFIG_PATHS + NODEADM_PATHS) -> Optional[str]:
    for path in paths:
        try:
            endpoint = cluster_endpoint_from_text(read_text_capped(path, SMALL_LIMIT))
        except OSError:
            continue
        if endpoint:
            return endpoint
    return None
