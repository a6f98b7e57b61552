"""The global STS endpoint: components whose environment makes their SDK call sts.amazonaws.com.

sts.amazonaws.com has no private DNS in any VPC, so an IRSA credential call there times out in
an isolated subnet while the regional sts endpoint is perfect. What is read is the environment
(AWS_STS_REGIONAL_ENDPOINTS=legacy, AWS_ENDPOINT_URL_STS); an SDK that picks the global
endpoint by its own default (old majors) leaves no trace there and is not seen.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

from .reach import reach

GLOBAL_HOST = "sts.amazonaws.com"  # the aws partition's only global STS name
STS_ENV = ("AWS_STS_REGIONAL_ENDPOINTS", "AWS_ENDPOINT_URL_STS")


def legacy_global_regions() -> List[str]:
    """Where `legacy` still means the global name (the regions that existed in March 2019);
    newer regions always use their own. The list is botocore's, which the Go SDKs share."""
    from botocore.args import LEGACY_GLOBAL_STS_REGIONS

    return [r for r in LEGACY_GLOBAL_STS_REGIONS if r != "aws-global"]


def global_selector(env: Dict[str, str], region: str, legacy_regions: List[str]) -> Optional[str]:
    """The setting that sends this component's STS calls to sts.amazonaws.com, or None."""
    explicit = (env.get("AWS_ENDPOINT_URL_STS") or "").strip()
    if explicit:
        host = (urlsplit(explicit if "://" in explicit else "https://" + explicit).hostname or "").lower()
        return "AWS_ENDPOINT_URL_STS=%s" % explicit if host == GLOBAL_HOST else None  # an explicit URL wins
    mode = (env.get("AWS_STS_REGIONAL_ENDPOINTS") or "").strip().lower()
    if mode == "legacy" and region in legacy_regions:
        return "AWS_STS_REGIONAL_ENDPOINTS=legacy"
    return None


class StsGlobalCheck:
    id = "sts_global"
    scope = "node"
    title = "Components that call the global STS endpoint"

    def run(self, ctx, service=None) -> Dict[str, Any]:
        region = ctx.facts.region or ""
        components = []
        unreadable = []
        for component in ctx.facts.components:
            settings = component.get("settings") or {}
            if not settings.get("env_readable"):
                unreadable.append(component["name"])
                continue
            env = settings.get("env") or {}
            if ctx.partition.id != "aws" or not any(env.get(v) for v in STS_ENV):
                continue
            selector = global_selector(env, region, legacy_global_regions())
            if selector:
                components.append({"component": component["name"], "pid": component.get("pid"), "setting": selector})
        evidence: Dict[str, Any] = {"hostname": GLOBAL_HOST, "components": components, "unreadable": unreadable}
        if components:
            evidence["probe"] = reach(ctx, GLOBAL_HOST)
        return evidence
