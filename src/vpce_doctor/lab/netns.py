"""Network namespaces for node / vpc / internet, joined by veth pairs.

    node (100.64.1.10) --veth-- vpc (router; endpoint ENIs, resolvers, IMDS on lo) --veth-- inet (drops all)
                                 vpc --veth-- hub (a hub VPC's endpoints on lo; the link stands for a transit gateway)

Every name carries the owning PID, so a sweep can remove what a killed run left behind,
and nothing here touches a namespace it did not create.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from typing import Dict, List, Optional

PREFIX = "vdlab"
NODE_LINK = "100.64.0.1"
INET_LINK = ("100.127.255.1", "100.127.255.2")
HUB_LINK = ("100.127.254.1", "100.127.254.2")


def ip(*args: str, namespace: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
    argv = ["ip"] + (["-n", namespace] if namespace else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=10)


def netns_exec(namespace: str, argv: List[str], **kwargs) -> List[str]:
    return ["ip", "netns", "exec", namespace] + list(argv)


def _owner_alive(name: str) -> bool:
    found = re.match(r"%s-(\d+)-" % PREFIX, name)
    if not found:
        return True
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete(name: str) -> None:
    """Stop what still runs inside a lab namespace (servers a lab started there), then delete it:
    a deleted namespace lives on while any process is in it."""
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, timeout=10).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    shutil.rmtree("/etc/netns/%s" % name, ignore_errors=True)


def sweep_stale() -> List[str]:
    """Namespaces of earlier lab runs whose process is gone (a kill -9, a lost CI runner)."""
    removed = []
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX + "-") and not _owner_alive(name):
            _delete(name)
            removed.append(name)
    return removed


class Namespaces:
    def __init__(self, tag: str, relay: bool = False, hub: bool = False):
        base = "%s-%d-%s" % (PREFIX, os.getpid(), tag)
        self.node, self.vpc, self.inet = base + "-node", base + "-vpc", base + "-inet"
        self.hub = base + "-hub" if hub else None
        # with relay, node and vpc meet in a middle namespace where delay_relay.py carries frames
        self.mid = base + "-mid" if relay else None
        self.created: List[str] = []
        short = "%x" % (abs(hash(base)) % 0xFFFFF)
        self.links: Dict[str, str] = {"node": "vdn%s" % short, "vpc_node": "vdv%s" % short,
                                      "vpc_inet": "vdi%s" % short, "inet": "vdx%s" % short,
                                      "mid_node": "vma%s" % short, "mid_vpc": "vmb%s" % short,
                                      "vpc_hub": "vdh%s" % short, "hub": "vdk%s" % short}

    def create(self) -> "Namespaces":
        for name in (self.node, self.vpc, self.inet) + ((self.mid,) if self.mid else ()) + ((self.hub,) if self.hub else ()):
            ip("netns", "add", name)
            self.created.append(name)
            ip("link", "set", "lo", "up", namespace=name)
        links = self.links
        if self.mid:
            for near, far, ns in ((links["node"], links["mid_node"], self.node), (links["vpc_node"], links["mid_vpc"], self.vpc)):
                ip("link", "add", near, "type", "veth", "peer", "name", far)
                ip("link", "set", near, "netns", ns)
                ip("link", "set", far, "netns", self.mid)
                ip("link", "set", far, "up", namespace=self.mid)
                # veth leaves TCP/UDP checksums to "hardware"; frames the relay copies across would
                # arrive with half-done checksums and be dropped, so the endpoints compute them
                subprocess.run(netns_exec(ns, ["ethtool", "-K", near, "tx", "off"]), capture_output=True,
                               check=True, timeout=10)
        else:
            ip("link", "add", links["node"], "type", "veth", "peer", "name", links["vpc_node"])
            ip("link", "set", links["node"], "netns", self.node)
            ip("link", "set", links["vpc_node"], "netns", self.vpc)
        ip("link", "add", links["vpc_inet"], "type", "veth", "peer", "name", links["inet"])
        ip("link", "set", links["vpc_inet"], "netns", self.vpc)
        ip("link", "set", links["inet"], "netns", self.inet)
        pairs = [(self.node, links["node"]), (self.vpc, links["vpc_node"]), (self.vpc, links["vpc_inet"]),
                 (self.inet, links["inet"])]
        if self.hub:
            ip("link", "add", links["vpc_hub"], "type", "veth", "peer", "name", links["hub"])
            ip("link", "set", links["vpc_hub"], "netns", self.vpc)
            ip("link", "set", links["hub"], "netns", self.hub)
            pairs += [(self.vpc, links["vpc_hub"]), (self.hub, links["hub"])]
        for ns, link in pairs:
            ip("link", "set", link, "up", namespace=ns)
        return self

    def wire_hub(self, hub_cidr: str) -> None:
        """The vpc router sends the hub CIDR over the link to the hub namespace (a transit gateway
        attachment); the hub answers everything back the same way."""
        links = self.links
        ip("addr", "add", HUB_LINK[0] + "/30", "dev", links["vpc_hub"], namespace=self.vpc)
        ip("addr", "add", HUB_LINK[1] + "/30", "dev", links["hub"], namespace=self.hub)
        ip("route", "add", hub_cidr, "via", HUB_LINK[1], namespace=self.vpc)
        ip("route", "add", "default", "via", HUB_LINK[0], namespace=self.hub)

    def serve_hub_address(self, address: str) -> None:
        ip("addr", "add", address + "/32", "dev", "lo", namespace=self.hub)

    def drop_hub_address(self, address: str) -> None:
        """The hub endpoint's security group without a rule for this VPC: packets vanish there."""
        ip("route", "add", "blackhole", address + "/32", namespace=self.hub)

    def wire(self, node_ip: str, public_prefixes: List[str]) -> None:
        links = self.links
        # node: one /32 and a default route to the VPC router, like an ENI behind the VPC's implicit router
        ip("addr", "add", node_ip + "/32", "dev", links["node"], namespace=self.node)
        ip("route", "add", NODE_LINK, "dev", links["node"], namespace=self.node)
        ip("route", "add", "default", "via", NODE_LINK, namespace=self.node)
        ip("addr", "add", NODE_LINK + "/32", "dev", links["vpc_node"], namespace=self.vpc)
        ip("route", "add", node_ip + "/32", "dev", links["vpc_node"], namespace=self.vpc)
        # vpc -> inet for the "public" AWS ranges; inet discards them without a word
        ip("addr", "add", INET_LINK[0] + "/30", "dev", links["vpc_inet"], namespace=self.vpc)
        ip("addr", "add", INET_LINK[1] + "/30", "dev", links["inet"], namespace=self.inet)
        for prefix in public_prefixes:
            ip("route", "add", prefix + ".0/24", "via", INET_LINK[1], namespace=self.vpc)
            ip("route", "add", "blackhole", prefix + ".0/24", namespace=self.inet)
        subprocess.run(netns_exec(self.vpc, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]), check=True, timeout=10)

    def serve_address(self, address: str) -> None:
        """An address something in the vpc namespace answers on."""
        ip("addr", "add", address + "/32", "dev", "lo", namespace=self.vpc)

    def drop_address(self, address: str) -> None:
        """An address whose packets vanish (a security group or NACL without the rule)."""
        ip("route", "add", "blackhole", address + "/32", namespace=self.vpc)

    def set_node_resolv_conf(self, nameservers: List[str]) -> None:
        directory = "/etc/netns/%s" % self.node
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "resolv.conf"), "w") as handle:
            handle.write("".join("nameserver %s\n" % n for n in nameservers) + "options timeout:1 attempts:1\n")

    def identify(self, namespace: str) -> str:
        """Which namespace a process started with netns_exec really lands in."""
        done = subprocess.run(netns_exec(namespace, ["ip", "netns", "identify"]), capture_output=True, text=True,
                              timeout=10)
        return done.stdout.strip()

    def destroy(self) -> None:
        for name in reversed(self.created):
            _delete(name)
        shutil.rmtree("/etc/netns/%s" % self.node, ignore_errors=True)
        self.created = []
