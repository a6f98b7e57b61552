"""Lab(scenario): build the namespaces, start the servers, run vpce-doctor in the node
namespace, and tear everything down again, failure or not."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

from ..demo import dns_zones
from ..demo.aws_side import LAB, SimulatedAws
from ..demo.dnsmasq import render_config as dnsmasq_conf
from ..demo.lifecycle import StartStop
from ..demo.scenarios import Scenario, process_secrets
from ..demo.simulated_account import ACCOUNT
from ..demo.components_side import FakesOnThisMachine, runs_fakes, start_fake_component
from ..demo.world import start_fake_kubelet
from . import configs
from .netns import HUB_LINK, Namespaces, ip, netns_exec, sweep_stale
from .warm_backend import ForkedBackend, WarmBackends

BACKEND_PORT = 8081
VPC_PLUS_TWO = "100.64.0.2"
POD_IDENTITY_IP = "169.254.170.23"  # the agent's real address, in the node namespace


class LabUnavailable(Exception):
    """Not root, or a tool the lab needs is missing."""


def require_tools() -> None:
    if os.geteuid() != 0:
        raise LabUnavailable("the lab needs root (network namespaces)")
    missing = [t for t in ("ip", "unbound", "dnsmasq", "nginx", "dig", "curl") if not _which(t)]
    if missing:
        raise LabUnavailable("missing: %s (make test installs them)" % ", ".join(missing))


def _which(tool: str) -> Optional[str]:
    return shutil.which(tool) or next((p for p in ("/usr/sbin/" + tool, "/sbin/" + tool) if os.path.exists(p)), None)


class LabsOnThisMachine(FakesOnThisMachine):
    """One lab at a time on the machine: a lab's probes run at --timeout against servers in
    namespaces, and two or more labs side by side on two cores pushed a healthy lab's probes past
    it. The other tests go on beside the one lab (make test runs them niced)."""

    path = "/tmp/vpce-doctor-lab.lock"
    what = "the lab"
    _held = 0
    _handle = None
    _guard = threading.Lock()

    def __init__(self, wait: float = 3600.0):
        super().__init__(wait)


class Lab(StartStop):
    def __init__(self, scenario: Scenario, tag: Optional[str] = None, one_way_delay: Optional[float] = None,
                 warm_backend: bool = True):
        """one_way_delay: seconds added each way between node and VPC (a relay stands in for netem).
        warm_backend: fork the backend from the warm process (warm_backend.py) rather than start it cold."""
        self.scenario = scenario
        self.warm_backend = warm_backend
        self.plan = LAB
        self.model = SimulatedAws(scenario, LAB)  # for zones and names; moto runs in the backend process
        self.ns = Namespaces(tag or scenario.name.replace("-", "")[:10], relay=one_way_delay is not None,
                             hub=bool(scenario.hub_services))
        self.one_way_delay = one_way_delay
        self.relay: Optional[subprocess.Popen] = None
        self.workdir = tempfile.mkdtemp(prefix="vpce-doctor-lab-")
        os.chmod(self.workdir, 0o755)
        self.processes: List["subprocess.Popen | ForkedBackend"] = []
        self._in_node_proven = False
        self.kubelet: Optional[subprocess.Popen] = None
        self.fakes: List[subprocess.Popen] = []  # the scenario's component processes
        self.facts: Dict = {}
        self.fakes_lock = FakesOnThisMachine()
        self.lab_lock = LabsOnThisMachine()

    # --- building ----------------------------------------------------------------------
    def _spawn(self, name: str, argv: List[str]) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, "%s.log" % name), "wb")
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        process.lab_name = name
        self.processes.append(process)
        return process

    def _log_tail(self, name: str) -> str:
        try:
            with open(os.path.join(self.workdir, "%s.log" % name), errors="replace") as handle:
                return handle.read()[-800:]
        except OSError:
            return ""

    def start(self) -> None:
        require_tools()
        sweep_stale()
        self.lab_lock.acquire()  # before the fakes lock, always: two holders never wait on each other
        if runs_fakes(self.scenario):
            self.fakes_lock.acquire()
        sc, plan, ns = self.scenario, self.plan, self.ns
        ns.create()
        if self.one_way_delay is not None:
            self.set_delay(self.one_way_delay)
        ns.wire(plan.node_ip, list(plan.public_prefixes))
        for address, up in ((plan.imds_ip, sc.imds != "down"), (plan.vpc_resolver_ip, not sc.vpc_resolver_down),
                            (VPC_PLUS_TWO, not sc.vpc_resolver_down), (plan.corporate_resolver_ip, True)):
            (ns.serve_address if up else ns.drop_address)(address)
        if ns.hub:
            ns.wire_hub(plan.hub_cidr)
        backend_argv = [sc.name, self.workdir, str(BACKEND_PORT)] + ([HUB_LINK[0]] if ns.hub else [])
        if self.warm_backend:  # forked from the process that imported and warmed the simulator once
            backend = WarmBackends.shared().fork(ns.vpc, backend_argv, self._path("backend.log"))
            self.processes.append(backend)
        else:
            backend = self._spawn("backend", netns_exec(ns.vpc, [sys.executable, "-m", "vpce_doctor.lab.backend"]
                                                        + backend_argv))
        self.facts = self._wait_for_facts(backend)  # the simulator warms up meanwhile (backend.py)
        servers = []
        for service_id, addresses in self.facts["eni_addresses"].items():
            cert = "rogue" if service_id in sc.untrusted_tls else "server"
            for address, letter in addresses:
                if letter in sc.sg_drop_443.get(service_id, ()):
                    ns.drop_address(address)
                else:
                    ns.serve_address(address)
                    servers.append((address, cert))
        # a hub VPC's endpoints, in their own namespace behind the vpc router's transit-gateway route
        hub_servers = []
        for service_id, addresses in self.facts["hub_addresses"].items():
            for address, _ in addresses:
                if service_id in sc.hub_unreachable:
                    ns.drop_hub_address(address)
                else:
                    ns.serve_hub_address(address)
                    hub_servers.append((address, "server"))
        for address in self.facts["reachable_public"]:
            ns.serve_address(address)
            servers.append((address, "server"))
        if sc.cluster_endpoint == "private":
            ns.serve_address(plan.cluster_ip)
            servers.append((plan.cluster_ip, "server"))
        self._write("nginx.conf", configs.nginx_conf(self.workdir, BACKEND_PORT, servers,
                                                         backend_host=HUB_LINK[0] if ns.hub else "127.0.0.1"))
        self._spawn("nginx", netns_exec(ns.vpc, [_which("nginx"), "-c", self._path("nginx.conf"), "-p", self.workdir]))
        if hub_servers:
            self._write("nginx-hub.conf", configs.nginx_conf(self.workdir, BACKEND_PORT, hub_servers,
                                                             backend_host=HUB_LINK[0], name="nginx-hub"))
            self._spawn("nginx-hub", netns_exec(ns.hub, [_which("nginx"), "-c", self._path("nginx-hub.conf"),
                                                         "-p", self.workdir]))
        if not sc.vpc_resolver_down:
            records = dict(self.facts["vpc_zone"])
            private = self.facts["private_zones"]
            for name, address in self.facts["public"].items():
                if not any(name == z or name.endswith("." + z) for z in private):  # a private zone's, or NXDOMAIN
                    records.setdefault(name, [address])
            zones = (self.facts["dns_suffix"], self.facts["api_suffix"])
            self._write("unbound.conf", configs.unbound_conf(self.workdir, [plan.vpc_resolver_ip, VPC_PLUS_TWO],
                                                             records, zones, private))
            self._spawn("unbound", netns_exec(ns.vpc, [_which("unbound"), "-d", "-c", self._path("unbound.conf")]))
        hub_resolver = None
        if sc.node_dns == "hub":  # the hub VPC's Resolver inbound endpoint, in the hub namespace
            hub_resolver = (plan.hub_resolver_ip, 53)
            ns.serve_hub_address(plan.hub_resolver_ip)
            hub_zone = dns_zones.hub_zone(self.model)  # the model is not started: the hub's addresses are the backend's
            hub_zone.records = {name: list(addresses) for name, addresses in self.facts["hub_zone"].items()}
            self._write("dnsmasq-hub.conf", dnsmasq_conf(plan.hub_resolver_ip, 53, hub_zone))
            self._spawn("dnsmasq-hub", netns_exec(ns.hub, [_which("dnsmasq"), "--keep-in-foreground", "--user=root",
                                                           "--pid-file=", "--conf-file=" + self._path("dnsmasq-hub.conf")]))
        corporate = dns_zones.corporate_zone(self.model, (plan.vpc_resolver_ip, 53), hub_resolver)
        self._write("dnsmasq.conf", dnsmasq_conf(plan.corporate_resolver_ip, 53, corporate))
        self._spawn("dnsmasq", netns_exec(ns.vpc, [_which("dnsmasq"), "--keep-in-foreground", "--user=root",
                                                   "--pid-file=", "--conf-file=" + self._path("dnsmasq.conf")]))
        ns.set_node_resolv_conf([plan.vpc_resolver_ip] if sc.node_dns == "vpc" else [plan.corporate_resolver_ip])
        if sc.kubelet_env is not None:
            self.kubelet = start_fake_kubelet(sc.kubelet_env)
        self._wait_ready(servers, hub_servers)
        self._start_components()
        # The build above ran beside the simulator's warm-up; the self-check and vpce-doctor do not
        # (a probe at --timeout beside moto's 1 s endpoint-service build is a timing test).
        self._wait_for_file(backend, "warmed", 60)

    def _wait_for_file(self, backend: subprocess.Popen, name: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not os.path.exists(self._path(name)):
            if backend.poll() is not None:
                raise RuntimeError("lab backend exited: %s" % self._log_tail("backend"))
            if time.monotonic() > deadline:
                raise RuntimeError("lab backend wrote no %s within %.0f s: %s" % (name, seconds, self._log_tail("backend")))
            time.sleep(0.05)

    def _start_components(self) -> None:
        """The scenario's component processes, and the Pod Identity agent's address in the node
        namespace: on a dummy link pod-id-link0 answering HTTP on 80, as the agent sets it up (up),
        or bound nowhere, its packets dropped in the VPC like any stray link-local traffic (down)."""
        sc = self.scenario
        for process in sc.processes:
            self.fakes.append(start_fake_component(process))
        if sc.pod_identity == "down":
            self.ns.drop_address(POD_IDENTITY_IP)
        if sc.pod_identity != "up":
            return
        link = "pod-id-link0"
        if ip("link", "add", link, "type", "dummy", namespace=self.ns.node, check=False).returncode != 0:
            link = "lo"  # a kernel without the dummy driver (some containers): lo holds a /32 just as well
        ip("addr", "add", POD_IDENTITY_IP + "/32", "dev", link, namespace=self.ns.node)
        ip("link", "set", link, "up", namespace=self.ns.node)
        empty = self._path("pod-identity")
        os.makedirs(empty)
        self._spawn("pod-identity", netns_exec(self.ns.node, [sys.executable, "-m", "http.server", "80", "--bind",
                                                              POD_IDENTITY_IP, "--directory", empty]))
        deadline = time.monotonic() + 15  # bounded, like _wait_ready
        while True:
            done = subprocess.run(netns_exec(self.ns.node, ["curl", "-s", "-o", "/dev/null", "--max-time", "1",
                                                            "http://%s/" % POD_IDENTITY_IP]),
                                  capture_output=True, text=True, timeout=10)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("lab pod-identity agent not ready: %s" % self._log_tail("pod-identity"))
            time.sleep(0.1)

    def _path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def _write(self, name: str, text: str) -> None:
        with open(self._path(name), "w") as handle:
            handle.write(text)

    def _wait_for_facts(self, backend: subprocess.Popen) -> Dict:
        self._wait_for_file(backend, "facts.json", 60)
        with open(self._path("facts.json")) as handle:
            return json.load(handle)

    def _wait_ready(self, servers, hub_servers=()) -> None:
        """Bounded: each server must answer within 15 s, or the lab says which did not."""
        checks = []
        if not self.scenario.vpc_resolver_down:
            checks.append(("unbound", ["dig", "+time=1", "+tries=1", "@" + self.plan.vpc_resolver_ip,
                                       self.facts["known_names"][0]]))
        checks.append(("dnsmasq", ["dig", "+time=1", "+tries=1", "@" + self.plan.corporate_resolver_ip,
                                   "ready.vpce-doctor.invalid"]))
        if self.scenario.node_dns == "hub":
            checks.append(("dnsmasq-hub", ["dig", "+time=1", "+tries=1", "@" + self.plan.hub_resolver_ip,
                                           "ready.vpce-doctor.invalid"]))
        for name, served in (("nginx", servers), ("nginx-hub", hub_servers)):
            if served:
                checks.append((name, ["curl", "-sk", "-o", "/dev/null", "--max-time", "1",
                                      "https://%s/" % served[0][0]]))
        for name, argv in checks:
            deadline = time.monotonic() + 15
            while True:
                done = subprocess.run(netns_exec(self.ns.node, argv), capture_output=True, text=True, timeout=10)
                if done.returncode == 0 and "status: NOERROR" in done.stdout or (name.startswith("nginx")
                                                                                 and done.returncode == 0):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("lab %s not ready: %s %s" % (name, done.stdout[-300:], self._log_tail(name)))
                time.sleep(0.1)

    def set_delay(self, one_way: float) -> None:
        """Hold every frame between node and VPC for one_way seconds (each direction)."""
        if self.relay is not None:
            self.relay.terminate()
            self.relay.wait(timeout=5)
            self.processes.remove(self.relay)
        links = self.ns.links
        self.relay = self._spawn("relay", netns_exec(self.ns.mid, [sys.executable, "-m", "vpce_doctor.lab.delay_relay",
                                                                    links["mid_node"], links["mid_vpc"], str(one_way)]))
        self.one_way_delay = one_way
        time.sleep(0.2)  # the relay binds its sockets before the first frame needs it

    # --- using ----------------------------------------------------------------------------
    @property
    def ca_path(self) -> str:
        return self._path("ca.pem")

    @property
    def secrets(self) -> List[str]:
        return list(self.facts.get("secrets") or []) + process_secrets(self.scenario)

    def doctor_args(self, timeout: float = 1.0) -> List[str]:
        """vpce-doctor's production defaults (169.254.169.253, 169.254.169.254, /etc/resolv.conf,
        443) plus the lab CA and the allow-list that keeps every probe inside the lab."""
        sc = self.scenario
        args = ["--ca-bundle", self.ca_path, "--services", ",".join(sc.services), "--timeout", str(timeout)]
        for net in self.plan.allow_net:
            args += ["--allow-net", net]
        if sc.kubelet_env is None and not sc.processes:
            args.append("--no-process-scan")
        if sc.pod_identity:
            args += ["--allow-net", POD_IDENTITY_IP + "/32"]  # the node's own link-local agent address
        if self.facts.get("cluster_url"):
            args += ["--cluster-endpoint", self.facts["cluster_url"]]
        if sc.imds in ("down", "off"):
            args += ["--region", sc.region, "--vpc-cidr", self.plan.vpc_cidr, "--account-id", ACCOUNT]
        if sc.hub_services and sc.hub_route == "flag":
            args += ["--endpoint-cidr", self.plan.hub_cidr]
        for image in sc.images():  # as the demo's settings do (demo/world.py): the pull runs here too
            args += ["--image", image]
        return args

    def in_node(self, argv: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 60):
        """Run argv in the node namespace, after proving that is where it lands (once: a namespace's
        name names it until the lab deletes it; the self-check alone runs some 60 commands here)."""
        if not self._in_node_proven:
            if self.ns.identify(self.ns.node) != self.ns.node:
                raise RuntimeError("refusing to run: not inside the lab's node namespace")
            self._in_node_proven = True
        return subprocess.run(netns_exec(self.ns.node, argv), capture_output=True, text=True, env=env, timeout=timeout)

    def run_doctor(self, args: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 60,
                   python: str = sys.executable):
        """python: the interpreter vpce-doctor runs under (make test runs it on 3.11 and on 3.9 in one lab)."""
        return self.in_node([python, "-m", "vpce_doctor", "check"] + list(args), env=env, timeout=timeout)

    def requests(self) -> List[List[str]]:
        try:
            with open(self._path("requests.log")) as handle:
                return [json.loads(line) for line in handle if line.strip()]
        except OSError:
            return []

    # --- tearing down -----------------------------------------------------------------------
    def stop(self) -> None:
        try:
            self._stop_everything()
        finally:  # the machine-wide locks go whatever stopping met
            self.fakes_lock.release()
            self.lab_lock.release()

    def _stop_everything(self) -> None:
        if self.kubelet is not None:
            self.kubelet.kill()
            self.kubelet.wait(timeout=5)
            self.kubelet = None
        for fake in self.fakes:  # our own children, by PID
            fake.kill()
            fake.wait(timeout=5)
        self.fakes = []
        for process in reversed(self.processes):  # only what this lab started, by PID
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes = []
        self.ns.destroy()
        shutil.rmtree(self.workdir, ignore_errors=True)
