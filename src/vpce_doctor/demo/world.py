"""A simulated isolated VPC on loopback, made of real servers: DNS responders, TLS
endpoints in front of moto, blackholed "public" addresses, and an IMDS server.

Address plan (aws_side.LOOPBACK, all inside 127.0.0.0/8, so nothing ever leaves the machine):
  VPC 127.10.0.0/16; subnets 127.10.1.0/24 (AZ a, the node), .2 (b), .3 (c)
  VPC resolver 127.10.0.2 (its private hosted zones behind it on 127.10.0.3), corporate resolver 127.10.0.53,
  IMDS 127.10.0.254, a hub VPC's resolver (centralised DNS) 127.172.0.2,
  the Pod Identity agent's link-local address (169.254.170.23 on a node) 127.10.0.23
  endpoint ENIs 127.10.<az>.20+ (127.19.<az>.20+ in the secondary CIDR block), EKS API server 127.10.1.100
  a hub VPC's centralised endpoints 127.172.<az>.20+ (behind a transit gateway route, or --endpoint-cidr)
  "public" AWS addresses 127.203.0.0/24: connections there time out, as from an isolated subnet
"""
from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from typing import List, Optional, Tuple

from ..core.settings import Settings
from . import dns_zones
from .aws_side import ACCOUNT, LOOPBACK, SimulatedAws
from .components_side import FakesOnThisMachine, PodIdentityAgent, runs_fakes, start_fake_component
from .dns_server import DnsResponder, ZoneData
from .https_endpoint import Blackhole, EndpointServer, SilentUdp
from .imds_server import ImdsServer
from . import registry_side
from .lifecycle import StartStop, stop_all
from .scenarios import Scenario, process_secrets

POD_IDENTITY_IP = "127.10.0.23"
ZONE_SERVER_IP = "127.10.0.3"  # Route 53's private hosted zones behind a dnsmasq VPC resolver (_start_dns)


