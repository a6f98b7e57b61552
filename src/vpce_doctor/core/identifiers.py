"""AWS identifiers as AWS shapes them. What IMDS (or whatever answers on its address) says the
node's region, VPC or subnet is ends up in DNS names we query, in API calls and in the fix
commands an operator pastes: a value that is not shaped like the identifier it claims to be is
refused with a note and dropped, never used.

Nothing is trimmed: "us-east-1 " or "us-east-1\\n" is not us-east-1 read carelessly, it is an
answer we cannot trust, and the run says so (then asks for --region if it has no other).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Dict, List, Optional

# fullmatch, never ^...$: "$" also matches before a trailing newline; [0-9], never \d: Unicode digits
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
PATTERNS: Dict[str, "re.Pattern[str]"] = {
    "region": re.compile(_REGION),
    # us-east-1a; Local Zones us-west-2-lax-1a; Wavelength us-east-1-wl1-bos-wlz-1
    "availability_zone": re.compile(r"%s(?:[a-z]|(?:-[a-z0-9]+)+)" % _REGION),
    "instance_id": re.compile(r"i-[0-9a-f]{8,17}"),
    "account_id": re.compile(r"[0-9]{12}"),
    "vpc_id": re.compile(r"vpc-[0-9a-f]{8,17}"),
    "subnet_id": re.compile(r"subnet-[0-9a-f]{8,17}"),
}
LABEL = {"region": "region", "availability_zone": "availability zone", "instance_id": "instance id",
         "account_id": "account id", "vpc_id": "VPC id", "subnet_id": "subnet id", "local_ipv4": "local IPv4 address",
         "vpc_cidr": "VPC CIDR"}
# identity document key -> our kind
IDENTITY_KEYS = {"region": "region", "availabilityZone": "availability_zone", "instanceId": "instance_id",
                 "accountId": "account_id", "privateIp": "local_ipv4"}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _cidr(value: str) -> bool:
    if "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def valid(kind: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if kind == "local_ipv4":
        return _ipv4(value)
    if kind == "vpc_cidr":
        return _cidr(value)
    return PATTERNS[kind].fullmatch(value) is not None


def vet(kind: str, value: Any, source: str, notes: List[str]) -> Optional[Any]:
    """`value` when it is a well-formed `kind` (or absent); else None, with a note that says so."""
    if value is None or value == "":
        return None
    if valid(kind, value):
        return value
    notes.append("error: %s gave an invalid %s %s: ignored" % (source, LABEL[kind], _shown(value)))
    return None


def vet_imds_facts(facts: Any, source: str = "IMDS") -> List[str]:
    """Checks, in place, every identifier of discovery's ImdsFacts (identity document, VPC,
    subnet, CIDRs, local address); returns the notes for what was dropped."""
    notes: List[str] = []
    identity = getattr(facts, "identity", None)
    if isinstance(identity, dict):
        for key, kind in IDENTITY_KEYS.items():
            if key in identity and vet(kind, identity[key], source, notes) is None:
                del identity[key]
    for attribute in ("vpc_id", "subnet_id", "local_ipv4"):
        setattr(facts, attribute, vet(attribute, getattr(facts, attribute, None), source, notes))
    cidrs = getattr(facts, "vpc_cidrs", None) or []
    facts.vpc_cidrs = [c for c in cidrs if vet("vpc_cidr", c, source, notes) is not None]
    return notes


def region_note(notes: List[str]) -> Optional[str]:
    """The note that explains a missing region, if one of `notes` is about the region."""
    return next((n for n in notes if " invalid region " in n), None)

