"""What the node role must be able to do through each endpoint, for the static policy check:
the catalogue's probe action, plus what image pulls need (ECR's pull actions through the
ecr.dkr endpoint, the layer bucket through the S3 gateway)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from ..checks.catalogue import Partition, ServiceSpec

# Actions kubelet and containerd use to pull from ECR (AmazonEC2ContainerRegistryReadOnly / PullOnly).
ECR_PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


def needed_actions(spec: ServiceSpec, region: str, partition: Partition) -> List[Tuple[str, Optional[str]]]:
    """(action, resource) pairs; resource None means "some resource we cannot name"."""
    probe = spec.probe
    if spec.id == "ecr.dkr":
        return [(a, None) for a in ECR_PULL]
    if spec.id == "s3":
        bucket = "prod-%s-starport-layer-bucket" % region
        return [("s3:GetObject", "arn:%s:s3:::%s/layer" % (partition.id, bucket))]
    if probe.get("kind") == "aws":
        action = "%s:%s" % (probe.get("signing_name", spec.id.split(".")[0]), probe["operation"])
        return [(action, None)]
    return []
