"""What the simulated VPC *is*, apart from how it is served: the address plan, moto with
the VPC, subnets and endpoints, DNS zone data, and how simulated AWS answers a request.

The loopback World (world.py) serves it from in-process servers; the root-only lab
(vpce_doctor.lab) serves the same thing from network namespaces, unbound, dnsmasq and nginx.
What each simulated resolver answers is dns_zones.py.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode
from typing import Dict, List, Optional, Tuple

from ..checks import endpoint_policy
from ..checks.catalogue import ServiceSpec, load_catalogue, partition_for_region
from . import aws_answers, aws_config, components_side, moto_changes, registry_side
from .scenarios import Scenario
from .simulated_account import ACCOUNT, AZ_OCTET, CLUSTER_NAME

CLUSTER_HOST = "0123456789ABCDEF0123456789ABCDEF.gr7.{region}.eks.{dns_suffix}"


@dataclass(frozen=True)
class AddressPlan:
    vpc_cidr: str
    subnet_prefix: str  # subnets are <prefix>.<AZ octet>.0/24
    vpc_resolver_ip: str
    corporate_resolver_ip: str
    imds_ip: str
    cluster_ip: str
    node_ip: str
    public_prefixes: Tuple[str, ...]  # /24s that stand for the internet
    allow_net: Tuple[str, ...]
    hub_prefix: str = ""  # a hub VPC (<prefix>.0.0/16) holding centralised endpoints, over a transit gateway
    secondary_prefix: str = ""  # the VPC's secondary CIDR block <prefix>.0.0/16

    @property
    def hub_cidr(self) -> str:
        return "%s.0.0/16" % self.hub_prefix

    @property
    def hub_resolver_ip(self) -> str:
        """The hub VPC's Route 53 Resolver inbound endpoint, where centralised DNS forwards AWS names."""
        return "%s.0.2" % self.hub_prefix

    @property
    def secondary_cidr(self) -> str:
        return "%s.0.0/16" % self.secondary_prefix

    def public_address(self, name: str) -> str:
        digest = hashlib.sha256(name.encode()).digest()
        return "%s.%d" % (self.public_prefixes[digest[1] % len(self.public_prefixes)], 10 + digest[0] % 240)

    def subnet(self, letter: str) -> str:
        return "%s.%d.0/24" % (self.subnet_prefix, AZ_OCTET[letter])


# Everything inside 127.0.0.0/8: the demo and the loopback tests, no root needed.
LOOPBACK = AddressPlan(vpc_cidr="127.10.0.0/16", subnet_prefix="127.10", vpc_resolver_ip="127.10.0.2",
                       corporate_resolver_ip="127.10.0.53", imds_ip="127.10.0.254", cluster_ip="127.10.1.100",
                       node_ip="127.10.1.10", public_prefixes=("127.203.0",), allow_net=("127.0.0.0/8",),
                       # 127/8 is neither RFC 1918 nor the VPC: the hub counts as remote through the route
                       # table's transit gateway route, or --endpoint-cidr
                       hub_prefix="127.172", secondary_prefix="127.19")
