"""The endpoint inventory: DescribeVpcEndpoints (+ their ENIs, + the partition's real
service names) through the ec2 endpoint the node resolves, when that path and the
permissions allow. Otherwise an explicit "not available" with the reason."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from . import aws_call, https

EC2_VERSION = "2016-11-15"
MAX_PAGES = 5  # bounded pagination: 5 x 1000 endpoints is more than any VPC has
# EC2 throttles Describe* per account and region (a budget Karpenter, the VPC CNI and the
# autoscaler share): a throttled read is retried after a growing, jittered pause, a bounded
# number of times and only while the run's deadline leaves room for the pause and the call.
BACKOFF = (0.2, 0.6, 1.5)


def backoff_pause(attempt: int, remaining: float, step_timeout: float) -> Optional[float]:
    """Seconds to wait before retry `attempt` (0-based), or None when no retry fits the deadline."""
    import random

    if attempt >= len(BACKOFF):
        return None
    pause = BACKOFF[attempt] * (0.5 + random.random() / 2)
    return pause if remaining - pause > step_timeout else None


@dataclass(frozen=True)
class EndpointEni:
    id: str
    address: Optional[str]
    availability_zone: Optional[str]
    subnet_id: Optional[str]


@dataclass(frozen=True)
class Endpoint:
    id: str
    service_name: str
    type: str
    state: str
    private_dns_enabled: bool
    subnet_ids: Tuple[str, ...]
    security_group_ids: Tuple[str, ...]
    route_table_ids: Tuple[str, ...]
    dns_entries: Tuple[Dict[str, str], ...]
    enis: Tuple[EndpointEni, ...] = ()
    # the endpoint policy as DescribeVpcEndpoints returns it (JSON text; AWS fills in the default
    # full-access policy when none was given), for checks/endpoint_policy.evaluate
    policy_document: Optional[str] = None

    @property
    def availability_zones(self) -> Tuple[str, ...]:
        return tuple(sorted({e.availability_zone for e in self.enis if e.availability_zone}))


@dataclass(frozen=True)
class Inventory:
    available: bool
    reason: Optional[str] = None
    endpoints: Tuple[Endpoint, ...] = ()
    # catalogue id -> the partition's real endpoint service name, from DescribeVpcEndpointServices
    service_names: Dict[str, str] = field(default_factory=dict)
    ms: float = 0.0
    # the node's identity (or the ec2 endpoint's policy) denied DescribeVpcEndpoints: the usual
    # case with only the AWS-managed node policies
    denied: bool = False
    denied_by_endpoint_policy: bool = False
    # the node subnet's route table (probes/route_table.py), read even when the inventory is denied
    route_table: Optional[Any] = None

    def endpoints_for(self, service_name: str) -> List[Endpoint]:
        names = name_variants(service_name)
        return [e for e in self.endpoints if e.service_name in names]

    def endpoint_for(self, service_name: str) -> Optional[Endpoint]:
        """The endpoint for an endpoint service name; an available one first."""
        names = name_variants(service_name)
        matches = [e for e in self.endpoints if e.service_name in names]
        matches.sort(key=lambda e: e.state != "available")
        return matches[0] if matches else None


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node, name: str):
    for c in node:
        if _strip(c.tag) == name:
            return c
    return None


def _text(node, name: str) -> Optional[str]:
    c = _child(node, name)
    return c.text.strip() if c is not None and c.text else None


def _items(node, name: str) -> List:
    c = _child(node, name)
    return [i for i in c if _strip(i.tag) == "item"] if c is not None else []


def parse_endpoints(body: bytes) -> Tuple[List[Endpoint], Optional[str]]:
    root = ET.fromstring(body)
    endpoints = []
    for item in _items(root, "vpcEndpointSet"):
        endpoints.append(Endpoint(
            id=_text(item, "vpcEndpointId") or "",
            service_name=_text(item, "serviceName") or "",
            type=_text(item, "vpcEndpointType") or "",
            state=(_text(item, "state") or "").lower(),
            private_dns_enabled=(_text(item, "privateDnsEnabled") or "false").lower() == "true",
            subnet_ids=tuple(i.text for i in _items(item, "subnetIdSet") if i.text),
            security_group_ids=tuple(_text(i, "groupId") for i in _items(item, "groupSet") if _text(i, "groupId")),
            route_table_ids=tuple(i.text for i in _items(item, "routeTableIdSet") if i.text),
            dns_entries=tuple({"dns_name": _text(i, "dnsName") or "", "hosted_zone_id": _text(i, "hostedZoneId") or ""}
                              for i in _items(item, "dnsEntrySet")),
            enis=tuple(EndpointEni(i.text, None, None, None) for i in _items(item, "networkInterfaceIdSet") if i.text),
            policy_document=_text(item, "policyDocument"),
        ))
    return endpoints, _text(root, "nextToken")


def parse_enis(body: bytes) -> Dict[str, EndpointEni]:
    return parse_enis_page(body)[0]


def parse_enis_page(body: bytes) -> Tuple[Dict[str, EndpointEni], Optional[str]]:
    root = ET.fromstring(body)
    out = {}
    for item in _items(root, "networkInterfaceSet"):
        eni = EndpointEni(id=_text(item, "networkInterfaceId") or "", address=_text(item, "privateIpAddress"),
                          availability_zone=_text(item, "availabilityZone"), subnet_id=_text(item, "subnetId"))
        out[eni.id] = eni
    return out, _text(root, "nextToken")


def parse_service_names(body: bytes) -> Tuple[List[str], Optional[str]]:
    root = ET.fromstring(body)
    names = [i.text.strip() for i in _items(root, "serviceNameSet") if i.text]
    return names, _text(root, "nextToken")


class _Ec2:
    """Signed EC2 query calls pinned to one address."""

    def __init__(self, ctx, hostname: str, address: str):
        self.ctx, self.hostname, self.address = ctx, hostname, address
        if hasattr(ctx, "pinned_session"):  # on the connection discovery dialled ahead, if any
            self.session = ctx.pinned_session(address, hostname)
        else:
            self.session = https.PinnedSession(address, ctx.settings.https_port, hostname, ctx.ssl_context(),
                                               ctx.step_timeout())

    def __call__(self, action: str, params: Dict[str, str]) -> bytes:
        ctx = self.ctx
        body = urlencode(dict({"Action": action, "Version": EC2_VERSION}, **params)).encode()
        attempt = 0
        while True:
            answer = aws_call.exchange(
                "POST", "/", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body,
                signing_name="ec2", hostname=self.hostname, address=self.address, port=ctx.settings.https_port,
                region=ctx.facts.region, credentials=ctx.credentials(), ssl_context=ctx.ssl_context(),
                timeout=ctx.step_timeout(), guard=ctx.guard, clock=ctx.clock, session=self.session)
            if answer.status == 200:
                return answer.body
            code, message = aws_call.error_fields(answer.body, answer.headers, ctx.credentials(), "ec2")
            throttled = code in aws_call.THROTTLING_CODES
            pause = backoff_pause(attempt, ctx.remaining(), ctx.step_timeout()) if throttled else None
            if pause is None:
                outcome = aws_call.classify(answer.status, code, message)
                if outcome not in aws_call.DENIALS:
                    outcome = "http_%d" % answer.status
                raise aws_call.ExchangeFailed(outcome, None, "%s %s: %s" % (action, code, message))
            time.sleep(pause)
            attempt += 1


def _ec2_client(ctx, ec2_hostname: str):
    """A signed EC2 caller, or the reason there is none. The VPC resolver's in-VPC answer
    is preferred: the inventory is evidence-gathering, and works even when the node's
    own resolver is the thing that is broken."""
    if ctx.settings.no_api:
        return None, "--no-api: the inventory was not read"
    if not ctx.facts.vpc_id:
        return None, "the VPC id is unknown (IMDS gave none)"
    addresses = ctx.vpc_addresses(ec2_hostname) or ctx.node_addresses(ec2_hostname)
    if not addresses:
        return None, "%s does not resolve, so the ec2 API cannot be reached" % ec2_hostname
    if ctx.credentials() is None:
        return None, "no AWS credentials to call DescribeVpcEndpoints"
    return _Ec2(ctx, ec2_hostname, addresses[0]), None


def collect(ctx, ec2_hostname: str) -> Inventory:
    """This VPC's endpoints with their ENIs. The endpoints and the VPC's endpoint ENIs
    (interface-type vpc_endpoint) are read side by side on two connections: at real latency
    the by-id read that needs the endpoints first costs a round trip more. An ENI the filtered
    read did not return is then read by id, as before."""
    started = time.monotonic()

    def unavailable(reason: str, outcome: str = "") -> Inventory:
        return Inventory(available=False, reason=reason, denied=outcome in aws_call.DENIALS,
                         denied_by_endpoint_policy=outcome == aws_call.POLICY_DENIED,
                         ms=(time.monotonic() - started) * 1000.0)

    ec2, reason = _ec2_client(ctx, ec2_hostname)
    if ec2 is None:
        return unavailable(reason)
    ec2_enis = _Ec2(ctx, ec2.hostname, ec2.address)
    try:
        found = ctx.parallel([lambda: _endpoints(ec2, ctx.facts.vpc_id), lambda: _vpc_endpoint_enis(ec2_enis, ctx.facts.vpc_id)])
        if isinstance(found[0], BaseException):
            raise found[0]
        endpoints: List[Endpoint] = found[0]
        # the filtered read failing is no verdict of its own: the by-id read below says what is wrong
        enis: Dict[str, EndpointEni] = found[1] if isinstance(found[1], dict) else {}
        missing = [eni.id for e in endpoints for eni in e.enis if eni.id not in enis]
        for start in range(0, len(missing), 200):
            params = {"NetworkInterfaceId.%d" % (i + 1): eni for i, eni in enumerate(missing[start:start + 200])}
            enis.update(parse_enis(ec2("DescribeNetworkInterfaces", params)))
        endpoints = [_with_enis(e, enis) for e in endpoints]
    except aws_call.ExchangeFailed as exc:
        return unavailable("DescribeVpcEndpoints failed (%s): %s" % (exc.outcome, exc.message), exc.outcome)
    except ET.ParseError as exc:
        return unavailable("the ec2 API answered something that is not EC2 XML: %s" % exc)
    finally:
        ec2.session.close()
        ec2_enis.session.close()
    return Inventory(available=True, endpoints=tuple(endpoints), ms=(time.monotonic() - started) * 1000.0)


def _endpoints(ec2: "_Ec2", vpc_id: str) -> List[Endpoint]:
    endpoints: List[Endpoint] = []
    token = None
    for _ in range(MAX_PAGES):
        params = {"Filter.1.Name": "vpc-id", "Filter.1.Value.1": vpc_id, "MaxResults": "1000"}
        if token:
            params["NextToken"] = token
        page, token = parse_endpoints(ec2("DescribeVpcEndpoints", params))
        endpoints += page
        if not token:
            break
    return endpoints


def _vpc_endpoint_enis(ec2: "_Ec2", vpc_id: str) -> Dict[str, EndpointEni]:
    """Every interface endpoint ENI in the VPC, by id (a few per endpoint: one page in practice)."""
    enis: Dict[str, EndpointEni] = {}
    token = None
    for _ in range(MAX_PAGES):
        params = {"Filter.1.Name": "vpc-id", "Filter.1.Value.1": vpc_id,
                  "Filter.2.Name": "interface-type", "Filter.2.Value.1": "vpc_endpoint", "MaxResults": "1000"}
        if token:
            params["NextToken"] = token
        page, token = parse_enis_page(ec2("DescribeNetworkInterfaces", params))
        enis.update(page)
        if not token:
            break
    return enis


def _with_enis(endpoint: Endpoint, enis: Dict[str, EndpointEni]) -> Endpoint:
    from dataclasses import replace

    return replace(endpoint, enis=tuple(enis.get(e.id, e) for e in endpoint.enis))


def real_service_names(ctx, ec2_hostname: str, catalogue_names: Dict[str, str]) -> Dict[str, str]:
    """catalogue id -> the partition's own endpoint service name (aws-cn mixes
    cn.com.amazonaws and com.amazonaws). Empty when unreadable: the catalogue's names stand."""
    if ctx.partition.id != "aws-cn":
        # Only aws-cn mixes two prefixes; elsewhere the catalogue's names are the partition's own,
        # and the answer (~250 KB for every endpoint service) costs an EC2 request and several
        # round trips of transfer at real latency for nothing the report would show differently.
        return {}
    ec2, _ = _ec2_client(ctx, ec2_hostname)
    if ec2 is None:
        return {}
    try:
        names, _ = parse_service_names(ec2("DescribeVpcEndpointServices", {"MaxResults": "1000"}))
    except (aws_call.ExchangeFailed, ET.ParseError):
        return {}
    finally:
        ec2.session.close()
    available = set(names)
    found = {}
    for cid, expected in catalogue_names.items():
        for candidate in name_variants(expected):
            if candidate in available:
                found[cid] = candidate
                break
    return found


def name_variants(service_name: str) -> Tuple[str, str]:
    """Both spellings of an endpoint service name, the given one first."""
    suffix = service_name.split("com.amazonaws.", 1)[-1]
    plain, cn = "com.amazonaws." + suffix, "cn.com.amazonaws." + suffix
    return (cn, plain) if service_name.startswith("cn.") else (plain, cn)
