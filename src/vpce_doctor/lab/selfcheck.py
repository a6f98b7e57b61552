"""Prove the lab behaves as its scenario says, with stock tools only (dig, curl, the aws
CLI), from inside the node namespace, so a lab bug is never mistaken for a tool bug."""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Set

CURL_TIMEOUT, CURL_TLS = 28, 60  # curl's exit codes
PARALLEL_PROBES = 6  # dig and curl processes at once


def aws_cli() -> Optional[str]:
    """The aws CLI: $VPCE_DOCTOR_AWS_CLI, the one `make` installs, or PATH."""
    candidates = [os.environ.get("VPCE_DOCTOR_AWS_CLI"), ".venv-awscli/bin/aws", shutil.which("aws")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def _dig(lab, server: str, name: str) -> Optional[Set[str]]:
    """The A answers, or None when the server does not answer at all."""
    done = lab.in_node(["dig", "+time=1", "+tries=1", "+short", "@" + server, name], timeout=10)
    if done.returncode != 0 or "timed out" in done.stdout:
        return None
    return {line.strip() for line in done.stdout.splitlines() if line.strip() and line[0].isdigit()}


def expected_vpc_answer(lab, service_id: str, name: str) -> Set[str]:
    """From the scenario's intent, not from what the lab wrote into unbound."""
    sc = lab.scenario
    if service_id in sc.endpoints and (service_id not in sc.private_dns_off
                                       or service_id in sc.parent_zone_services + sc.service_zones):
        return {address for address, _ in lab.facts["eni_addresses"].get(service_id, [])}
    if service_id in sc.hub_services and sc.node_dns != "hub":  # the shared private zone: the hub's endpoint
        return {address for address, _ in lab.facts["hub_addresses"].get(service_id, [])}
    if any(name == zone or name.endswith("." + zone) for zone in lab.facts["private_zones"]):
        return set()  # a private zone on the VPC without the record: NXDOMAIN (NODATA at its apex)
    return {lab.facts["public"][name]}


def expected_node_answer(lab, service_id: str, name: str) -> Set[str]:
    sc = lab.scenario
    if sc.node_dns == "hub":  # the hub's inbound endpoint: the hub's endpoints, else the public answer
        hub = {address for address, _ in lab.facts["hub_addresses"].get(service_id, [])}
        return hub or {lab.facts["public"][name]}
    if sc.node_dns == "public" or sc.corporate_overrides.get(service_id) == "public":
        return {lab.facts["public"][name]}
    if sc.corporate_overrides.get(service_id) == "nxdomain":
        return set()
    return expected_vpc_answer(lab, service_id, name)


def prove(lab) -> List[str]:
    """Returns the ways the lab differs from its scenario; empty means proven."""
    sc = lab.scenario
    served = {a for addresses in lab.facts["eni_addresses"].values() for a, letter in addresses}
    dropped = {a for s, addresses in lab.facts["eni_addresses"].items() for a, letter in addresses
               if letter in sc.sg_drop_443.get(s, ())}
    hub = {a for s, addresses in lab.facts["hub_addresses"].items() if s not in sc.hub_unreachable
           for a, _ in addresses}
    reachable = (served - dropped) | set(lab.facts["reachable_public"]) | hub
    untrusted = {a for s in sc.untrusted_tls for a, _ in lab.facts["eni_addresses"].get(s, [])}
    # Each service's digs and curl wait up to a second or three where the scenario breaks a path:
    # the services side by side (each tool bounded by its own timeout), their problems in order.
    with ThreadPoolExecutor(max_workers=PARALLEL_PROBES) as pool:
        per_service = list(pool.map(lambda s: _prove_service(lab, s, reachable, untrusted), sc.services))
        components = pool.submit(_components_agree, lab)
        problems = [p for found in per_service for p in found] + _aws_cli_agrees(lab)
        return problems + components.result()


def _prove_service(lab, service_id: str, reachable: Set[str], untrusted: Set[str]) -> List[str]:
    sc, plan, problems = lab.scenario, lab.plan, []
    name = lab.facts["hostnames"][service_id][0]
    vpc = _dig(lab, plan.vpc_resolver_ip, name)
    if sc.vpc_resolver_down:
        if vpc is not None:
            problems.append("%s: the VPC resolver answered %s but should be down" % (name, vpc))
        return problems
    if vpc != expected_vpc_answer(lab, service_id, name):
        problems.append("%s: VPC resolver answered %s, scenario says %s" % (name, vpc, expected_vpc_answer(lab, service_id, name)))
    node = _dig(lab, plan.corporate_resolver_ip, name) if sc.node_dns != "vpc" else vpc
    if node != expected_node_answer(lab, service_id, name):
        problems.append("%s: node resolver answered %s, scenario says %s" % (name, node, expected_node_answer(lab, service_id, name)))
    if not node:
        return problems
    address = sorted(node)[0]
    done = lab.in_node(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", lab.ca_path,
                        "--connect-timeout", "1", "--max-time", "3", "--resolve", "%s:443:%s" % (name, address),
                        "https://%s/" % name], timeout=10)
    if address in untrusted:
        want = "TLS failure (curl %d)" % CURL_TLS
        ok = done.returncode == CURL_TLS
    elif address in reachable:
        want = "an HTTP answer"
        ok = done.returncode == 0 and done.stdout.strip() not in ("", "000")
    else:
        want = "a connect timeout (curl %d)" % CURL_TIMEOUT
        ok = done.returncode == CURL_TIMEOUT
    if not ok:
        problems.append("%s via %s: curl exit %d (%s), scenario says %s" % (name, address, done.returncode,
                                                                           done.stdout.strip(), want))
    return problems