class World(StartStop):
    """Use as a context manager; everything started is stopped on exit, even on error."""

    def __init__(self, scenario: Scenario, dns_backend: str = "inprocess"):
        self.scenario = scenario
        self.plan = LOOPBACK
        self.aws = SimulatedAws(scenario, self.plan)
        self.dns_backend = dns_backend
        self.tmp = tempfile.mkdtemp(prefix="vpce-doctor-world-")
        self._running: List[object] = []
        self.https_port = 0
        self.kubelet: Optional[subprocess.Popen] = None
        self.fakes: List[subprocess.Popen] = []  # the scenario's component processes
        self.pod_identity_port = 0
        # how long stop() waits for the servers; the interactive demo, which leaves with os._exit
        # right after, waits less (in-process servers end with the process; children are killed by PID)
        self.stop_within = 5.0
        self.fakes_lock = FakesOnThisMachine()

    # --- lifecycle -----------------------------------------------------------------
    def _keep(self, thing):
        self._running.append(thing)
        return thing

    def start(self) -> None:
        if runs_fakes(self.scenario):
            self.fakes_lock.acquire()
        self.aws.make_tls_material(self.tmp)
        self._keep(self.aws).start()
        # One port for every endpoint address: one no address uses (a wildcard bind's port), so a
        # World beside this one (parallel test workers) cannot already hold it on some ENI address.
        # Only bound for the moment it takes to read the number; nothing is sent.
        self.https_port = self._free_port("0.0.0.0")
        self._start_endpoints()
        self._start_dns()
        self.imds = self._keep(ImdsServer(self.plan.imds_ip, self.aws.imds_facts(), mode=self.scenario.imds).start())
        if self.scenario.kubelet_env is not None:
            self.kubelet = start_fake_kubelet(self.scenario.kubelet_env)
        self._start_components()

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.kill()  # our own child, by PID
            self.kubelet.wait(timeout=5)
            self.kubelet = None
        for fake in self.fakes:  # our own children, by PID
            fake.kill()
            fake.wait(timeout=5)
        self.fakes = []
        stop_all(reversed(self._running), self.stop_within)  # side by side, bounded: quitting the demo feels instant
        self._running = []
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.fakes_lock.release()

    # --- what vpce-doctor is pointed at ---------------------------------------------
    @property
    def requests(self) -> List[Tuple[str, str]]:
        return self.aws.requests

    @property
    def ca_path(self) -> str:
        return self.aws.ca_path

    def node_resolvers(self) -> Tuple[str, ...]:
        if self.scenario.node_dns == "vpc":
            return (self.vpc_resolver_addr,)
        return ("%s:%d" % (self.plan.corporate_resolver_ip, self.corporate.port),)

    def settings(self, timeout: float = 1.0, **overrides) -> Settings:
        values = dict(
            services=self.scenario.services, vpc_resolver=self.vpc_resolver_addr, resolvers=self.node_resolvers(),
            imds_endpoint="http://%s:%d" % (self.plan.imds_ip, self.imds.port), ca_bundle=self.ca_path,
            timeout=timeout, https_port=self.https_port, allow_net=self.plan.allow_net,
            scan_processes=self.scenario.kubelet_env is not None or bool(self.scenario.processes),
            cluster_endpoint=self.aws.cluster_url(),
        )
        if self.scenario.pull_images:
            values["images"] = self.scenario.images()
        if self.scenario.pod_identity:
            values["pod_identity_endpoints"] = ("http://%s:%d" % (POD_IDENTITY_IP, self.pod_identity_port),)
        if self.scenario.hub_services and self.scenario.hub_route == "flag":
            values.update(endpoint_cidrs=(self.plan.hub_cidr,))  # what the operator of a hub layout passes
        if self.scenario.imds in ("down", "off"):
            # What an operator passes when IMDS is gone.
            values.update(region=self.aws.region, vpc_cidrs=(self.plan.vpc_cidr,), account_id=ACCOUNT)
        values.update(overrides)
        return Settings(**values)

    def cli_args(self, timeout: float = 1.0) -> List[str]:
        return settings_to_args(self.settings(timeout)) + ["--resolv-conf", os.devnull]

    def credentials_provider(self, settings: Settings):
        """Instance-role credentials from the simulated IMDS only (read by discovery), as on a
        node: a developer's own ~/.aws or AWS_* variables never sign the demo's calls."""
        return lambda ctx: ctx.facts.instance_credentials

    @property
    def secrets(self) -> List[str]:
        """What must never appear in any output."""
        return [self.imds.credentials[k] for k in ("AccessKeyId", "SecretAccessKey", "Token")] \
            + process_secrets(self.scenario) + registry_side.secrets(ACCOUNT)

    # --- pieces ----------------------------------------------------------------------
    def _start_components(self) -> None:
        if self.scenario.pod_identity == "up":
            self.pod_identity_port = self._keep(PodIdentityAgent(POD_IDENTITY_IP).start()).port
        elif self.scenario.pod_identity == "down":
            self.pod_identity_port = self._free_port(POD_IDENTITY_IP)  # nothing listens there: refused
        for process in self.scenario.processes:
            self.fakes.append(start_fake_component(process))

    @staticmethod
    def _free_port(ip: str) -> int:
        with socket.socket() as sock:
            sock.bind((ip, 0))
            return sock.getsockname()[1]

    def _start_dns(self) -> None:
        if self.scenario.vpc_resolver_down:
            silent = self._keep(SilentUdp(self.plan.vpc_resolver_ip).start())
            self.vpc_resolver_addr = "%s:%d" % (self.plan.vpc_resolver_ip, silent.port)
        else:
            zone = dns_zones.vpc_zone(self.aws)
            if zone.zones and self.dns_backend == "dnsmasq":
                # dnsmasq writes no SOA into a negative answer: Route 53's side of the private zones is the
                # in-process responder, which dnsmasq forwards those zones to (and passes its answers on)
                zones = self._keep(DnsResponder(ZONE_SERVER_IP, zone).start())
                zone.zone_server = (ZONE_SERVER_IP, zones.port)
            vpc = self._keep(self._dns_server(self.plan.vpc_resolver_ip, zone))
            self.vpc_resolver_addr = "%s:%d" % (self.plan.vpc_resolver_ip, vpc.port)
        hub = None
        if self.scenario.node_dns == "hub":  # the hub VPC's Resolver inbound endpoint
            hub_server = self._keep(self._dns_server(self.plan.hub_resolver_ip, dns_zones.hub_zone(self.aws)))
            hub = (self.plan.hub_resolver_ip, hub_server.port)
        host, port = self.vpc_resolver_addr.split(":")
        zone = dns_zones.corporate_zone(self.aws, (host, int(port)), hub)
        self.corporate = self._keep(self._dns_server(self.plan.corporate_resolver_ip, zone))

    def _dns_server(self, ip: str, zone: ZoneData):
        if self.dns_backend == "dnsmasq":
            from .dnsmasq import Dnsmasq

            return Dnsmasq(ip, zone, self.tmp).start()
        return DnsResponder(ip, zone).start()

    def _tls_context(self, cert) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        return context

    def _start_endpoints(self) -> None:
        sc, aws = self.scenario, self.aws
        served = set()
        for service_id, addresses in aws.eni_addresses.items():
            cert = aws.rogue_cert if service_id in sc.untrusted_tls else aws.server_cert
            for ip, letter in addresses:
                if letter in sc.sg_drop_443.get(service_id, ()):
                    self._keep(Blackhole(ip, self.https_port).start())
                else:
                    self._serve(ip, cert)
                served.add(ip)
        for service_id, addresses in aws.hub_addresses.items():
            for ip, _ in addresses:
                if service_id in sc.hub_unreachable:
                    self._keep(Blackhole(ip, self.https_port).start())
                else:
                    self._serve(ip, aws.server_cert)
                served.add(ip)
        for ip in aws.reachable_public_addresses():
            if ip not in served:
                self._serve(ip, aws.server_cert)
                served.add(ip)
        if sc.cluster_endpoint == "private":
            self._serve(self.plan.cluster_ip, aws.server_cert)
        # Every other public address a probe may be sent to swallows the connection.
        for ip in sorted({aws.public_address(n) for n in aws.known_names()} - served):
            self._keep(Blackhole(ip, self.https_port).start())

    def _serve(self, ip: str, cert) -> None:
        server = EndpointServer((ip, self.https_port), self._tls_context(cert), self.aws.route, self.aws.aws_clock)
        self._keep(server.start())


