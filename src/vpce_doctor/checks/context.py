"""What a check is handed: resolvers, TLS context, AWS credentials, clock, deadlines.

Long-lived "how to build things" lives here; a check never builds its own clients, so
a test can swap any of them. Shared lookups are memoised: the TLS check, the API check
and the inventory all wait on the same DNS answer instead of asking twice.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import ssl
import threading
import time
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple

from ..core.addresses import NetworkGuard, NetworkNotAllowed, parse_addr
from ..core.model import NodeFacts
from ..core.settings import Settings
from .catalogue import Partition, ServiceSpec
from .probes import dns as dns_probe

VPC = "vpc"
NODE = "node"


class DeadlineExceeded(Exception):
    pass


class _Entry:
    __slots__ = ("event", "value", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: Optional[BaseException] = None


class Memo:
    """Compute each key once; concurrent callers wait (bounded) for the first one."""

    def __init__(self, remaining: Callable[[], float]):
        self._lock = threading.Lock()
        self._entries: Dict[Hashable, _Entry] = {}
        self._remaining = remaining

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if owner:
                entry = self._entries[key] = _Entry()
        if owner:
            try:
                entry.value = compute()
            except BaseException as exc:  # handed to every waiter, re-raised below
                entry.error = exc
            finally:
                entry.event.set()
        elif not entry.event.wait(max(0.0, self._remaining())):
            raise DeadlineExceeded("waited for %r until the run deadline" % (key,))
        if entry.error is not None:
            raise entry.error
        return entry.value


def run_parallel(calls: Sequence[Callable[[], Any]], remaining: Callable[[], float],
                 inline_last: bool = False) -> List[Any]:
    """Run calls in daemon threads; each slot holds the value, or the exception raised,
    or DeadlineExceeded. A daemon thread never keeps the process alive past the run.

    inline_last: the last call runs in the calling thread (one thread fewer per call; a run starts
    a few hundred). Only for callers that are themselves a thread the runner waits on with the run
    deadline (a check), and calls bounded by their own step timeout: the caller then returns when
    that call does, not at the deadline."""
    results: List[Any] = [DeadlineExceeded("did not finish before the run deadline")] * len(calls)
    threads = []

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    spawned = len(calls) - 1 if inline_last and calls else len(calls)
    for index, call in enumerate(calls[:spawned]):
        thread = threading.Thread(target=worker, args=(index, call), daemon=True)
        thread.start()
        threads.append(thread)
    if spawned < len(calls):
        worker(spawned, calls[spawned])
    for thread in threads:
        thread.join(max(0.0, remaining()))
    return list(results)


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
        self._entries: Dict[Hashable, _Entry] = {}

    def start(self, hostnames: Sequence[str], servers: Sequence[Tuple[str, Tuple[str, int]]]) -> None:
        """One daemon thread per (hostname, server): each lookup is bounded by its own timeout."""
        for hostname in hostnames:
            for role, server in servers:
                key = (hostname, server, self.RDTYPE)
                with self._lock:
                    if key in self._entries:
                        continue
                    entry = self._entries[key] = _Entry()
                threading.Thread(target=self._lookup, args=(entry, hostname, role, server), daemon=True).start()

    def _lookup(self, entry: _Entry, hostname: str, role: str, server: Tuple[str, int]) -> None:
        dial = None
        try:
            entry.value = dns_probe.lookup(hostname, self.RDTYPE, server, role, self.timeout, (), self.guard, ())
            if self.dial is not None and self.dial[0] == hostname and role == VPC and entry.value.addresses:
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


class CheckContext:
    # set by the runner when discovery started lookups ahead (DnsPrefetch)
    prefetched: Optional[DnsPrefetch] = None

    def __init__(
        self,
        settings: Settings,
        facts: NodeFacts,
        partition: Partition,
        services: Sequence[ServiceSpec],
        required: Dict[str, List[str]],
        deadline: float,
        clock: Callable[[], float] = time.time,
        credentials_provider: Optional[Callable[["CheckContext"], Any]] = None,
    ):
        self.settings = settings
        self.facts = facts
        self.partition = partition
        self.services = list(services)
        self.required = required  # service id -> running components that need it
        self.deadline = deadline  # time.monotonic() value
        self.clock = clock
        self.timeout = settings.timeout
        self.guard = NetworkGuard(settings.allow_net)
        self.memo = Memo(self.remaining)
        self._credentials_provider = credentials_provider or botocore_credentials
        self.resolvers: List[Tuple[str, Tuple[str, int]]] = [(VPC, parse_addr(facts.vpc_resolver, 53))]
        self.resolvers += [(NODE, parse_addr(r, 53)) for r in facts.custom_resolvers]

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def step_timeout(self) -> float:
        """A probe step gets --timeout, but never more than what is left of the run."""
        return max(0.05, min(self.timeout, self.remaining()))

    def parallel(self, calls: Sequence[Callable[[], Any]]) -> List[Any]:
        """Values or the exceptions raised, slot by slot."""
        return run_parallel(calls, self.remaining, inline_last=True)

    def gather(self, calls: Sequence[Callable[[], Any]]) -> List[Any]:
        """Values, side by side; the first failure is raised (the check becomes an error result)."""
        results = run_parallel(calls, self.remaining, inline_last=True)
        for item in results:
            if isinstance(item, BaseException):
                raise item
        return results

    def hostnames(self, spec: ServiceSpec) -> List[str]:
        return spec.hostnames(self.facts.region or "", self.partition, self.facts.account_id)

    # --- shared, memoised evidence -------------------------------------------------
    def dns(self, hostname: str, role: str, server: Tuple[str, int], rdtype: str = "A") -> dns_probe.DnsLookup:
        """One query per (name, server, type) serves every role that names the server (a node whose
        resolv.conf lists 169.254.169.253 itself), but each role gets its own evidence: keyed without
        the role, the second role's lookup came back labelled with the first one's and went missing."""
        lookup = self.memo.get(("dns", hostname, server, rdtype), lambda: self._lookup(hostname, role, server, rdtype))
        return lookup if lookup.resolver_role == role else dataclasses.replace(lookup, resolver_role=role)

    def _lookup(self, hostname: str, role: str, server: Tuple[str, int], rdtype: str) -> dns_probe.DnsLookup:
        early = self.prefetched.take(hostname, server, rdtype, self.remaining) if self.prefetched else None
        if early is not None:
            cidrs, remote = self.facts.vpc_cidrs, self.facts.endpoint_cidrs
            return dataclasses.replace(early, addresses=tuple(dns_probe.resolved(a.address, cidrs, remote)
                                                              for a in early.addresses))
        return dns_probe.lookup(hostname, rdtype, server, role, self.step_timeout(),
                                self.facts.vpc_cidrs, self.guard, self.facts.endpoint_cidrs)

    def vpc_addresses(self, hostname: str) -> List[str]:
        """Endpoint IPv4 addresses (in this VPC, or private in a hub) the VPC resolver gives for hostname."""
        role, server = self.resolvers[0]
        return [a.address for a in self.dns(hostname, role, server).addresses if a.scope != dns_probe.SCOPE_PUBLIC]

    def node_addresses(self, hostname: str) -> List[str]:
        """The IPv4 addresses the node itself would use: its first resolver that answers."""
        node = [(role, server) for role, server in self.resolvers if role == NODE] or self.resolvers[:1]
        for role, server in node:
            lookup = self.dns(hostname, role, server)
            if lookup.addresses:
                return [a.address for a in lookup.addresses]
        return []

    def endpoint_service_name(self, spec: ServiceSpec) -> str:
        return spec.endpoint_service_name(self.facts.region or "", self.partition)

    def _ec2_hostname(self) -> str:
        from .catalogue import load_catalogue

        return self.hostnames(next(s for s in load_catalogue() if s.id == "ec2"))[0]

    def inventory(self) -> Any:
        """This VPC's endpoints and their ENIs, read once per run (see probes/inventory.py)."""
        from .probes import inventory

        return self.memo.get("inventory", lambda: inventory.collect(self, self._ec2_hostname()))

    def route_table(self) -> Any:
        """The node subnet's route table (its explicit association, else the VPC's main one), once per run;
        in a timer run that carries the last API read (agent/carry.py), the route table read with it."""
        from .probes import route_table

        plan = getattr(self, "evidence_plan", None)
        if plan is not None and not plan.decide(self):
            return plan.carried_route_table()
        return self.memo.get("route_table", lambda: route_table.collect(self, self._ec2_hostname()))

    def real_service_names(self) -> Dict[str, str]:
        from .probes import inventory

        names = {s.id: self.endpoint_service_name(s) for s in self.services}
        return self.memo.get("service_names",
                             lambda: inventory.real_service_names(self, self._ec2_hostname(), names))

    def ssl_context(self) -> ssl.SSLContext:
        return self.memo.get("ssl", self._make_ssl_context)

    def pinned_session(self, address: str, hostname: str) -> Any:
        """A kept-alive HTTPS session to address (the inventory's), on the connection dialled ahead if any."""
        from .probes import https

        port = self.settings.https_port
        session = https.PinnedSession(address, port, hostname, self.ssl_context(), self.step_timeout())
        early = (self.prefetched.take_connection(address, port, hostname, self.remaining)
                 if self.prefetched is not None else None)
        if isinstance(early, https.HttpsFailed):
            return https.FailedSession(session, early)
        if early is not None:
            session.conn = early  # a server that closed it meanwhile: PinnedSession dials once more
        return session

    def _make_ssl_context(self) -> ssl.SSLContext:
        early = self.prefetched.ssl_context if self.prefetched is not None else None
        return early if early is not None else make_ssl_context(self.settings)

    def credentials(self) -> Any:
        """Frozen botocore credentials, or None when nothing in the chain has any."""
        return self.memo.get("credentials", lambda: self._credentials_provider(self))