def _components_agree(lab) -> List[str]:
    """The names the scenario's components call answer public addresses that time out, and the
    Pod Identity agent's address answers HTTP exactly when the scenario says it is up."""
    from ..demo.components_side import public_names
    from .lab import POD_IDENTITY_IP

    sc, plan, problems = lab.scenario, lab.plan, []
    names = public_names(sc, sc.region, lab.model.partition)
    checked = names if not sc.vpc_resolver_down else ()
    with ThreadPoolExecutor(max_workers=PARALLEL_PROBES) as pool:
        answers = list(pool.map(lambda name: _dig(lab, plan.vpc_resolver_ip, name), checked))
    for name, answer in zip(checked, answers):
        if answer != {lab.facts["public"][name]}:
            problems.append("%s: VPC resolver answered %s, scenario says %s" % (name, answer, lab.facts["public"][name]))
    if names:  # one curl proves the route: every public name leaves through the same blackhole
        name = names[0]
        done = lab.in_node(["curl", "-s", "-o", "/dev/null", "--connect-timeout", "1", "--max-time", "3", "--resolve",
                            "%s:443:%s" % (name, lab.facts["public"][name]), "https://%s/" % name], timeout=10)
        if done.returncode != CURL_TIMEOUT:
            problems.append("%s: curl exit %d, scenario says a connect timeout" % (name, done.returncode))
    if sc.pod_identity:
        done = lab.in_node(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "1",
                            "--max-time", "2", "http://%s/" % POD_IDENTITY_IP], timeout=10)
        answered = done.returncode == 0 and done.stdout.strip() not in ("", "000")
        if answered != (sc.pod_identity == "up"):
            problems.append("pod identity agent %s: curl exit %d (%s), scenario says %s"
                            % (POD_IDENTITY_IP, done.returncode, done.stdout.strip(), sc.pod_identity))
    return problems


def _aws_cli_agrees(lab) -> List[str]:
    """The aws CLI, with nothing but the node's own DNS and IMDS credentials, sees the same
    endpoints the lab built (only where the scenario leaves that path working)."""
    sc = lab.scenario
    healthy_path = (sc.imds == "v2" and not sc.vpc_resolver_down and sc.node_dns != "public"
                    and "ec2" in sc.endpoints and "ec2" not in sc.private_dns_off
                    and "ec2" not in sc.corporate_overrides and "ec2" not in sc.sg_drop_443
                    and "ec2" not in sc.untrusted_tls and not sc.aws_clock_offset)
    cli = aws_cli()
    if not healthy_path:
        return []
    if cli is None:
        return ["the aws CLI is not installed (make test installs it into .venv-awscli)"]
    env = {"PATH": "/usr/bin:/bin", "AWS_CA_BUNDLE": lab.ca_path, "AWS_DEFAULT_REGION": sc.region,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull, "HOME": lab.workdir,
           "AWS_METADATA_SERVICE_TIMEOUT": "2", "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "1"}
    done = lab.in_node([os.path.abspath(cli), "ec2", "describe-vpc-endpoints", "--output", "json",
                        "--cli-connect-timeout", "3", "--cli-read-timeout", "10"], env=env, timeout=60)
    if sc.managed_policies_only:  # the managed node policies do not grant it: the CLI must see EC2's denial
        if done.returncode == 0 or "UnauthorizedOperation" not in done.stderr:
            return ["aws ec2 describe-vpc-endpoints should be denied (UnauthorizedOperation) with only the managed "
                    "node policies: exit %d %s" % (done.returncode, done.stderr.strip()[-300:])]
        return []
    if done.returncode != 0:
        return ["aws ec2 describe-vpc-endpoints failed in the node namespace: %s" % done.stderr.strip()[-300:]]
    endpoints = json.loads(done.stdout)["VpcEndpoints"]
    wanted = {s for s in sc.endpoints if s in sc.services}
    seen = {e["ServiceName"].split(sc.region + ".", 1)[-1] for e in endpoints if e["VpcEndpointType"] == "Interface"}
    if seen != wanted:
        return ["aws CLI sees interface endpoints %s, scenario built %s" % (sorted(seen), sorted(wanted))]
    return []
