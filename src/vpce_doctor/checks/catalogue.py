"""The service catalogue: which AWS services a node may need, as data (catalogue.json).

Partition facts (DNS suffixes, which regions belong where) come from botocore's own
partition data so a new region or partition needs no code change here.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from ..core.files import package_text

READ_ONLY_OPERATION = re.compile(r"^(Describe|Get|List)[A-Z]")


@dataclass(frozen=True)
class Partition:
    id: str
    dns_suffix: str
    api_suffix: str  # the dual-stack "api.aws"-style suffix (eks-auth lives there)


@dataclass(frozen=True)
class ServiceSpec:
    id: str
    endpoint_type: str  # Interface | Gateway
    hostname_templates: Tuple[str, ...]
    required_by: Tuple[str, ...]
    always_required: bool
    probe: Dict[str, Any]
    # partition id -> endpoint service name template, where it is not com.amazonaws.{region}.{id}
    service_name_templates: Tuple[Tuple[str, str], ...] = ()

    def endpoint_service_name(self, region: str, partition: Partition) -> str:
        template = dict(self.service_name_templates).get(partition.id, "com.amazonaws.{region}.%s" % self.id)
        return template.format(region=region)

    def probe_for(self, facts: Dict[str, Optional[str]]) -> Dict[str, Any]:
        """The probe for this node: `with_facts` replaces the probe's own keys when every {fact} it
        names is known (the node's own instance id, its cluster's name), else the probe stands as is."""
        probe = {k: v for k, v in self.probe.items() if k != "with_facts"}
        overrides = self.probe.get("with_facts")
        if not overrides:
            return probe
        known = {k: v for k, v in facts.items() if v}
        try:
            filled = _fill(overrides, known)
        except KeyError:
            return probe
        probe.update(filled)
        return probe

    def iam_action(self, operation: Optional[str] = None) -> Optional[str]:
        """The IAM action the probe stands for (e.g. ec2:DescribeInstances; cloudwatch:ListDashboards,
        whose signing name is monitoring), for judging a denial against an endpoint policy."""
        probe = self.probe
        if probe.get("iam_action"):
            return probe["iam_action"]
        if probe.get("kind") != "aws":
            return None
        return "%s:%s" % (probe.get("signing_name", self.id), operation or probe["operation"])

    def iam_resource(self, region: str, partition: Partition) -> Optional[str]:
        template = self.probe.get("iam_resource")
        return template.format(region=region, partition=partition.id) if template else None

    def hostnames(self, region: str, partition: Partition, account: Optional[str]) -> List[str]:
        names = []
        for template in self.hostname_templates:
            if "{account}" in template and not account:
                continue
            names.append(
                template.format(
                    region=region,
                    dns_suffix=partition.dns_suffix,
                    api_suffix=partition.api_suffix,
                    account=account,
                )
            )
        return names


def _fill(value: Any, facts: Dict[str, str]) -> Any:
    """{fact} placeholders in strings, nested; KeyError when a fact is unknown."""
    if isinstance(value, dict):
        return {k: _fill(v, facts) for k, v in value.items()}
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: quote(facts[m.group(1)], safe=""), value)
    return value


@lru_cache(maxsize=1)
def _catalogue_data() -> Dict[str, Any]:
    text = package_text(__name__, "catalogue.json")
    return json.loads(text)


@lru_cache(maxsize=1)
def load_catalogue() -> Tuple[ServiceSpec, ...]:
    specs = []
    for entry in _catalogue_data()["services"]:
        probe = entry["probe"]
        operations = [probe["operation"], probe.get("with_facts", {}).get("operation", probe["operation"])]
        if not all(READ_ONLY_OPERATION.match(o) for o in operations):
            raise ValueError("catalogue probe for %s is not read-only: %s" % (entry["id"], probe["operation"]))
        specs.append(
            ServiceSpec(
                id=entry["id"],
                endpoint_type=entry["type"],
                hostname_templates=tuple(entry["hostnames"]),
                required_by=tuple(entry["required_by"]),
                always_required=bool(entry["always_required"]),
                probe=probe,
                service_name_templates=tuple(sorted((entry.get("endpoint_service_names") or {}).items())),
            )
        )
    return tuple(specs)


def service_ids() -> List[str]:
    return [s.id for s in load_catalogue()]


def select_services(ids: Optional[Sequence[str]]) -> List[ServiceSpec]:
    """The catalogue in its own order, limited to ids when given; unknown ids raise ValueError."""
    catalogue = load_catalogue()
    if not ids:
        return list(catalogue)
    known = {s.id for s in catalogue}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError("unknown service id(s): %s (see `vpce-doctor services`)" % ", ".join(unknown))
    wanted = set(ids)
    return [s for s in catalogue if s.id in wanted]


@lru_cache(maxsize=1)
def _partitions_data() -> List[Dict[str, Any]]:
    """botocore's partitions.json, read where botocore's loader would find it (~/.aws/models
    first, then the package's data) without importing botocore.loaders: that import alone
    costs ~100 ms (urllib3, botocore.compat), more than the rest of a healthy run's start-up."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("botocore")
    places = [os.path.expanduser(os.path.join("~", ".aws", "models"))]
    if spec is not None and spec.submodule_search_locations:
        places += [os.path.join(p, "data") for p in spec.submodule_search_locations]
    for place in places:
        path = os.path.join(place, "partitions.json")
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                return json.loads(handle.read().decode("utf-8"))["partitions"]
        if os.path.isfile(path + ".gz"):
            break  # compressed data (botocore reads .json.gz too): its loader, in its own order
    import botocore.loaders  # another layout (compressed data, a zip): botocore's loader knows it

    return botocore.loaders.Loader().load_data("partitions")["partitions"]


def partition_for_region(region: str) -> Partition:
    """The partition a region belongs to, by botocore's explicit list then its regex."""
    data = _partitions_data()
    for part in data:
        if region in part.get("regions", {}):
            return _partition(part)
    for part in data:
        if re.match(part["regionRegex"], region):
            return _partition(part)
    raise ValueError("region %r matches no AWS partition known to botocore" % region)


def _partition(part: Dict[str, Any]) -> Partition:
    outputs = part["outputs"]
    return Partition(id=part["id"], dns_suffix=outputs["dnsSuffix"], api_suffix=outputs["dualStackDnsSuffix"])
