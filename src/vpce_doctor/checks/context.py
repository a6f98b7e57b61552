"""What a check is handed: resolvers, TLS context, AWS credentials, clock, deadlines.

Long-lived "how to build things" lives here; a check never builds its own clients, so
a test can swap any of them. Shared lookups are memoised: the TLS check, the API check
and the inventory all wait on the same DNS answer instead of asking twice. What it is built
from has its own modules: parallel.py (threads and the memo), dns_prefetch.py (the DNS head
start), tls_context.py and credential_chain.py.
"""
from __future__ import annotations

import dataclasses
import ssl
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..core.addresses import NetworkGuard, parse_addr
from ..core.model import NodeFacts
from ..core.settings import Settings
from .catalogue import Partition, ServiceSpec
from .credential_chain import botocore_credentials
from .dns_prefetch import DnsPrefetch
from .parallel import Memo, run_parallel
from .probes import dns as dns_probe
from .probes.dns import NODE, VPC
from .tls_context import make_ssl_context


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
