"""APIs with no VPC endpoint: what a running component needs that PrivateLink cannot give.

Which component needs which endpoint-less API, and which setting turns the call off, is
data (no_privatelink.json, each entry with its source). This check only works out which
entries apply to the components that run here, and probes each name once (DNS, TCP, TLS)
so the verdict can say whether the call fails today or only works through a public path.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence

from ..core.files import package_text
from .reach import reach

MAX_PROBED = 8  # names probed per run, whatever the processes hold


@lru_cache(maxsize=1)
def load_apis() -> List[Dict[str, Any]]:
    text = package_text(__name__, "no_privatelink.json")
    return json.loads(text)["apis"]


def watched_env() -> List[str]:
    """Environment variables of a component that decide whether it calls one of these APIs."""
    return sorted({name for api in load_apis() for name in api.get("disabled_by", {}).get("env", {})})


def watched_args() -> List[str]:
    return sorted({name for api in load_apis() for name in api.get("disabled_by", {}).get("args", {})})


def image_registry(reference: str) -> str:
    """docker.io/library/nginx:1 -> docker.io; nginx -> docker.io; public.ecr.aws/x/y -> public.ecr.aws.
    The first path part is a registry only when it looks like a host (a dot, a port or localhost),
    the rule containerd and Docker share."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def api_hostname(api: Dict[str, Any], region: str, dns_suffix: str) -> str:
    api_region = region
    for prefix, target in sorted(api.get("api_region", {}).items(), key=lambda kv: -len(kv[0])):
        if region.startswith(prefix):
            api_region = target
            break
    return api["hostname"].format(region=region, dns_suffix=dns_suffix, api_region=api_region)


def _disabled_by(api: Dict[str, Any], component: Dict[str, Any], registry: Optional[str]) -> Optional[str]:
    rules = api.get("disabled_by", {})
    settings = component.get("settings") or {}
    for name, values in rules.get("env", {}).items():
        value = (settings.get("env") or {}).get(name)
        if value is not None and value.strip().lower() in values:
            return "%s=%s in its environment" % (name, value)
    for name, values in rules.get("args", {}).items():
        args = settings.get("args") or {}
        if name in args and (args[name] or "true").lower() in values:
            return "%s%s on its command line" % (name, "=" + args[name] if args[name] else "")
    if rules.get("mirror") and registry:
        mirrors = (component.get("images") or {}).get("mirrors", {})
        mirror = mirrors.get(registry) or mirrors.get("_default")  # certs.d/_default: every registry
        if mirror:
            return "a containerd mirror for %s (%s)" % (registry, mirror)
    return None


def needed_apis(components: Sequence[Dict[str, Any]], region: str, partition_id: str,
                dns_suffix: str) -> List[Dict[str, Any]]:
    """One entry per (component, API) that applies here; pure, so a table of processes tests it."""
    running = {c["name"]: c for c in components}
    out = []
    for api in load_apis():
        component = running.get(api["component"])
        if component is None or partition_id not in api.get("partitions", ()):
            continue
        entry = {"id": api["id"], "api": api["api"], "component": component["name"], "pid": component.get("pid"),
                 "hostname": api_hostname(api, region, dns_suffix), "source": api["source"]}
        if api.get("needed_when") == "image_registry":
            images = component.get("images") or {}
            wanted = set(api.get("registries", ()))
            refs = [r for r in images.get("references", ()) if image_registry(r["image"]) in wanted]
            if not refs:
                continue
            entry["images"] = refs[:5]
            entry["disabled_by"] = _disabled_by(api, component, image_registry(refs[0]["image"]))
        else:
            entry["disabled_by"] = _disabled_by(api, component, None)
        out.append(entry)
    return out


class NoPrivateLinkCheck:
    id = "no_privatelink"
    scope = "node"
    title = "APIs running components need that have no VPC endpoint"

    def run(self, ctx, service=None) -> List[Dict[str, Any]]:
        needs = needed_apis(ctx.facts.components, ctx.facts.region or "", ctx.partition.id, ctx.partition.dns_suffix)
        active = [n for n in needs if not n["disabled_by"]][:MAX_PROBED]
        probes = ctx.parallel([lambda n=n: reach(ctx, n["hostname"]) for n in active])
        by_host = {}
        for need, probe in zip(active, probes):
            by_host[need["hostname"]] = probe if not isinstance(probe, BaseException) else {
                "hostname": need["hostname"], "error": "%s: %s" % (type(probe).__name__, probe)}
        for need in needs:
            if not need["disabled_by"]:
                need["probe"] = by_host.get(need["hostname"])
        return needs
