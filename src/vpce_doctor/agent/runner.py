"""The runner: discovery, every check concurrently under deadlines, verdicts, one Report.

A check that raises or overruns becomes an explicit result (state error/timeout) that
makes its service "unknown"; it never vanishes and never prints a traceback.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import __version__
from ..checks.catalogue import ServiceSpec, load_catalogue, partition_for_region, select_services
from ..core.model import (INFO, STATUS_OK, STATUS_UNKNOWN, CheckResult, Finding, NodeFacts, Report, ServiceReport,
                    severity_status, worst_status)
from ..core.settings import Settings
from . import imds as imds_mod  # light (http.client): IMDS is asked before the rest is imported

# The rest of the check path (dnspython, the verdict table, the checks, botocore's signer later)
# is imported inside run(), after IMDS discovery has started in a thread: at real latency its
# round trips cover the import time instead of following it.

Observer = Callable[[CheckResult], None]


def choose_services(settings: Settings, needed: Dict[str, List[str]]) -> List[ServiceSpec]:
    if settings.services:
        return select_services(settings.services)
    if settings.all_services:
        return list(load_catalogue())
    return [s for s in load_catalogue() if s.always_required or needed.get(s.id)]


def _run_one(check, ctx, service: Optional[ServiceSpec], observer: Optional[Observer]) -> CheckResult:
    started = time.monotonic()
    service_id = service.id if service is not None else None
    try:
        evidence = check.run(ctx, service)
        result = CheckResult(check.id, service_id, "done", evidence, None, (time.monotonic() - started) * 1000)
    except Exception as exc:  # a crashed check is a result, not a gap
        result = CheckResult(check.id, service_id, "error", None, "%s: %s" % (type(exc).__name__, exc),
                             (time.monotonic() - started) * 1000)
    _notify(observer, result)
    return result


def _notify(observer: Optional[Observer], result: CheckResult) -> None:
    if observer is not None:
        try:
            observer(result)
        except Exception:
            pass  # a broken observer (a closed TUI) must not sink the run


def run(settings: Settings, *, clock: Callable[[], float] = time.time, observer: Optional[Observer] = None,
        checks: Optional[Sequence[Any]] = None, credentials_provider=None,
        on_facts: Optional[Callable[[NodeFacts, List[ServiceSpec], Dict[str, str]], None]] = None,
        imds_started: Optional["imds_mod.Background"] = None) -> Report:
    """Raises SettingsError when the run cannot happen at all (no region, bad input).
    imds_started: imds.Background.start(settings), called earlier by the caller (check does, before
    importing this module and the rest of the check path)."""
    started = time.monotonic()
    deadline = started + settings.global_deadline
    prefetch: List[Any] = []  # the DnsPrefetch started once IMDS's first round names the region
    background = imds_started or imds_mod.Background.start(settings)
    background.on_identity(lambda identity: _prefetch_dns_soon(settings, identity, prefetch))
    imds_facts = background.result
    from ..checks.base import NODE, SERVICE
    from ..checks.context import CheckContext
    from .discovery import needed_by_running
    from .redact import Redactor

    started_at = clock()
    generated_at = datetime.fromtimestamp(started_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    loaded: List[Any] = []
    loader = None
    if checks is None:
        # Finding the checks reads every installed package's metadata (entry points): done while
        # discovery waits on IMDS, not after it, at real latency those are the first round trips.
        loader = threading.Thread(target=lambda: loaded.append(_load_checks_or_error()), daemon=True)
        loader.start()
    _started_imds.call = imds_facts
    try:
        facts = discover(settings, lambda: deadline - time.monotonic())
    finally:
        _started_imds.call = None
    needed = needed_by_running(facts)
    services = choose_services(settings, needed)
    ctx = CheckContext(settings, facts, partition_for_region(facts.region), services, needed, deadline, clock,
                       credentials_provider)
    if prefetch:
        prefetch[0].join(max(0.0, min(1.0, deadline - time.monotonic())))  # it only starts threads
        ctx.prefetched = prefetch[1] if len(prefetch) > 1 else None
    if on_facts is not None:
        try:
            on_facts(facts, services, {s.id: (ctx.hostnames(s) or [""])[0] for s in services})
        except Exception:
            pass  # a display that went away does not stop the run
    if loader is not None:
        loader.join(max(0.0, deadline - time.monotonic()))
        if not loaded:
            raise RuntimeError("loading the checks did not finish within the run deadline")
        if isinstance(loaded[0], BaseException):
            raise loaded[0]
        checks = loaded[0]
    checks = list(checks)
    plan = None
    if settings.state_dir and not settings.no_api:
        # timer mode: the signed calls and the inventory at most every --api-interval (agent/carry.py)
        from . import carry

        plan = carry.EvidencePlan(carry.load_state(settings.state_dir), settings.api_interval, services, clock)
        ctx.evidence_plan = plan
        checks = [carry.CarriedCheck(c, plan) if c.id in carry.CARRIED_CHECKS else c for c in checks]
    jobs = [(c, None) for c in checks if c.scope == NODE] + [(c, s) for s in services for c in checks if c.scope == SERVICE]
    slots: List[Optional[CheckResult]] = [None] * len(jobs)

    def worker(index: int) -> None:
        check, service = jobs[index]
        if service is not None and not ctx.hostnames(service):
            # ecr.dkr's name holds the account id: without it there is nothing to probe, and saying so
            # beats a crash or a silent gap.
            slots[index] = CheckResult(check.id, service.id, "skipped", None,
                                       "no hostname: the account id is unknown (IMDS gave none; pass --account-id)")
            _notify(observer, slots[index])
            return
        slots[index] = _run_one(check, ctx, service, observer)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    from ..checks import remediation, verdicts  # noqa: F401 - imported while the probes wait on the network
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if ctx.prefetched is not None:
        ctx.prefetched.close()  # a connection dialled ahead that the inventory did not take
    results = []
    for index, (check, service) in enumerate(jobs):
        result = slots[index]
        if result is None:
            result = CheckResult(check.id, service.id if service else None, "timeout", None,
                                 "did not finish within the run deadline (%.1fs)" % settings.global_deadline,
                                 (time.monotonic() - started) * 1000)
            _notify(observer, result)
        results.append(result)
    if plan is not None and plan.note():
        facts = replace(facts, discovery_notes=facts.discovery_notes + (plan.note(),))
    report = assemble(settings, facts, ctx, services, needed, checks, results,
                      (time.monotonic() - started) * 1000, generated_at)
    report = Redactor.for_credentials(_credentials_if_known(ctx), facts.instance_credentials).report(report)
    if plan is not None and plan.full:
        from . import carry

        try:
            carry.save_state(settings.state_dir, plan, ctx, report.to_dict(), started_at)
        except OSError:
            pass  # the state directory's trouble is reported when last.json is written
    return report


_started_imds = threading.local()  # run() -> discover(): the IMDS read already under way in this thread's run


def discover(settings: Settings, remaining: Callable[[], float]) -> NodeFacts:
    """agent/discovery.discover, handed the IMDS read run() started before the heavy imports."""
    from . import discovery

    return discovery.discover(settings, remaining, imds_facts=getattr(_started_imds, "call", None))


def _prefetch_dns_soon(settings: Settings, identity: Dict[str, str], box: List[Any]) -> None:
    """Called in the IMDS thread between its rounds: hands the work to another thread at once, so
    IMDS's last round is not delayed. box gets [thread] now and the DnsPrefetch once started."""
    def start() -> None:
        try:
            started = _prefetch_dns(settings, identity)
        except Exception:
            return  # no head start: the checks ask themselves, as without it
        if started is not None:
            box.append(started)

    thread = threading.Thread(target=start, daemon=True)
    box.append(thread)
    thread.start()