# The lab's namespaces: a VPC in shared address space, AWS's "public" side in the TEST-NET ranges.
LAB = AddressPlan(vpc_cidr="100.64.0.0/16", subnet_prefix="100.64", vpc_resolver_ip="169.254.169.253",
                  corporate_resolver_ip="100.64.0.53", imds_ip="169.254.169.254", cluster_ip="100.64.1.100",
                  node_ip="100.64.1.10", public_prefixes=("192.0.2", "198.51.100", "203.0.113"),
                  allow_net=("100.64.0.0/16", "169.254.169.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                             "10.99.0.0/16", "198.19.0.0/16"),
                  # a hub in RFC 1918 space; a secondary block from 198.19.0.0/16, which AWS allows and which is
                  # public to anyone who does not know the VPC's blocks
                  hub_prefix="10.99", secondary_prefix="198.19")


class SimulatedAws:
    def __init__(self, scenario: Scenario, plan: AddressPlan = LOOPBACK):
        self.scenario, self.plan = scenario, plan
        self.region = scenario.region
        self.partition = partition_for_region(scenario.region)
        self.specs: Dict[str, ServiceSpec] = {s.id: s for s in load_catalogue()}
        self.eni_addresses: Dict[str, List[Tuple[str, str]]] = {}  # service -> [(ip, az letter)]
        self.hub_addresses: Dict[str, List[Tuple[str, str]]] = {}  # hub endpoints' addresses, same shape
        self.vpce_records: Dict[str, List[str]] = {}  # vpce-... names -> addresses
        self.vpc_id: Optional[str] = None
        self.subnet_ids: Dict[str, str] = {}
        # every request that reached simulated AWS: (service, action) -- the read-only test reads it
        self.requests: List[Tuple[str, str]] = []
        self.answered: List[str] = []  # where each answer came from: "moto" or a wire corpus entry id
        self.moto = None
        self._endpoint_services = None  # (status, headers, body) cached at start
        self.warmed = threading.Event()  # the cache is filled and moto's backends are loaded

    def start(self, warm_in_background: bool = False) -> "SimulatedAws":
        """warm_in_background: the lab's backend writes its facts while the cache fills and moto's
        backends load (1.7 s of its start-up, beside the lab's own build; `warmed` says when it is
        done); a DescribeVpcEndpointServices that arrives before waits for the cache rather than
        making moto build it a second time."""
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log is noise here
        moto_changes.teach_interface_type()
        moto_changes.spare_repeated_loads()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        self.moto_address = self.moto.get_host_and_port()
        aws_answers.forward(self.moto_address, "POST", "/moto-api/reset", {"Host": "motoapi.amazonaws.com"}, b"")
        self._build_aws_side()
        if warm_in_background:
            threading.Thread(target=self._warm_up, name="simulator-warm-up", daemon=True).start()
        else:
            self._warm_up()
        return self

    def _warm_up(self) -> None:
        try:
            self._cache_endpoint_services()
            self._warm_moto()
        finally:
            self.warmed.set()

    def stop(self) -> None:
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def hostnames(self, service_id: str) -> List[str]:
        return self.specs[service_id].hostnames(self.region, self.partition, ACCOUNT)

    @property
    def cluster_host(self) -> str:
        return CLUSTER_HOST.format(region=self.region, dns_suffix=self.partition.dns_suffix).lower()

    def cluster_url(self) -> Optional[str]:
        return "https://%s" % self.cluster_host if self.scenario.cluster_endpoint else None

    def public_address(self, name: str) -> str:
        return self.plan.public_address(name)

    def reachable_public_addresses(self) -> List[str]:
        """With an S3 gateway endpoint on the node subnet's route table, S3's public addresses are routed to it."""
        sc = self.scenario
        if not (sc.s3_gateway and sc.s3_gateway_on_node_table and "s3" in sc.services):
            return []
        return sorted({self.public_address(n) for n in self.hostnames("s3")})

    def _ec2(self):
        return self._client("ec2")

    def _eks(self):
        return self._client("eks")

    def _client(self, name: str):
        import boto3

        return boto3.client(name, region_name=self.region, endpoint_url="http://%s:%d" % self.moto_address,
                            aws_access_key_id="demo", aws_secret_access_key="demo")

    def _build_aws_side(self) -> None:
        """Endpoints are created in moto first, then given the addresses and realistic DNS
        names the simulated network uses, so DescribeVpcEndpoints agrees with DNS."""
        from moto.backends import get_backend

        sc = self.scenario
        ec2 = self._ec2()
        self.vpc_id = ec2.create_vpc(CidrBlock=self.plan.vpc_cidr)["Vpc"]["VpcId"]
        self.subnet_ids = {}
        for letter, octet in AZ_OCTET.items():
            self.subnet_ids[letter] = ec2.create_subnet(VpcId=self.vpc_id, CidrBlock=self.plan.subnet(letter),
                                                        AvailabilityZone=self.region + letter)["Subnet"]["SubnetId"]
        eni_subnets, eni_prefix = self.subnet_ids, self.plan.subnet_prefix
        if sc.secondary_cidr_endpoints:
            ec2.associate_vpc_cidr_block(VpcId=self.vpc_id, CidrBlock=self.plan.secondary_cidr)
            eni_prefix = self.plan.secondary_prefix
            eni_subnets = {letter: ec2.create_subnet(VpcId=self.vpc_id, CidrBlock="%s.%d.0/24" % (eni_prefix, octet),
                                                     AvailabilityZone=self.region + letter)["Subnet"]["SubnetId"]
                           for letter, octet in AZ_OCTET.items()}
        node_table = self._node_route_table(ec2)
        group = aws_config.https_group(self, ec2)
        backend = get_backend("ec2")[ACCOUNT][self.region]
        next_host = {letter: 20 for letter in AZ_OCTET}
        for service_id in sc.endpoints:
            if service_id not in sc.services:
                continue
            azs = sc.eni_azs.get(service_id, ("a", "b"))
            name = self.specs[service_id].endpoint_service_name(self.region, self.partition)
            policy = aws_config.endpoint_policy(self, service_id)
            endpoint = ec2.create_vpc_endpoint(
                VpcId=self.vpc_id, ServiceName=name, VpcEndpointType="Interface",
                SubnetIds=aws_config.subnets_for(self, ec2, service_id, azs, eni_subnets),
                SecurityGroupIds=aws_config.security_groups(self, ec2, service_id, azs, group),
                PrivateDnsEnabled=service_id not in sc.private_dns_off,
                **({"PolicyDocument": policy} if policy else {}))["VpcEndpoint"]
            addresses = []
            for eni_id, letter in zip(endpoint["NetworkInterfaceIds"], azs):
                ip = "%s.%d.%d" % (eni_prefix, AZ_OCTET[letter], next_host[letter])
                next_host[letter] += 1
                eni = backend.enis[eni_id]
                eni.interface_type = "vpc_endpoint"  # as EC2 types an interface endpoint's ENI
                eni.private_ip_address = ip
                eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
                addresses.append((ip, letter))
            self.eni_addresses[service_id] = addresses
            backend.vpc_end_points[endpoint["VpcEndpointId"]].dns_entries = self._vpce_names(
                endpoint["VpcEndpointId"], service_id, addresses)
        if sc.s3_gateway and "s3" in sc.services:
            tables = [t["RouteTableId"] for t in
                      ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]}])["RouteTables"]]
            if not sc.s3_gateway_on_node_table:
                tables = [t for t in tables if t != node_table]
            gateway_policy = aws_config.gateway_policy(self)
            ec2.create_vpc_endpoint(VpcId=self.vpc_id, VpcEndpointType="Gateway",
                                    ServiceName=self.specs["s3"].endpoint_service_name(self.region, self.partition),
                                    RouteTableIds=tables, **({"PolicyDocument": gateway_policy} if gateway_policy else {}))
        self._hub_endpoints()
        aws_config.finish(self, ec2, self._client)
        if not sc.cluster_endpoint:  # finish() made it with the scenario's endpoint access
            self._eks().create_cluster(name=CLUSTER_NAME, roleArn="arn:aws:iam::%s:role/eks-cluster" % ACCOUNT,
                                   resourcesVpcConfig={"subnetIds": list(self.subnet_ids.values())})

    def _node_route_table(self, ec2) -> str:
        """The node subnet's route table: its own (explicit association) when the scenario puts the S3
        gateway elsewhere, else the VPC's main one; with the transit gateway route to a hub."""
        sc = self.scenario
        main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]},
                                                  {"Name": "association.main", "Values": ["true"]}])
        table = main["RouteTables"][0]["RouteTableId"]
        if not sc.s3_gateway_on_node_table:
            table = ec2.create_route_table(VpcId=self.vpc_id)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=table, SubnetId=self.subnet_ids["a"])
        if sc.hub_services:
            tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
            destination = self.plan.hub_cidr if sc.hub_route == "tgw" else "0.0.0.0/0"
            ec2.create_route(RouteTableId=table, DestinationCidrBlock=destination, TransitGatewayId=tgw)
        return table

    def _hub_endpoints(self) -> None:
        """The hub's endpoints live in another VPC (often another account): not in this VPC's inventory,
        only in DNS (the shared private zones, in moto by aws_config._hub_zone) and on the routed path."""
        for index, service_id in enumerate(s for s in self.scenario.hub_services if s in self.scenario.services):
            self.hub_addresses[service_id] = [("%s.%d.%d" % (self.plan.hub_prefix, AZ_OCTET[letter], 20 + index), letter)
                                              for letter in ("a", "b")]

    def _vpce_names(self, endpoint_id: str, service_id: str, addresses) -> List[Dict[str, str]]:
        """Regional and per-AZ names as AWS spells them; recorded for the VPC resolver too."""
        base = "%s-%s" % (endpoint_id, hashlib.sha256(endpoint_id.encode()).hexdigest()[:8])
        zone = "%s.%s.vpce.%s" % (service_id, self.region, self.partition.dns_suffix)
        regional = "%s.%s" % (base, zone)
        self.vpce_records[regional] = [ip for ip, _ in addresses]
        entries = [{"dns_name": regional, "hosted_zone_id": "Z7HUB22UULQXV"}]
        for ip, letter in addresses:
            zonal = "%s-%s%s.%s" % (base, self.region, letter, zone)
            self.vpce_records[zonal] = [ip]
            entries.append({"dns_name": zonal, "hosted_zone_id": "Z7HUB22UULQXV"})
        return entries

    def known_names(self) -> Tuple[str, ...]:
        return tuple(h for s in self.scenario.services for h in self.hostnames(s)) + (self.cluster_host,) \
            + components_side.public_names(self.scenario, self.region, self.partition)

    def public_domains(self) -> Tuple[str, ...]:
        return (self.partition.dns_suffix, self.partition.api_suffix)

    def aws_clock(self) -> float:
        return time.time() + self.scenario.aws_clock_offset

    def service_for_host(self, host: str) -> Optional[str]:
        for service_id in self.scenario.services:
            if host in self.hostnames(service_id):
                return service_id
        return None

    def route(self, server_ip, method, path, headers, body):
        """The answer to one request, and where it came from: every answer is moto's or a wire corpus
        entry's (with its public source); `answered` records which, for the test that holds it so."""
        answer = self._route(method, path, headers, body)
        self.answered.append(getattr(answer, "entry_id", "moto"))
        return answer

    def _route(self, method, path, headers, body):
        sc = self.scenario
        host = next((v for k, v in headers.items() if k.lower() == "host"), "").rsplit(":", 1)[0]
        if host == self.cluster_host:
            return aws_answers.cluster_unauthorized()
        service_id = self.service_for_host(host)
        if service_id is None:
            # nothing real answers a name the simulated VPC does not serve; the agent never asks one
            raise LookupError("no simulated service for Host %r" % host)
        probe = self.specs[service_id].probe
        request_action = aws_answers.action_of(method, path, headers, body)
        self.requests.append((service_id, request_action))
        protocol = probe.get("protocol", {"ecr.dkr": "registry", "s3": "s3"}.get(service_id, "json"))
        action = "%s:%s" % (probe.get("signing_name", service_id.split(".")[0]), probe["operation"])
        skew, stamp = aws_answers.request_skew(headers, self.aws_clock())
        if skew is not None and abs(skew) > 300:
            return aws_answers.skew_error(protocol, stamp, self.aws_clock(), ACCOUNT)
        if service_id in sc.policy_deny:
            return aws_answers.policy_denial(protocol, action, ACCOUNT)
        if service_id in sc.policy_deny_unnamed:
            # the endpoint's own policy decides each request, as AWS applies it
            request_iam_action = "%s:%s" % (probe.get("signing_name", service_id), request_action)
            verdict, _ = endpoint_policy.evaluate(aws_config.endpoint_policy(self, service_id), request_iam_action)
            if verdict != endpoint_policy.ALLOWED:
                return aws_answers.unnamed_denial(protocol, request_iam_action, ACCOUNT)
        if service_id in sc.org_deny:
            return aws_answers.scp_denial(protocol, action, ACCOUNT)
        if sc.managed_policies_only and probe["kind"] == "aws":
            iam_action = "%s:%s" % (probe["signing_name"], self._rest_operation(probe, path)
                                    if " " in request_action else request_action)
            if not aws_answers.managed_policies_allow(iam_action):
                return aws_answers.identity_denial(protocol, iam_action, ACCOUNT)
        if service_id in sc.identity_deny:
            return aws_answers.identity_denial(protocol, action, ACCOUNT)
        if registry_side.serves(service_id, path):  # the image pull's manifests, blobs and layer byte
            return registry_side.answer(self, ACCOUNT, service_id, method, path, headers)
        if service_id == "ecr.dkr":
            return aws_answers.registry_base(ACCOUNT, self.region)
        if service_id == "s3":
            return aws_answers.layer_bucket()
        if probe["kind"] == "http":
            return aws_answers.service_root(service_id)
        if service_id in aws_answers.NOT_IN_MOTO:
            return aws_answers.not_in_moto(service_id)
        if request_action == "DescribeVpcEndpointServices":
            self.warmed.wait(30)  # bounded: moto answers it itself if the cache never came
            if self._endpoint_services is not None:
                return self._endpoint_services
        return aws_answers.forward(self.moto_address, method, path, headers, body)

    @staticmethod
    def _rest_operation(probe, path: str) -> str:
        """REST APIs name their action by path: the catalogue's probe, or its with_facts variant."""
        variant = probe.get("with_facts") or {}
        if "path" in variant and re.fullmatch(re.sub(r"\\{\w+\\}", "[^/?]+", re.escape(variant["path"])),
                                              path.split("?", 1)[0]):
            return variant.get("operation", probe["operation"])
        return probe["operation"]

    def _to_moto(self, service_id: str, body: bytes):
        """A request straight to moto, past the simulated endpoints (not one of the node's requests):
        moto routes by Host and by the signing name in the credential scope; it checks no signature."""
        return aws_answers.forward(self.moto_address, "POST", "/", {
            "Host": self.hostnames(service_id)[0], "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=lab/20260101/%s/%s/aws4_request, SignedHeaders=host, "
                             "Signature=0" % (self.region, self.specs[service_id].probe.get("signing_name", service_id))},
            body)

    def _cache_endpoint_services(self) -> None:
        """moto rebuilds its ~400 endpoint services on every call (0.3-1.6 s of CPU, which also
        stalls every other simulated request); real AWS answers in well under 0.1 s. The list
        is static, so the simulator answers it from one call made at start-up."""
        body = urlencode({"Action": "DescribeVpcEndpointServices", "Version": "2016-11-15"}).encode()
        status, headers, content = self._to_moto("ec2", body)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("date", "server", "content-length")}
        self._endpoint_services = (status, headers, content) if status == 200 else None

    def _warm_moto(self) -> None:
        """moto imports a service's backend and builds its URL map on the first request that names
        the service (~90 ms of CPU on an idle machine, several times that under load), which real
        AWS never does: a node's first GetAuthorizationToken then ran past a short --timeout. One
        request per moto-served service at start-up pays it here. It names the API version (ELB's
        router raises without one) and no action, so moto answers 404 and keeps no state."""
        for service_id in self.scenario.services:
            probe = self.specs[service_id].probe
            if probe.get("kind") == "aws" and service_id not in aws_answers.NOT_IN_MOTO:
                self._to_moto(service_id, urlencode({"Version": probe["version"]}).encode() if "version" in probe else b"")

    def imds_facts(self) -> Dict[str, object]:
        return {"region": self.region, "availabilityZone": self.region + "a", "instanceId": "i-0123456789abcdef0",
                "accountId": ACCOUNT, "privateIp": self.plan.node_ip, "vpc_id": self.vpc_id,
                "subnet_id": self.subnet_ids["a"], "role": "eks-node-role", "cluster_name": CLUSTER_NAME,
                "vpc_cidrs": [self.plan.vpc_cidr] + ([self.plan.secondary_cidr] if self.scenario.secondary_cidr_endpoints
                                                     else [])}

    def make_tls_material(self, directory: str) -> None:
        import trustme

        suffix = "%s.%s" % (self.region, self.partition.dns_suffix)
        names = ["*.%s" % suffix, "*.ecr.%s" % suffix, "*.dkr.ecr.%s" % suffix, "*.s3.%s" % suffix,
                 "s3.%s" % suffix, "*.%s.%s" % (self.region, self.partition.api_suffix),
                 "*.gr7.%s.eks.%s" % (self.region, self.partition.dns_suffix)]
        # ECDSA: handshakes cost the in-process servers a fraction of RSA's CPU.
        self.ca = trustme.CA(organization_name="vpce-doctor simulated AWS", key_type=trustme.KeyType.ECDSA)
        self.ca_path = os.path.join(directory, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.server_cert = self.ca.issue_cert(*names)
        rogue = trustme.CA(organization_name="TLS inspection appliance", key_type=trustme.KeyType.ECDSA)
        self.rogue_cert = rogue.issue_cert(*names)