def settings_to_args(s: Settings) -> List[str]:
    """The command line that gives `vpce-doctor check` these settings."""
    args = ["--services", ",".join(s.services), "--vpc-resolver", s.vpc_resolver, "--imds-endpoint", s.imds_endpoint,
            "--timeout", str(s.timeout), "--https-port", str(s.https_port)]
    if s.ca_bundle:
        args += ["--ca-bundle", s.ca_bundle]
    for r in s.resolvers:
        args += ["--resolver", r]
    for net in s.allow_net:
        args += ["--allow-net", net]
    if not s.scan_processes:
        args.append("--no-process-scan")
    if s.cluster_endpoint:
        args += ["--cluster-endpoint", s.cluster_endpoint]
    for url in s.pod_identity_endpoints:
        args += ["--pod-identity-endpoint", url]
    for image in s.images:
        args += ["--image", image]
    if s.region:
        args += ["--region", s.region]
    if s.account_id:
        args += ["--account-id", s.account_id]
    for cidr in s.vpc_cidrs:
        args += ["--vpc-cidr", cidr]
    for cidr in s.endpoint_cidrs:
        args += ["--endpoint-cidr", cidr]
    return args


def start_fake_kubelet(environment) -> subprocess.Popen:
    """A process that looks like kubelet to a process scan (argv[0]) with the scenario's
    proxy environment; it only sleeps, and its starter kills it by PID."""
    env = {"PATH": "/usr/bin:/bin"}
    env.update(environment)
    return subprocess.Popen(["kubelet", "600"], executable=shutil.which("sleep") or "/bin/sleep", env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
