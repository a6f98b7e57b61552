"""Image pull: can this node pull its images? One real pull per image, stopped after one byte of
one layer (probes/registry_pull.py), through the node's resolver and the endpoints containerd uses.

Which images: every --image (repeatable; `images` in the config file), and one the node really
uses, read from containerd's files (agent/image_refs.py: running Kubernetes containers, the sandbox
image, kubelet's pod-infra image), preferring the VPC CNI's and kube-proxy's images (on every EKS
node) and a private ECR image of the node's own region: only those go through this VPC's endpoints.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from .probes import registry_pull
from .probes.registry_pull import ImageRef, PullResult

MAX_IMAGES = 4  # --image values pulled per run, besides the node's own
PULL_SERVICES = ("ecr.api", "ecr.dkr", "s3")  # the endpoints a pull crosses
PREFERRED = ("amazon-k8s-cni", "eks/kube-proxy", "kube-proxy", "eks/pause", "pause")


@dataclass(frozen=True)
class ImagePullEvidence:
    pulls: Tuple[PullResult, ...]
    note: Optional[str] = None  # why no pull ran, or which images were left out


def node_images(facts: Any) -> List[Tuple[str, str]]:
    """(image, source) the node refers to, from containerd's files (discovery attached them)."""
    found = []
    for component in getattr(facts, "components", ()) or ():
        for reference in ((component.get("images") or {}).get("references") or ()):
            if isinstance(reference, dict) and reference.get("image"):
                found.append((reference["image"], reference.get("source") or "containerd"))
    return found


def choose(facts: Any, wanted: Tuple[str, ...], region: str, dns_suffix: str) -> Tuple[List[Tuple[ImageRef, str]], List[str]]:
    """The images to pull and the reasons others were left out."""
    chosen: List[Tuple[ImageRef, str]] = []
    left_out: List[str] = []

    def usable(image: str) -> Optional[ImageRef]:
        ref = registry_pull.parse_reference(image)
        if ref is None:
            left_out.append("%s: not a private ECR image reference" % image[:200])
        elif ref.region != region or not ref.registry.endswith(dns_suffix):
            left_out.append("%s: ECR in %s, not this node's region (its endpoints are not this VPC's)"
                            % (image[:200], ref.region))
            return None
        return ref

    for image in wanted[:MAX_IMAGES]:
        ref = usable(image)
        if ref is not None and ref.image not in [c[0].image for c in chosen]:
            chosen.append((ref, "--image"))
    if len(wanted) > MAX_IMAGES:
        left_out.append("%d more --image values (at most %d are pulled per run)" % (len(wanted) - MAX_IMAGES, MAX_IMAGES))
    own = [(registry_pull.parse_reference(image), source) for image, source in node_images(facts)]
    own = [(ref, source) for ref, source in own if ref is not None and ref.region == region
           and ref.registry.endswith(dns_suffix) and ref.image not in [c[0].image for c in chosen]]
    if own:
        rank = lambda item: next((i for i, name in enumerate(PREFERRED) if name in item[0].repository), len(PREFERRED))  # noqa: E731
        chosen.append(min(own, key=rank))
    return chosen, left_out


class ImagePullCheck:
    id = "image_pull"
    scope = "node"
    title = "One image pull through the endpoints containerd uses"

    def run(self, ctx, service) -> ImagePullEvidence:
        if ctx.settings.no_api:
            return ImagePullEvidence((), "--no-api")
        missing = [s for s in PULL_SERVICES if s not in {spec.id for spec in ctx.services}]
        if missing:  # a run narrowed to other services (--services) asks nothing of the pull's endpoints
            return ImagePullEvidence((), "the pull goes through %s; not checked in this run: %s"
                                     % (", ".join(PULL_SERVICES), ", ".join(missing)))
        region = ctx.facts.region or ""
        chosen, left_out = choose(ctx.facts, tuple(getattr(ctx.settings, "images", ()) or ()), region,
                                  ctx.partition.dns_suffix)
        if not chosen:
            reason = "no private ECR image of %s found on the node; name one with --image" % (region or "this region")
            return ImagePullEvidence((), "; ".join([reason] + left_out))
        pc = registry_pull.PullContext(
            region=region, dns_suffix=ctx.partition.dns_suffix, port=ctx.settings.https_port,
            credentials=ctx.credentials(), ssl_context=ctx.ssl_context(), timeout=ctx.step_timeout(),
            guard=ctx.guard, clock=ctx.clock, deadline=ctx.deadline, resolve=lambda host: _resolve(ctx, host),
            layer_hosts=tuple(h.lower() for h in _layer_hosts(ctx)))
        results = ctx.parallel([lambda ref=ref, source=source: registry_pull.pull(ref, source, pc)
                                for ref, source in chosen])
        pulls = tuple(r if isinstance(r, PullResult) else PullResult(
            image=ref.image, source=source, outcome="error", message="%s: %s" % (type(r).__name__, r))
            for r, (ref, source) in zip(results, chosen))
        return ImagePullEvidence(pulls, "; ".join(left_out) or None)


def _layer_hosts(ctx) -> List[str]:
    """The layer bucket's names (the s3 catalogue entry's first hostname is AWS's ECR layer bucket)."""
    from .catalogue import load_catalogue

    spec = next((s for s in load_catalogue() if s.id == "s3"), None)
    return [h for h in ctx.hostnames(spec) if "starport-layer-bucket" in h] if spec is not None else []


def _resolve(ctx, host: str) -> List[Tuple[str, Optional[str]]]:
    """The addresses the node itself would use (its first resolver that answers, as node_addresses()
    takes them), each with its scope (vpc, remote, public)."""
    from .probes.dns import NODE

    node = [(role, server) for role, server in ctx.resolvers if role == NODE] or ctx.resolvers[:1]
    for role, server in node:
        lookup = ctx.dns(host, role, server)
        if lookup.addresses:
            return [(a.address, a.scope) for a in lookup.addresses]
    return []
