"""Which node components run, and the settings they really use: kubelet's and containerd's
proxy, every component's AWS SDK environment (STS endpoint selection) and the few flags and
variables that decide whether it calls an API with no VPC endpoint (checks/no_privatelink.json).

Only named settings are kept: an environment holds secrets (keys, tokens), a report never does."""
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
    "aws-load-balancer-controller": ["aws-load-balancer-controller", "controller"],
    "xray-daemon": ["xray", "aws-xray-daemon"],
}
# whose environment is evidence for proxy_bypass_missing
PROXY_COMPONENTS = ("kubelet", "containerd")
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")
# AWS SDK settings kept as evidence (never credentials: those names are not on this list)
SDK_ENV = ("AWS_STS_REGIONAL_ENDPOINTS", "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION")
IMAGE_ARGS = ("--pod-infra-container-image",)


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


def _read_raw_environ(pid: int) -> Dict[str, Any]:
    """{"readable": True, "env": {...}} or {"readable": False, "error": ...}. The whole environment
    stays in memory for the scan only; what is kept is picked by name below."""
    try:
        raw = read_bytes_capped("/proc/%d/environ" % pid, SMALL_LIMIT)
        return {"readable": True, "env": parse_environ(raw)}
    except PermissionError:
        return {"readable": False, "error": "not permitted to read /proc/%d/environ (run as root)" % pid}
    except OSError as exc:
        return {"readable": False, "error": "cannot read /proc/%d/environ: %s" % (pid, exc.strerror)}


def watched_env() -> List[str]:
    from ..checks.no_privatelink import watched_env as privatelink_env

    return sorted(set(SDK_ENV) | set(privatelink_env()))


def watched_args() -> List[str]:
    from ..checks.no_privatelink import watched_args as privatelink_args

    return sorted(set(IMAGE_ARGS) | set(privatelink_args()))


def parse_args(cmdline: List[str], wanted: Iterable[str]) -> Dict[str, str]:
    """--flag=value, --flag value (a word that does not start with "-") and a bare --flag ("": set).
    Only the flags in wanted: other arguments may hold secrets."""
    wanted = set(wanted)
    out: Dict[str, str] = {}
    for index, token in enumerate(cmdline[1:], start=1):
        if not token.startswith("-"):
            continue
        name, sep, value = token.partition("=")
        name = "--" + name.lstrip("-")
        if name not in wanted:
            continue
        if not sep:
            following = cmdline[index + 1] if index + 1 < len(cmdline) else ""
            value = following if following and not following.startswith("-") else ""
        out[name] = value
    return out


def component_settings(cmdline: List[str], raw_environ: Dict[str, Any]) -> Dict[str, Any]:
    settings: Dict[str, Any] = {"env_readable": bool(raw_environ.get("readable")),
                                "args": parse_args(cmdline, watched_args())}
    if raw_environ.get("readable"):
        env = raw_environ.get("env") or {}
        settings["env"] = {name: env[name] for name in watched_env() if name in env}
    else:
        settings["env_error"] = raw_environ.get("error")
    return settings


def _controller_is(component: str, cmdline: List[str], environ: Dict[str, str]) -> bool:
    """Karpenter's and the load balancer controller's binaries are both called "controller"
    (/ko-app/controller, /controller): tell them apart by what their Helm charts always set."""
    text = " ".join(cmdline)
    if component == "karpenter":
        return "karpenter" in text or "KARPENTER_SERVICE" in environ
    if component == "aws-load-balancer-controller":
        return "aws-load-balancer-controller" in text or any(
            part.startswith(("--ingress-class", "--enable-shield", "--enable-waf")) for part in cmdline)
    return False


def _names(proc: Dict[str, Any]) -> set:
    cmdline = proc.get("cmdline") or []
    names = {proc.get("name") or ""}
    if cmdline:
        names.add(re.split(r"[/\\]", cmdline[0])[-1])
    return names


def match_components(processes: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """processes: dicts with pid, name, cmdline and optionally environ (a dict). Pure, so tests feed it a table."""
    found: Dict[str, Dict[str, Any]] = {}
    for proc in processes:
        cmdline = proc.get("cmdline") or []
        names = _names(proc)
        for component, wanted in COMPONENT_PROCESSES.items():
            hit = next((n for n in names if n in wanted), None)
            if hit == "controller" and not _controller_is(component, cmdline, proc.get("environ") or {}):
                continue
            if hit and component not in found:
                found[component] = {"name": component, "pid": proc["pid"], "process": hit}
    return [found[c] for c in COMPONENT_PROCESSES if c in found]


_CANDIDATES = {n for names in COMPONENT_PROCESSES.values() for n in names}


def running_components(read_environ=_read_raw_environ, image_root: str = "/") -> List[Dict[str, Any]]:
    try:
        import psutil
    except ImportError:
        return []
    processes = []
    environs: Dict[int, Dict[str, Any]] = {}
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        info = proc.info
        entry = {"pid": info["pid"], "name": info.get("name"), "cmdline": info.get("cmdline") or []}
        if _names(entry) & _CANDIDATES:  # only the environments of processes that may be components
            environs[info["pid"]] = read_environ(info["pid"])
            entry["environ"] = environs[info["pid"]].get("env") or {}
        processes.append(entry)
    components = match_components(processes)
    cmdlines = {p["pid"]: p["cmdline"] for p in processes}
    for component in components:
        raw = environs.get(component["pid"], {"readable": False, "error": "not read"})
        if component["name"] in PROXY_COMPONENTS:
            component["environ"] = ({"readable": True, "proxy": proxy_settings(raw["env"])} if raw.get("readable")
                                    else {"readable": False, "error": raw.get("error")})
        component["settings"] = component_settings(cmdlines.get(component["pid"]) or [], raw)
    _attach_images(components, image_root)
    return components


def _attach_images(components: List[Dict[str, Any]], root: str) -> None:
    """containerd's image references and registry mirrors (see image_refs.py)."""
    from . import image_refs

    containerd = next((c for c in components if c["name"] == "containerd"), None)
    if containerd is None:
        return
    kubelet = next((c for c in components if c["name"] == "kubelet"), None)
    pause = ((kubelet or {}).get("settings") or {}).get("args", {}).get("--pod-infra-container-image")
    containerd["images"] = image_refs.collect(root, kubelet_pause_image=pause or None)


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
