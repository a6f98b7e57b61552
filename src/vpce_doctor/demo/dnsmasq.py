"""The same zone data served by a real dnsmasq (the test suite's DNS server)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import dns.message
import dns.query

from .dns_server import ZoneData

READY_NAME = "ready.vpce-doctor.invalid"


def render_config(address: str, port: int, zone: ZoneData) -> str:
    lines = ["listen-address=%s" % address, "port=%d" % port, "bind-interfaces", "no-resolv", "no-hosts",
             "no-negcache", "cache-size=0", "log-facility=-",
             "host-record=%s,127.0.0.1" % READY_NAME]  # answered locally even when forwarding is broken
    for name in zone.nxdomain:
        lines.append("address=/%s/" % name)  # an empty address= answers NXDOMAIN
    for name, addresses in zone.records.items():
        lines += ["host-record=%s,%s" % (name, a) for a in addresses]
    if zone.public_answer is not None:
        for name in zone.known_names:
            if name not in zone.records and name not in zone.nxdomain and zone.zone_of(name) is None:
                lines.append("host-record=%s,%s" % (name, zone.public_answer(name)))
    if zone.zones and zone.zone_server is None:
        raise ValueError("dnsmasq needs a zone_server for the private zones %s" % ", ".join(sorted(zone.zones)))
    for name in sorted(zone.zones):  # what the zone holds is answered here, the rest there (with its SOA)
        lines.append("server=/%s/%s#%d" % ((name,) + tuple(zone.zone_server)))
    if zone.forward_to is not None:
        lines.append("server=%s#%d" % zone.forward_to)
    return "\n".join(lines) + "\n"


def _free_port(address: str) -> int:
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
            return port
    raise OSError("no free port on %s" % address)


class Dnsmasq:
    def __init__(self, address: str, zone: ZoneData, workdir: str):
        self.address, self.zone, self.workdir = address, zone, workdir
        self.port = 0
        self.process = None

    def start(self) -> "Dnsmasq":
        binary = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)
        if binary is None:
            raise RuntimeError("dnsmasq is not installed (Debian: apt-get install dnsmasq-base)")
        self.port = _free_port(self.address)
        path = os.path.join(self.workdir, "dnsmasq-%s.conf" % self.address)
        with open(path, "w") as handle:
            handle.write(render_config(self.address, self.port, self.zone))
        args = [binary, "--keep-in-foreground", "--conf-file=%s" % path, "--pid-file="]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # a dnsmasq that never became ready is still ours to stop
            raise
        return self

    def _wait_ready(self) -> None:  # bounded: 10 s
        query = dns.message.make_query(READY_NAME, "A")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("dnsmasq exited: %s" % self.process.stderr.read().decode(errors="replace")[-500:])
            try:
                dns.query.udp(query, self.address, port=self.port, timeout=0.2)
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("dnsmasq on %s:%d did not answer within 10 s" % (self.address, self.port))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # our own child, by PID
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