def make_ssl_context(settings: Settings) -> ssl.SSLContext:
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    return ssl.create_default_context()


def botocore_credentials(ctx: CheckContext) -> Any:
    """The order system components use, bounded to sources that cannot reach outside --allow-net
    or the run deadline: the environment (AWS_ACCESS_KEY_ID...), static keys in the shared
    credentials and config files, the container endpoint (ECS, EKS Pod Identity) only at an IP
    address the guard allows, with one attempt under the step timeout; last the instance role,
    which discovery already read from IMDS in the same round trips (asking botocore to fetch it
    again would cost another six).

    Left out on purpose: assume-role profiles, web identity, SSO and credential_process. They call
    STS or an SSO portal through the system resolver, or run a program, on their own clocks and
    outside the guard; the node's components sign with the instance role anyway."""
    credentials_file = _regular_file(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")
    config_file = _regular_file(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    if not credentials_file and not config_file and not any(v in os.environ for v in CHAIN_ENVIRONMENT):
        # A node's usual state: no keys in the environment, no shared files, no container endpoint.
        # Every provider would find nothing, so the answer is the instance role, without the ~90 ms
        # botocore.credentials costs to import.
        return ctx.facts.instance_credentials
    import botocore.credentials as bc

    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    providers: List[Any] = [bc.EnvProvider()]
    if credentials_file:
        providers.append(bc.SharedCredentialProvider(creds_filename=credentials_file, profile_name=profile))
    if config_file:
        providers.append(bc.ConfigProvider(config_filename=config_file, profile_name=profile))
    container = _container_provider(ctx)
    if container is not None:
        providers.append(container)
    credentials = bc.CredentialResolver(providers).load_credentials()
    if credentials is not None:
        return credentials.get_frozen_credentials()
    return ctx.facts.instance_credentials


CREDENTIAL_FILE_LIMIT = 1 << 20


# what botocore's environment and container providers read: any of them set, and the chain is asked
CHAIN_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def _regular_file(path: str) -> Optional[str]:
    """The path when it names a readable regular file of sane size with something in it (botocore
    would block on a FIFO and read /dev/zero forever; an empty file holds no keys), else None:
    that source is then simply not used."""
    from ..core.files import read_bytes_capped

    path = os.path.expanduser(path)
    try:
        content = read_bytes_capped(path, CREDENTIAL_FILE_LIMIT)
    except OSError:
        return None
    return path if content.strip() else None


def _container_provider(ctx: CheckContext) -> Any:
    """botocore's container provider, pinned to an IP literal the guard allows, one attempt, the
    step timeout. None when no container endpoint is configured or its address is not allowed."""
    import botocore.credentials as bc
    import botocore.httpsession
    import botocore.utils
    from urllib.parse import urlsplit, urlunsplit

    relative = os.environ.get(bc.ContainerProvider.ENV_VAR)
    full = os.environ.get(bc.ContainerProvider.ENV_VAR_FULL)
    if not relative and not full:
        return None
    url = "http://%s%s" % (botocore.utils.ContainerMetadataFetcher.IP_ADDRESS, relative) if relative else full
    try:
        parts = urlsplit(url or "")
        host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "")
        ipaddress.ip_address(host)
        ctx.guard.check(host)
        netloc = (("[%s]" % host) if ":" in host else host) + (":%d" % parts.port if parts.port else "")
    except (ValueError, NetworkNotAllowed):
        return None  # a name would go through the system resolver; an address outside --allow-net is not ours
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    class _Bounded(botocore.utils.ContainerMetadataFetcher):
        RETRY_ATTEMPTS = 1

    timeout = ctx.step_timeout()
    fetcher = _Bounded(session=botocore.httpsession.URLLib3Session(timeout=timeout), sleep=lambda _: None)
    environ = {k: v for k, v in os.environ.items() if k != bc.ContainerProvider.ENV_VAR}
    environ[bc.ContainerProvider.ENV_VAR_FULL] = pinned
    return bc.ContainerProvider(environ=environ, fetcher=fetcher)
