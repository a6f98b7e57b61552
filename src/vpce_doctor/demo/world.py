"""A simulated isolated VPC on loopback, made of real servers: DNS responders, TLS
endpoints in front of moto, blackholed "public" addresses, and an IMDS server.

Address plan (all inside 127.0.0.0/8, so nothing ever leaves the machine):
  VPC 127.10.0.0/16; subnets 127.10.1.0/24 (AZ a, the node), .2 (b), .3 (c)
  VPC resolver 127.10.0.2, corporate resolver 127.10.0.53, IMDS 127.10.0.254
  endpoint ENIs 127.10.<az>.20+, EKS API server 127.10.1.100
  "public" AWS addresses 127.203.0.0/24: connections there time out, as from an isolated subnet
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Tuple

from ..agent.settings import Settings
from ..checks.catalogue import ServiceSpec, load_catalogue, partition_for_region
from . import aws_answers
from .dns_server import DnsResponder, ZoneData
from .https_endpoint import Blackhole, EndpointServer, SilentUdp
from .imds_server import ImdsServer
from .scenarios import Scenario

VPC_CIDR = "127.10.0.0/16"
AZ_OCTET = {"a": 1, "b": 2, "c": 3}
VPC_RESOLVER_IP = "127.10.0.2"
CORPORATE_RESOLVER_IP = "127.10.0.53"
IMDS_IP = "127.10.0.254"
CLUSTER_IP = "127.10.1.100"
ALLOW_NET = ("127.0.0.0/8",)
ACCOUNT = "123456789012"  # moto's default account
CLUSTER_HOST = "0123456789ABCDEF0123456789ABCDEF.gr7.{region}.eks.{dns_suffix}"


def public_address(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return "127.203.0.%d" % (10 + digest[0] % 240)


class World:
    """Use as a context manager; everything started is stopped on exit, even on error."""

    def __init__(self, scenario: Scenario, dns_backend: str = "inprocess"):
        self.scenario = scenario
        self.region = scenario.region
        self.partition = partition_for_region(scenario.region)
        self.dns_backend = dns_backend
        self.specs: Dict[str, ServiceSpec] = {s.id: s for s in load_catalogue()}
        self.tmp = tempfile.mkdtemp(prefix="vpce-doctor-world-")
        self._running: List[object] = []
        self.https_port = 0
        self.eni_addresses: Dict[str, List[Tuple[str, str]]] = {}  # service -> [(ip, az letter)]
        self.vpce_records: Dict[str, List[str]] = {}  # vpce-... names -> addresses
        self.vpc_id = self.subnet_ids = None
        self.kubelet: Optional[subprocess.Popen] = None
        # every request that reached simulated AWS: (service, action) -- the read-only test reads it
        self.requests: List[Tuple[str, str]] = []

    # --- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> "World":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _keep(self, thing):
        self._running.append(thing)
        return thing

    def start(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log is noise here
        self._make_tls_material()
        self.moto = self._keep(ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False))
        self.moto.start()
        self.moto_address = self.moto.get_host_and_port()
        aws_answers.forward(self.moto_address, "POST", "/moto-api/reset", {"Host": "motoapi.amazonaws.com"}, b"")
        self._build_aws_side()
        self.https_port = self._free_port(CLUSTER_IP)
        self._start_endpoints()
        self._start_dns()
        self.imds = self._keep(ImdsServer(IMDS_IP, self._imds_data(), mode=self.scenario.imds).start())
        if self.scenario.kubelet_env is not None:
            self._start_fake_kubelet()

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.kill()  # our own child, by PID
            self.kubelet.wait(timeout=5)
            self.kubelet = None
        for thing in reversed(self._running):
            try:
                thing.stop()
            except Exception:
                pass
        self._running = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- what vpce-doctor is pointed at ---------------------------------------------
    def node_resolvers(self) -> Tuple[str, ...]:
        if self.scenario.node_dns == "vpc":
            return (self.vpc_resolver_addr,)
        return ("%s:%d" % (CORPORATE_RESOLVER_IP, self.corporate.port),)

    def settings(self, timeout: float = 1.0, **overrides) -> Settings:
        values = dict(
            services=self.scenario.services, vpc_resolver=self.vpc_resolver_addr, resolvers=self.node_resolvers(),
            imds_endpoint="http://%s:%d" % (IMDS_IP, self.imds.port), ca_bundle=self.ca_path, timeout=timeout,
            https_port=self.https_port, allow_net=ALLOW_NET, scan_processes=self.scenario.kubelet_env is not None,
            cluster_endpoint=self.cluster_url(),
        )
        if self.scenario.imds == "down":
            # What an operator passes when IMDS is gone.
            values.update(region=self.region, vpc_cidrs=(VPC_CIDR,), account_id=ACCOUNT)
        values.update(overrides)
        return Settings(**values)

    def cli_args(self, timeout: float = 1.0) -> List[str]:
        s = self.settings(timeout)
        args = ["--services", ",".join(s.services), "--vpc-resolver", s.vpc_resolver,
                "--imds-endpoint", s.imds_endpoint, "--ca-bundle", s.ca_bundle, "--timeout", str(timeout),
                "--https-port", str(s.https_port), "--resolv-conf", os.devnull]
        for r in s.resolvers:
            args += ["--resolver", r]
        for net in s.allow_net:
            args += ["--allow-net", net]
        if not s.scan_processes:
            args.append("--no-process-scan")
        if s.cluster_endpoint:
            args += ["--cluster-endpoint", s.cluster_endpoint]
        if s.region:
            args += ["--region", s.region]
        if s.account_id:
            args += ["--account-id", s.account_id]
        for cidr in s.vpc_cidrs:
            args += ["--vpc-cidr", cidr]
        return args

    def cluster_url(self) -> Optional[str]:
        if not self.scenario.cluster_endpoint:
            return None
        return "https://%s" % self.cluster_host

    @property
    def cluster_host(self) -> str:
        return CLUSTER_HOST.format(region=self.region, dns_suffix=self.partition.dns_suffix).lower()

    def credentials_provider(self, settings: Settings):
        """Instance-role credentials from the simulated IMDS only, as on a node: a
        developer's own ~/.aws or AWS_* variables never sign the demo's calls."""

        def provide(ctx):
            if not ctx.facts.imds.get("reachable"):
                return None
            from botocore.credentials import InstanceMetadataProvider
            from botocore.utils import InstanceMetadataFetcher

            fetcher = InstanceMetadataFetcher(timeout=settings.timeout, num_attempts=1,
                                              config={"ec2_metadata_service_endpoint": settings.imds_endpoint})
            credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
            return credentials.get_frozen_credentials() if credentials else None

        return provide

    @property
    def secrets(self) -> List[str]:
        """What must never appear in any output."""
        return [self.imds.credentials["AccessKeyId"], self.imds.credentials["SecretAccessKey"],
                self.imds.credentials["Token"]]

    # --- pieces ----------------------------------------------------------------------
    def hostnames(self, service_id: str) -> List[str]:
        return self.specs[service_id].hostnames(self.region, self.partition, ACCOUNT)

    def _make_tls_material(self) -> None:
        import trustme

        suffix = "%s.%s" % (self.region, self.partition.dns_suffix)
        names = ["*.%s" % suffix, "*.ecr.%s" % suffix, "*.dkr.ecr.%s" % suffix, "*.s3.%s" % suffix,
                 "s3.%s" % suffix, "*.%s.%s" % (self.region, self.partition.api_suffix),
                 "*.gr7.%s.eks.%s" % (self.region, self.partition.dns_suffix)]
        # ECDSA: handshakes cost the in-process servers a fraction of RSA's CPU.
        self.ca = trustme.CA(organization_name="vpce-doctor simulated AWS", key_type=trustme.KeyType.ECDSA)
        self.ca_path = os.path.join(self.tmp, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.server_cert = self.ca.issue_cert(*names)
        rogue = trustme.CA(organization_name="TLS inspection appliance", key_type=trustme.KeyType.ECDSA)
        self.rogue_cert = rogue.issue_cert(*names)

    def _tls_context(self, cert):
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        return context

    @staticmethod
    def _free_port(ip: str) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind((ip, 0))
            return sock.getsockname()[1]

    def _ec2(self):
        import boto3

        return boto3.client("ec2", region_name=self.region, endpoint_url="http://%s:%d" % self.moto_address,
                            aws_access_key_id="demo", aws_secret_access_key="demo")

    def _build_aws_side(self) -> None:
        """Endpoints are created in moto first, then given the addresses and realistic DNS
        names the simulated network uses, so DescribeVpcEndpoints agrees with DNS."""
        from moto.backends import get_backend

        sc = self.scenario
        ec2 = self._ec2()
        self.vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
        self.subnet_ids = {}
        for letter, octet in AZ_OCTET.items():
            self.subnet_ids[letter] = ec2.create_subnet(VpcId=self.vpc_id, CidrBlock="127.10.%d.0/24" % octet,
                                                        AvailabilityZone=self.region + letter)["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="vpce-https", Description="443 from the VPC",
                                          VpcId=self.vpc_id)["GroupId"]
        backend = get_backend("ec2")[ACCOUNT][self.region]
        next_host = {letter: 20 for letter in AZ_OCTET}
        for service_id in sc.endpoints:
            if service_id not in sc.services:
                continue
            azs = sc.eni_azs.get(service_id, ("a", "b"))
            name = self.specs[service_id].endpoint_service_name(self.region, self.partition)
            endpoint = ec2.create_vpc_endpoint(
                VpcId=self.vpc_id, ServiceName=name, VpcEndpointType="Interface",
                SubnetIds=[self.subnet_ids[a] for a in azs], SecurityGroupIds=[group],
                PrivateDnsEnabled=service_id not in sc.private_dns_off)["VpcEndpoint"]
            addresses = []
            for eni_id, letter in zip(endpoint["NetworkInterfaceIds"], azs):
                ip = "127.10.%d.%d" % (AZ_OCTET[letter], next_host[letter])
                next_host[letter] += 1
                eni = backend.enis[eni_id]
                eni.private_ip_address = ip
                eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
                addresses.append((ip, letter))
            self.eni_addresses[service_id] = addresses
            backend.vpc_end_points[endpoint["VpcEndpointId"]].dns_entries = self._vpce_names(
                endpoint["VpcEndpointId"], service_id, addresses)
        if sc.s3_gateway and "s3" in sc.services:
            table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]}])
            ec2.create_vpc_endpoint(VpcId=self.vpc_id, VpcEndpointType="Gateway",
                                    ServiceName=self.specs["s3"].endpoint_service_name(self.region, self.partition),
                                    RouteTableIds=[t["RouteTableId"] for t in table["RouteTables"]])

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

    def _vpc_zone(self) -> ZoneData:
        records: Dict[str, List[str]] = dict(self.vpce_records)
        for service_id, addresses in self.eni_addresses.items():
            if service_id not in self.scenario.private_dns_off:
                for host in self.hostnames(service_id):
                    records[host] = [ip for ip, _ in addresses]
        if self.scenario.cluster_endpoint == "private":
            records[self.cluster_host] = [CLUSTER_IP]
        return ZoneData(records=records, public_domains=self._public_domains(), public_answer=public_address,
                        known_names=self._known_names())

    def _known_names(self) -> Tuple[str, ...]:
        return tuple(h for s in self.scenario.services for h in self.hostnames(s)) + (self.cluster_host,)

    def _public_domains(self) -> Tuple[str, ...]:
        return (self.partition.dns_suffix, self.partition.api_suffix)

    def _start_dns(self) -> None:
        sc = self.scenario
        if sc.vpc_resolver_down:
            silent = self._keep(SilentUdp(VPC_RESOLVER_IP).start())
            self.vpc_resolver_addr = "%s:%d" % (VPC_RESOLVER_IP, silent.port)
        else:
            vpc = self._keep(self._dns_server(VPC_RESOLVER_IP, self._vpc_zone()))
            self.vpc_resolver_addr = "%s:%d" % (VPC_RESOLVER_IP, vpc.port)
        host, port = self.vpc_resolver_addr.split(":")
        if sc.node_dns == "public":
            zone = ZoneData(public_domains=self._public_domains(), public_answer=public_address,
                            known_names=self._known_names())
        else:
            zone = ZoneData(forward_to=(host, int(port)))
            for service_id, how in sc.corporate_overrides.items():
                for name in self.hostnames(service_id)[:1]:
                    if how == "nxdomain":
                        zone.nxdomain.append(name)
                    else:
                        zone.records[name] = [public_address(name)]
        self.corporate = self._keep(self._dns_server(CORPORATE_RESOLVER_IP, zone))

    def _dns_server(self, ip: str, zone: ZoneData):
        if self.dns_backend == "dnsmasq":
            from .dnsmasq import Dnsmasq

            return Dnsmasq(ip, zone, self.tmp).start()
        return DnsResponder(ip, zone).start()

    def _start_endpoints(self) -> None:
        sc = self.scenario
        served = set()
        for service_id, addresses in self.eni_addresses.items():
            cert = self.rogue_cert if service_id in sc.untrusted_tls else self.server_cert
            for ip, letter in addresses:
                if letter in sc.sg_drop_443.get(service_id, ()):
                    self._keep(Blackhole(ip, self.https_port).start())
                else:
                    self._serve(ip, cert)
                served.add(ip)
        if sc.s3_gateway:  # the gateway endpoint makes S3's public addresses reachable
            for name in self.hostnames("s3"):
                ip = public_address(name)
                if ip not in served:
                    self._serve(ip, self.server_cert)
                    served.add(ip)
        if sc.cluster_endpoint == "private":
            self._serve(CLUSTER_IP, self.server_cert)
        # Every other public address a probe may be sent to swallows the connection.
        for ip in sorted({public_address(n) for n in self._known_names()} - served):
            self._keep(Blackhole(ip, self.https_port).start())

    def _serve(self, ip: str, cert) -> None:
        server = EndpointServer((ip, self.https_port), self._tls_context(cert), self._route, self._aws_clock)
        self._keep(server.start())

    def _aws_clock(self) -> float:
        return time.time() + self.scenario.aws_clock_offset

    def _service_for_host(self, host: str) -> Optional[str]:
        for service_id in self.scenario.services:
            if host in self.hostnames(service_id):
                return service_id
        return None

    def _route(self, server_ip, method, path, headers, body):
        sc = self.scenario
        host = next((v for k, v in headers.items() if k.lower() == "host"), "").rsplit(":", 1)[0]
        if host == self.cluster_host:
            return 401, {"Content-Type": "application/json"}, b'{"kind":"Status","code":401}'
        service_id = self._service_for_host(host)
        if service_id is None:
            return 404, {"Content-Type": "text/plain"}, b"no such service here"
        probe = self.specs[service_id].probe
        self.requests.append((service_id, aws_answers.action_of(method, path, headers, body)))
        protocol = probe.get("protocol", {"ecr.dkr": "registry", "s3": "s3"}.get(service_id, "json"))
        action = "%s:%s" % (probe.get("signing_name", service_id.split(".")[0]), probe["operation"])
        skew, stamp = aws_answers.request_skew(headers, self._aws_clock())
        if skew is not None and abs(skew) > 300:
            return aws_answers.skew_error(protocol, stamp, self._aws_clock())
        if service_id in sc.policy_deny:
            return aws_answers.policy_denial(protocol, action, ACCOUNT)
        if service_id in sc.identity_deny:
            return aws_answers.identity_denial(protocol, action, ACCOUNT)
        if service_id == "ecr.dkr":
            return aws_answers.registry_base()
        if service_id == "s3":
            return aws_answers.layer_bucket()
        if probe["kind"] == "http":
            return aws_answers.service_root()
        return aws_answers.forward(self.moto_address, method, path, headers, body)

    def _imds_data(self) -> Dict[str, object]:
        return {"region": self.region, "availabilityZone": self.region + "a", "instanceId": "i-0123456789abcdef0",
                "accountId": ACCOUNT, "privateIp": "127.10.1.10", "vpc_id": self.vpc_id,
                "subnet_id": self.subnet_ids["a"], "vpc_cidrs": [VPC_CIDR], "role": "eks-node-role"}

    def _start_fake_kubelet(self) -> None:
        """A process that looks like kubelet to a process scan (argv[0]) with the
        scenario's proxy environment; it only sleeps, and is killed by PID on stop."""
        env = {"PATH": "/usr/bin:/bin"}
        env.update(self.scenario.kubelet_env or {})
        self.kubelet = subprocess.Popen(["kubelet", "600"], executable=shutil.which("sleep") or "/bin/sleep",
                                        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