def _prefetch_dns(settings: Settings, identity: Dict[str, str]) -> Any:
    """A lookups of the chosen services' hostnames on the VPC resolver and the node's, with the
    region and account id vetted as discovery vets them (a malformed one is never queried)."""
    from types import SimpleNamespace

    from ..checks.dns_prefetch import DnsPrefetch
    from ..checks.probes.dns import NODE, VPC
    from ..checks.tls_context import make_ssl_context
    from ..core import identifiers
    from ..core.addresses import NetworkGuard, parse_addr
    from . import resolvconf

    vetted = SimpleNamespace(identity=dict(identity), vpc_id=None, subnet_id=None, local_ipv4=None, vpc_cidrs=[])
    identifiers.vet_imds_facts(vetted)
    region = settings.region or vetted.identity.get("region")
    if not region:
        return None
    partition = partition_for_region(region)
    account = settings.account_id or vetted.identity.get("accountId")
    node = list(settings.resolvers) if settings.resolvers else resolvconf.node_resolvers(settings.resolv_conf)[0]
    servers = [(VPC, parse_addr(settings.vpc_resolver, 53))] + [(NODE, parse_addr(r, 53)) for r in node]
    hostnames = [h for s in choose_services(settings, {}) for h in s.hostnames(region, partition, account)]
    prefetch = DnsPrefetch(settings.timeout, NetworkGuard(settings.allow_net))
    if not settings.no_api and not settings.state_dir:  # timer mode may carry the inventory: no call this run
        ec2 = next((s for s in load_catalogue() if s.id == "ec2"), None)
        names = ec2.hostnames(region, partition, account) if ec2 is not None else []
        if names:
            prefetch.dial = (names[0], settings.https_port)
            hostnames = hostnames + [names[0]]
    prefetch.start(hostnames, servers)
    try:
        prefetch.ssl_context = make_ssl_context(settings)
    except (OSError, ValueError):
        pass  # a bad --ca-bundle: the TLS check builds its own and reports it
    finally:
        prefetch.ssl_ready.set()
    return prefetch


