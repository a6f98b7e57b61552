"""Timer mode's footprint on AWS: the signed calls and the inventory at most every
--api-interval seconds per node (default hourly), or sooner when the node's DNS/TLS evidence
changed; in between, the last full read is carried over, with its age said in the report.

Why: every full run costs each node about four EC2 requests (DescribeVpcEndpoints,
DescribeNetworkInterfaces, DescribeVpcEndpointServices, the ec2 probe) plus one signed call
per other service, and EC2 throttles Describe* per account and region, a budget Karpenter,
the VPC CNI and cluster-autoscaler draw on too. DNS and TLS probes cost AWS nothing and run
every time; the API evidence only changes when the path or the permissions change, and a
changed path shows in DNS/TLS first.

Carried evidence is the earlier run's evidence, unchanged, so the findings it feeds do not
flap between full and cheap runs; the report's node notes and the journal say it was carried
and how old it is. State: STATE_FILE in --state-dir, written after each full read.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import fields
from typing import Any, Callable, Dict, List, Optional

from ..checks.image_pull import ImagePullEvidence
from ..checks.parallel import run_parallel
from ..checks.probes import aws_call
from ..checks.probes.registry_pull import PullResult, PullStep
from ..checks.probes.inventory import Endpoint, EndpointEni, Inventory
from ..checks.probes.route_table import Route, RouteTable
from ..checks.tls import dns_handshakes
from .render import write_atomic

STATE_FILE = "api-evidence.json"
STATE_VERSION = 1
CARRIED_NOTE = "API and inventory evidence carried over"
CARRIED_CHECKS = ("api", "inventory", "image_pull")  # the image pull is signed calls too (checks/image_pull.py)


def load_state(state_dir: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(state_dir, STATE_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None  # first run, or a broken file: a full read
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    return data


def inventory_from(data: Any) -> Optional[Inventory]:
    """The Inventory a report's node_checks.inventory was written from; None if it is not one."""
    if not isinstance(data, dict) or "available" not in data:
        return None
    try:
        endpoints = tuple(Endpoint(
            id=e["id"], service_name=e["service_name"], type=e["type"], state=e["state"],
            private_dns_enabled=bool(e["private_dns_enabled"]), subnet_ids=tuple(e.get("subnet_ids") or ()),
            security_group_ids=tuple(e.get("security_group_ids") or ()),
            route_table_ids=tuple(e.get("route_table_ids") or ()),
            dns_entries=tuple(dict(d) for d in e.get("dns_entries") or ()),
            enis=tuple(EndpointEni(x["id"], x.get("address"), x.get("availability_zone"), x.get("subnet_id"))
                       for x in e.get("enis") or ()),
            # the endpoint's policy decides denials and the layer bucket's verdict: carried with it, or a
            # cheap run would read every policy as AWS's default full access
            policy_document=e.get("policy_document"))
            for e in data.get("endpoints") or ())
        return Inventory(available=bool(data["available"]), reason=data.get("reason"), endpoints=endpoints,
                         service_names=dict(data.get("service_names") or {}), ms=0.0,
                         denied=bool(data.get("denied")),
                         denied_by_endpoint_policy=bool(data.get("denied_by_endpoint_policy")),
                         route_table=route_table_from(data.get("route_table")))
    except (KeyError, TypeError, AttributeError):
        return None


def route_table_from(data: Any) -> Optional[RouteTable]:
    """The RouteTable a report's node_checks.inventory.route_table was written from, or None."""
    if not isinstance(data, dict) or "available" not in data:
        return None
    try:
        routes = tuple(Route(destination=r.get("destination"), prefix_list_id=r.get("prefix_list_id"),
                             target=r["target"], target_id=r.get("target_id"), state=r.get("state"))
                       for r in data.get("routes") or ())
        return RouteTable(available=bool(data["available"]), reason=data.get("reason"), id=data.get("id"),
                          main=bool(data.get("main")), routes=routes, denied=bool(data.get("denied")))
    except (KeyError, TypeError, AttributeError):
        return None


_API_FIELDS = {f.name for f in fields(aws_call.ApiResult)}


def api_result_from(data: Any) -> Optional[aws_call.ApiResult]:
    if not isinstance(data, dict) or not data.get("operation") or not data.get("outcome"):
        return None
    try:
        return aws_call.ApiResult(**{k: v for k, v in data.items() if k in _API_FIELDS})
    except TypeError:
        return None


_PULL_FIELDS = {f.name for f in fields(PullResult)} - {"steps"}
_STEP_FIELDS = {f.name for f in fields(PullStep)}


