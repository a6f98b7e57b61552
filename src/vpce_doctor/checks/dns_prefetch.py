"""The DNS head start: the chosen services' A lookups asked while discovery still waits on IMDS,
and the ec2 API's connection dialled as soon as the VPC resolver names an address. The runner
starts it (agent/runner.py); CheckContext takes its answers and connections, each at most once."""
from __future__ import annotations

import ssl
import threading
import time
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple

from ..core.addresses import NetworkGuard, NetworkNotAllowed
from .parallel import Pending
from .probes import dns as dns_probe


class DnsPrefetch:
    """A-record lookups asked while discovery still waits on IMDS's last round (the region and account
    id come in its first): the TLS check, the signed calls and the inventory all start from a DNS
    answer, so at real latency this takes one round trip off every chain. Answers are classified
    without the VPC's CIDRs (they come in that last round); CheckContext.dns classifies them again."""

    RDTYPE = "A"
    DIALS = 3  # the inventory's two reads and the route table's, side by side

    def __init__(self, timeout: float, guard: NetworkGuard):
        self.timeout = timeout
        self.guard = guard
        # built here too, off the critical path: loading the system CA bundle costs ~20 ms of CPU
        self.ssl_context: Optional[ssl.SSLContext] = None
        self.ssl_ready = threading.Event()  # set once ssl_context is built (or failed to be)
        # the ec2 API's TCP + TLS handshake, dialled as soon as the VPC resolver names an address:
        # the inventory's first call otherwise starts it only once discovery is over
        self.dial: Optional[Tuple[str, int]] = None  # (ec2 hostname, port)
        self._connections: Dict[Tuple[str, int, str], List[Any]] = {}
        # a dial that failed: its HttpsFailed is the taker's answer (dialling again would wait a second timeout)
        self._failures: Dict[Tuple[str, int, str], List[Any]] = {}
        self._dialling: Dict[Tuple[str, int, str], List[threading.Event]] = {}  # each set when its dial ended
        self._closed = False
        self._lock = threading.Lock()
        self._entries: Dict[Hashable, Pending] = {}

    def start(self, hostnames: Sequence[str], servers: Sequence[Tuple[str, Tuple[str, int]]]) -> None:
        """One daemon thread per (hostname, server): each lookup is bounded by its own timeout."""
        for hostname in hostnames:
            for role, server in servers:
                key = (hostname, server, self.RDTYPE)
                with self._lock:
                    if key in self._entries:
                        continue
                    entry = self._entries[key] = Pending()
                threading.Thread(target=self._lookup, args=(entry, hostname, role, server), daemon=True).start()

    def _lookup(self, entry: Pending, hostname: str, role: str, server: Tuple[str, int]) -> None:
        dial = None
        try:
            entry.value = dns_probe.lookup(hostname, self.RDTYPE, server, role, self.timeout, (), self.guard, ())
            if self.dial is not None and self.dial[0] == hostname and role == dns_probe.VPC and entry.value.addresses:
                # registered before the answer is handed out: the inventory then waits for this dial
                dial = self._register(entry.value.addresses[0].address, self.dial[1], hostname)
        except BaseException as exc:  # the check's own lookup runs instead
            entry.error = exc
        finally:
            entry.event.set()
        if dial is not None:
            key, events = dial
            for done in events[1:]:
                threading.Thread(target=self._connect, args=(key, done), daemon=True).start()
            self._connect(key, events[0])

    def _register(self, address: str, port: int, sni: str) -> Optional[Tuple[Tuple[str, int, str], List[threading.Event]]]:
        try:
            self.guard.check(address)
        except NetworkNotAllowed:
            return None
        key, events = (address, port, sni), [threading.Event() for _ in range(self.DIALS)]
        with self._lock:
            self._dialling[key] = events
        return key, events

    def _connect(self, key: Tuple[str, int, str], done: threading.Event) -> None:
        from .probes import https

        address, port, sni = key
        conn = None
        try:
            if not self.ssl_ready.wait(self.timeout) or self.ssl_context is None:
                return
            conn = https.PinnedConnection(address, port, sni, self.ssl_context, self.timeout)
            conn.connect()
            with self._lock:
                if not self._closed:
                    self._connections.setdefault(key, []).append(conn)
                    conn = None
        except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError: named for the reader
            if conn is not None:
                failure = https.failure(conn, exc)
                with self._lock:
                    self._failures.setdefault(key, []).append(failure)
        finally:
            if conn is not None:
                conn.close()
            done.set()

    def take_connection(self, address: str, port: int, sni: str, remaining: Callable[[], float]) -> Any:
        """The connection dialled ahead to (address, port) with this SNI, once, or how its dial failed
        (an https.HttpsFailed), or None. A dial still under way is waited for (it started earlier than
        a new one would, and is bounded by --timeout)."""
        key = (address, port, sni)
        waited_until = time.monotonic() + max(0.0, min(self.timeout, remaining()))
        for _ in range(self.DIALS + 1):
            with self._lock:
                ready = self._connections.get(key)
                if ready:
                    return ready.pop()
                pending = [e for e in self._dialling.get(key, ()) if not e.is_set()]
                failed = self._failures.get(key)
                if not pending and failed:
                    return failed.pop()
            if not pending or not pending[0].wait(max(0.0, waited_until - time.monotonic())):
                return None
        return None

    def close(self) -> None:
        """Closes what no one took; a connection still dialling closes itself when done."""
        with self._lock:
            idle, self._connections, self._closed = [c for cs in self._connections.values() for c in cs], {}, True
        for conn in idle:
            conn.close()

    def take(self, hostname: str, server: Tuple[str, int], rdtype: str,
             remaining: Callable[[], float]) -> Optional[dns_probe.DnsLookup]:
        """The prefetched answer (waited for, bounded), or None: then the caller asks itself."""
        with self._lock:
            entry = self._entries.get((hostname, server, rdtype))
        if entry is None or not entry.event.wait(max(0.0, remaining())) or entry.error is not None:
            return None
        return entry.value