def _load_checks_or_error():
    from ..checks.base import load_checks

    try:
        return load_checks()
    except BaseException as exc:  # re-raised in the caller's thread, as load_checks() always did
        return exc


def _credentials_if_known(ctx: "CheckContext"):
    try:
        return ctx.memo.get("credentials", lambda: None)
    except Exception:  # still being fetched at the deadline
        return None


def _role_arn(ctx: "CheckContext", facts: NodeFacts) -> Optional[str]:
    role, account = (facts.imds or {}).get("iam_role"), facts.account_id
    return "arn:%s:iam::%s:role/%s" % (ctx.partition.id, account, role) if role and account else None


def _evidence(results: List[CheckResult], check_id: str, service_id: Optional[str]):
    for r in results:
        if r.check == check_id and r.service == service_id:
            return r.evidence if r.ok else None
    return None


def assemble(settings, facts: NodeFacts, ctx: "CheckContext", services: List[ServiceSpec], needed, checks,
             results: List[CheckResult], duration_ms: float, generated_at: str) -> Report:
    from ..checks import verdicts, verdicts_pull
    from ..checks.remediation import Where

    where = Where(region=facts.region or "", vpc_id=facts.vpc_id or "", subnet_id=facts.subnet_id or "",
                  vpc_cidrs=facts.vpc_cidrs, instance_id=facts.instance_id or "<INSTANCE-ID>")
    node = verdicts.NodeEvidence(
        where=where,
        availability_zone=facts.availability_zone,
        vpc_resolver=ctx.resolvers[0][1][0] + ":" + str(ctx.resolvers[0][1][1]),
        inventory=_evidence(results, "inventory", None),
        imds=_evidence(results, "imds", None),
        credentials=_evidence(results, "credentials", None),
        proxy=_evidence(results, "proxy", None),
        cluster=_evidence(results, "cluster_endpoint", None),
        no_privatelink=_evidence(results, "no_privatelink", None),
        sts_global=_evidence(results, "sts_global", None),
        pod_identity=_evidence(results, "pod_identity", None),
        api_results=[r.evidence for r in results if r.check == "api" and r.ok and r.evidence is not None],
        clock_tolerance=settings.clock_tolerance,
        endpoint_cidrs=facts.endpoint_cidrs,
        iam_role=(facts.imds or {}).get("iam_role"),
        role_arn=_role_arn(ctx, facts),
        image_pull=_evidence(results, "image_pull", None),
    )
    running = {c.get("name") for c in facts.components}
    by_id = {c.id: c for c in checks}
    service_reports = []
    all_findings: List[Finding] = []
    for spec in services:
        own = [r for r in results if r.service == spec.id]
        hostnames = ctx.hostnames(spec)
        evidence = verdicts.ServiceEvidence(
            id=spec.id, endpoint_type=spec.endpoint_type, endpoint_service_name=_service_name(ctx, node, spec),
            hostname=hostnames[0] if hostnames else "", required=spec.always_required or bool(needed.get(spec.id)),
            dns=_evidence(own, "dns", spec.id), tls=_evidence(own, "tls", spec.id), api=_evidence(own, "api", spec.id),
            action_needed_by=tuple(c for c in spec.probe.get("action_needed_by", ()) if c in running),
            iam_action=spec.iam_action(getattr(_evidence(own, "api", spec.id), "operation", None)),
            iam_resource=spec.iam_resource(facts.region or "", ctx.partition))
        judged, judge_errors = _outside_findings(by_id, own, facts, spec)
        own = own + judge_errors
        findings = verdicts_pull.service_findings(evidence, verdicts.service_findings(evidence, node), node) + judged
        failed = [r for r in own if not r.ok]
        # info findings never set the status: a service with only those is ok. An API answer that proves
        # nothing (5xx, throttled twice, not AWS's shape) leaves the service unknown with its reason in
        # probes.api, never ok.
        serious = [f for f in findings if f.severity != INFO]
        unsure = failed or verdicts.api_inconclusive(evidence)
        status = worst_status([severity_status(f.severity) for f in serious]
                              + ([STATUS_UNKNOWN] if unsure else [])) or STATUS_OK
        all_findings += findings
        service_reports.append(ServiceReport(
            id=spec.id, endpoint_service=evidence.endpoint_service_name, hostname=evidence.hostname,
            endpoint_type=spec.endpoint_type, required=evidence.required,
            required_by=(["always"] if spec.always_required else []) + list(needed.get(spec.id, [])),
            status=status, findings=findings,
            probes=_probes(evidence, spec, node),
            checks=own, vpc_dns_scope=_vpc_dns_scope(evidence)))
    node_results = [r for r in results if r.service is None]
    judged, judge_errors = _outside_findings(by_id, node_results, facts, None)
    node_results = node_results + judge_errors
    node_found = verdicts.node_findings(node) + verdicts_pull.unplaced(node, [s.id for s in services]) + judged
    all_findings = node_found + all_findings
    statuses = [severity_status(f.severity) for f in all_findings] + [s.status for s in service_reports]
    statuses += [STATUS_UNKNOWN for r in node_results if not r.ok]
    return Report(tool_version=__version__, generated_at=generated_at, duration_ms=duration_ms,
                  status=worst_status(statuses), node=facts, findings=all_findings, services=service_reports,
                  node_checks={r.check: r.evidence for r in node_results if r.ok}, node_check_results=node_results)


