"""`--redact`: a report fit for a public forum, as sosreport's cleaner makes one.

Every AWS resource id (instance, VPC, subnet, endpoint, ENI, security group, route table...),
account number and node/VPC address is replaced by a stand-in, consistently: the same value is
the same stand-in everywhere in the report (and across the reports of one `fleet --redact`), so
"endpoint vpce-REDACTED1 has no ENI in subnet-REDACTED2" still reads as a diagnosis.

Stand-ins keep the structure: `vpc-REDACTED1`, `REDACTED-ACCOUNT1`; an IPv4 address keeps its
host part and its network's /16 is moved to a documentation/benchmark prefix (198.18.x.y,
198.19.x.y, then 10.2xx.x.y), so addresses of one subnet stay together and CIDRs stay CIDRs.
What is public knowledge stays readable: link-local addresses (the VPC resolver 169.254.169.253,
IMDS 169.254.169.254, Time Sync 169.254.169.123, their IPv6 twins fd00:ec2::/64), loopback,
regions, AZs and service names.

Secrets are not this module's business: they are masked before any rendering (redact.py).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Dict, Iterator, List, Tuple

_ID_PREFIXES = ("vpce", "vpc", "subnet", "eni", "sg", "rtb", "i", "igw", "nat", "acl", "pl", "tgw", "ami", "vol",
                "eipalloc", "lt", "r", "sgr", "cvpn", "vpce-svc")
_ID = re.compile(r"(?<![A-Za-z0-9])(%s)-([0-9a-f]{8}|[0-9a-f]{17})(?![0-9a-f])" % "|".join(
    re.escape(p) for p in sorted(_ID_PREFIXES, key=len, reverse=True)))
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_IPV4 = re.compile(r"(?<![0-9.])((?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})){3})"
                   r"(?![0-9]|\.[0-9])")
_IP_DASHED = re.compile(r"(?<![0-9])ip-([0-9]{1,3})-([0-9]{1,3})-([0-9]{1,3})-([0-9]{1,3})(?![0-9])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Fa-f:])")
_KEEP_V4 = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/32", "255.255.255.255/32")]
_KEEP_V6 = [ipaddress.ip_network(n) for n in ("fe80::/10", "fd00:ec2::/64", "::1/128", "::/128")]


def _stand_in_prefixes() -> Iterator[Tuple[int, int]]:
    yield 198, 18
    yield 198, 19
    for second in range(255, 199, -1):
        yield 10, second


class IdRedactor:
    """One per report (or per fleet): the table of what stands in for what."""

    def __init__(self) -> None:
        self.table: Dict[str, str] = {}
        self._counts: Dict[str, int] = {}
        self._prefixes: Dict[Tuple[int, int], Tuple[int, int]] = {}
        self._free = _stand_in_prefixes()
        self._avoid: set = set()

    def _next(self, kind: str) -> int:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        return self._counts[kind]

    def _id(self, match: "re.Match") -> str:
        original = match.group(0)
        if original not in self.table:
            self.table[original] = "%s-REDACTED%d" % (match.group(1), self._next(match.group(1)))
        return self.table[original]

    def _account(self, match: "re.Match") -> str:
        original = match.group(0)
        if original not in self.table:
            self.table[original] = "REDACTED-ACCOUNT%d" % self._next("account")
        return self.table[original]

    def _v4(self, text: str) -> str:
        address = ipaddress.IPv4Address(text)
        if any(address in net for net in _KEEP_V4):
            return text
        octets = [int(o) for o in text.split(".")]
        key = (octets[0], octets[1])
        if key not in self._prefixes:
            prefix = next(self._free)
            while prefix in self._avoid:  # never a stand-in that is also someone's real address
                prefix = next(self._free)
            self._prefixes[key] = prefix
        first, second = self._prefixes[key]
        return "%d.%d.%d.%d" % (first, second, octets[2], octets[3])

    def _v6(self, match: "re.Match") -> str:
        text = match.group(1)
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return text  # a time like 12:30:45, not an address
        if any(address in net for net in _KEEP_V6):
            return text
        if text not in self.table:
            self.table[text] = str(ipaddress.IPv6Address("2001:db8::") + self._next("ipv6"))
        return self.table[text]

    def text(self, value: str) -> str:
        value = _ID.sub(self._id, value)
        value = _IP_DASHED.sub(lambda m: "ip-" + self._v4(".".join(m.groups())).replace(".", "-"), value)
        value = _IPV4.sub(lambda m: self._v4(m.group(1)), value)
        value = _IPV6.sub(self._v6, value)
        return _ACCOUNT.sub(self._account, value)

    def learn(self, value: Any) -> None:
        """First pass: note every /16 in use, so that no stand-in collides with a real one."""
        for text in _strings(value):
            for match in _IPV4.finditer(text):
                octets = match.group(1).split(".")
                self._avoid.add((int(octets[0]), int(octets[1])))

    def data(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth > 200:
            return value
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v, depth + 1) for v in value]
        return value

    def report(self, report: Dict[str, Any]) -> Dict[str, Any]:
        self.learn(report)
        return self.data(report)


def _strings(value: Any, depth: int = 0) -> List[str]:
    if isinstance(value, str):
        return [value]
    if depth > 200:
        return []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in ([k] if isinstance(k, str) else []) + _strings(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, depth + 1)]
    return []


def redact_ids(report: Dict[str, Any]) -> Dict[str, Any]:
    return IdRedactor().report(report)