def image_pull_from(data: Any) -> Optional[ImagePullEvidence]:
    """The ImagePullEvidence a report's node_checks.image_pull was written from; None if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("pulls"), list):
        return None
    try:
        pulls = tuple(PullResult(steps=tuple(PullStep(**{k: v for k, v in s.items() if k in _STEP_FIELDS})
                                             for s in p.get("steps") or ()),
                                 **{k: v for k, v in p.items() if k in _PULL_FIELDS}) for p in data["pulls"])
        return ImagePullEvidence(pulls, data.get("note"))
    except (TypeError, AttributeError):
        return None


def fingerprint(ctx, services) -> str:
    """What DNS and TLS say, reduced to what a path change moves: per service, each resolver's
    answer (in-VPC addresses exactly; outside ones only counted, public AWS rotates them) and
    each handshake's outcome. Also the region, VPC and the set of services."""
    def one(spec) -> List[Any]:
        hostnames = ctx.hostnames(spec)
        if not hostnames:
            return [spec.id, "no-hostname"]
        row: List[Any] = [spec.id]
        for role, server in ctx.resolvers:
            lookup = ctx.dns(hostnames[0], role, server)
            inside = sorted(a.address for a in lookup.addresses if a.in_vpc)
            row.append([role, "%s:%s" % server, lookup.status, lookup.rcode, inside,
                        sum(1 for a in lookup.addresses if not a.in_vpc)])
        row.append(sorted([t.address if t.ok else "", t.ok, t.phase, t.error_kind]
                          for t in dns_handshakes(ctx, spec)))
        return row

    # run_parallel, not ctx.parallel: this runs on the main thread after the checks, and ctx.parallel
    # runs its last call inline: past the deadline, an answer not memoised would hold the main thread
    rows = run_parallel([lambda s=s: one(s) for s in services], ctx.remaining)
    rows = [r if not isinstance(r, BaseException) else ["error", type(r).__name__] for r in rows]
    material = json.dumps([ctx.facts.region, ctx.facts.vpc_id, rows], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class EvidencePlan:
    """Decides once per run, on first use, whether this run reads AWS or carries the last read."""

    def __init__(self, state: Optional[Dict[str, Any]], interval: float, services,
                 clock: Callable[[], float] = time.time):
        self.state = state
        self.interval = interval
        self.services = list(services)
        self.clock = clock
        self.full: Optional[bool] = None
        self.why = ""
        self.fingerprint: Optional[str] = None
        self.carried_inventory: Optional[Inventory] = None
        self.carried_api: Dict[str, aws_call.ApiResult] = {}
        self.carried_pull: Optional[ImagePullEvidence] = None

    def decide(self, ctx) -> bool:
        return ctx.memo.get("evidence_plan", lambda: self._decide(ctx))

    def _decide(self, ctx) -> bool:
        self.full, self.why = self._choose(ctx)
        return self.full

    def _choose(self, ctx):
        state = self.state
        if self.interval <= 0:
            return True, "--api-interval 0"
        if state is None:
            return True, "no earlier read in the state directory"
        age = self.clock() - float(state.get("read_at") or 0)
        if age < 0 or age >= self.interval:
            return True, "the last read is %.0f s old (interval %.0f s)" % (age, self.interval)
        inventory = inventory_from(state.get("inventory"))
        api = {sid: api_result_from(d) for sid, d in (state.get("api") or {}).items()}
        missing = [s.id for s in self.services if ctx.hostnames(s) and api.get(s.id) is None]
        pull = image_pull_from(state.get("image_pull"))
        if pull is None:
            missing.append("the image pull")
        if inventory is None or missing:
            return True, "the last read lacks %s" % ("the inventory" if inventory is None else ", ".join(missing))
        try:
            self.fingerprint = fingerprint(ctx, self.services)
        except Exception as exc:  # noqa: BLE001 - a broken fingerprint means a full read, never a crash
            return True, "the DNS/TLS fingerprint failed: %s" % exc
        if self.fingerprint != state.get("fingerprint"):
            return True, "DNS/TLS evidence changed since the last read"
        self.carried_inventory = inventory
        self.carried_api = {k: v for k, v in api.items() if v is not None}
        self.carried_pull = pull
        return False, "read %s, %.0f s ago (next full read within %.0f s, or when DNS/TLS change)" % (
            state.get("read_at_text") or "earlier", age, self.interval - age)

    # --- what checks ask ------------------------------------------------------------
    def inventory(self, ctx) -> Inventory:
        if self.decide(ctx):
            return ctx.inventory()
        return self.carried_inventory

    def carried_route_table(self) -> RouteTable:
        table = self.carried_inventory.route_table if self.carried_inventory is not None else None
        return table if table is not None else RouteTable(
            available=False, reason="not in the API read this run carries over (%s)" % self.why)

    def note(self) -> Optional[str]:
        if self.full is False:
            return "%s: %s" % (CARRIED_NOTE, self.why)
        return None


class CarriedCheck:
    """Wraps the api or inventory check: runs it on a full read, else hands back the last one."""

    def __init__(self, check, plan: EvidencePlan):
        self.check, self.plan = check, plan
        self.id, self.scope, self.title = check.id, check.scope, check.title

    def run(self, ctx, service):
        if self.plan.decide(ctx):
            return self.check.run(ctx, service)
        if self.id == "inventory":
            return self.plan.carried_inventory
        if self.id == "image_pull":
            return self.plan.carried_pull
        return self.plan.carried_api[service.id]


def save_state(state_dir: str, plan: EvidencePlan, ctx, report: Dict[str, Any], read_at: float) -> None:
    """After a full read: the evidence to carry and the fingerprint it was read under.
    Written only when every service's API result and the inventory are there to carry."""
    if plan.full is not True:
        return
    inventory = (report.get("node_checks") or {}).get("inventory")
    api = {}
    for service in report.get("services") or []:
        done = [c for c in service.get("checks") or [] if c.get("check") == "api" and c.get("state") == "done"]
        if done and service.get("probes", {}).get("api"):
            api[service["id"]] = service["probes"]["api"]
    if inventory is None:
        return
    if plan.fingerprint is None:
        try:
            plan.fingerprint = fingerprint(ctx, plan.services)  # memoised probes: no new traffic
        except Exception:  # noqa: BLE001
            return
    os.makedirs(state_dir, exist_ok=True)
    write_atomic(os.path.join(state_dir, STATE_FILE), json.dumps({
        "version": STATE_VERSION, "read_at": read_at, "read_at_text": report.get("generated_at"),
        "fingerprint": plan.fingerprint, "inventory": inventory, "api": api,
        "image_pull": (report.get("node_checks") or {}).get("image_pull")}, sort_keys=True) + "\n")