def _vpc_dns_scope(evidence) -> Optional[str]:
    """The best the VPC resolver's A answers for the service's own name reach: vpc, else remote, else public."""
    scopes = {a.scope for d in evidence.dns or () if d.resolver_role == "vpc" and d.hostname == evidence.hostname
              and d.rdtype == "A" for a in d.addresses}
    return next((s for s in ("vpc", "remote", "public") if s in scopes), None)


def _probes(evidence, spec: ServiceSpec, node) -> Dict[str, Any]:
    probes: Dict[str, Any] = {"dns": list(evidence.dns or []), "tls": list(evidence.tls or []), "api": evidence.api or {}}
    table = node.route_table
    if spec.endpoint_type == "Gateway" and table is not None:
        # a gateway endpoint is a route: the node subnet's table and its prefix-list routes are the evidence
        probes["route"] = {"route_table_id": table.id, "main": table.main,
                           "gateway_routes": [{"prefix_list_id": r.prefix_list_id, "endpoint_id": r.target_id,
                                               "state": r.state} for r in table.gateway_routes()]}
    return probes


def _service_name(ctx: "CheckContext", node, spec: ServiceSpec) -> str:
    inventory = node.inventory
    if inventory is not None and inventory.available and spec.id in inventory.service_names:
        return inventory.service_names[spec.id]
    return ctx.endpoint_service_name(spec)


def _outside_findings(by_id, results: List[CheckResult], facts, spec):
    """Checks from outside the package may judge their own evidence. A judge that raises
    becomes an error result of its own (its service turns unknown), never a silent gap."""
    found: List[Finding] = []
    errors: List[CheckResult] = []
    for r in results:
        judge = getattr(by_id.get(r.check), "findings", None)
        if judge is None or not r.ok:
            continue
        try:
            found += list(judge(r.evidence, facts, spec))
        except Exception as exc:
            errors.append(CheckResult(r.check + ".findings", r.service, "error", None,
                                      "%s: %s" % (type(exc).__name__, exc)))
    return found, errors
