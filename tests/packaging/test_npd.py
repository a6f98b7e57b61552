"""node-problem-detector: the `--format npd` contract, the custom plugin monitor configuration
checked against NPD's own rules, and the monitor's exact command run against every scenario of
the simulated VPC, read the way NPD reads it (exit code, stdout trimmed and cut), down to the
node condition it would set."""
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from vpce_doctor.cli import build_parser
from vpce_doctor.agent.render import npd
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import ROOT, SCENARIO_TIMEOUT, clean_env, run_cli

NPD_DIR = os.path.join(ROOT, "packaging", "kubernetes", "npd")
MONITOR = os.path.join(NPD_DIR, "vpce-doctor-monitor.json")


def load_monitor():
    with open(MONITOR) as handle:
        return json.load(handle)


# --- NPD's configuration rules (pkg/custompluginmonitor/types/config.go, types.go) ---------------
GO_DURATION = re.compile(r"^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|ms|s|m|h))+$")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
TOP_KEYS = {"plugin", "pluginConfig", "source", "conditions", "rules", "metricsReporting"}
PLUGIN_CONFIG_KEYS = {"invoke_interval": str, "timeout": str, "max_output_length": int, "concurrency": int,
                      "enable_message_change_based_condition_update": bool, "skip_initial_status": bool}
RULE_KEYS = {"type", "condition", "reason", "path", "args", "timeout", "invoke_interval"}
CONDITION_KEYS = {"type", "reason", "message"}
CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")  # Kubernetes condition types and reasons
NPD_DEFAULT_TIMEOUT, NPD_DEFAULT_INTERVAL = "5s", "30s"


def go_duration(text):
    """Seconds of a Go time.ParseDuration string; ValueError where Go would fail."""
    if not isinstance(text, str) or not GO_DURATION.match(text):
        raise ValueError("not a Go duration: %r" % (text,))
    return sum(float(n) * UNIT_SECONDS[u] for n, u in re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)", text))


def validate_monitor(config):
    """The checks NPD does at start (ApplyConfiguration, Validate) plus what makes a monitor
    sane: a run ends before NPD kills it, and before the next one starts. Returns the problems."""
    problems = []
    if config.get("plugin") != "custom":
        problems.append("plugin must be \"custom\"")
    problems += ["unknown key %s" % k for k in set(config) - TOP_KEYS]
    if not isinstance(config.get("source"), str) or not config.get("source"):
        problems.append("source must be a name")
    if "metricsReporting" in config and not isinstance(config["metricsReporting"], bool):
        problems.append("metricsReporting must be a boolean")
    plugin = config.get("pluginConfig") or {}
    for key, value in plugin.items():
        kind = PLUGIN_CONFIG_KEYS.get(key)
        if kind is None:
            problems.append("unknown pluginConfig key %s" % key)
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problems.append("pluginConfig.%s must be %s" % (key, kind.__name__))
    try:
        timeout = go_duration(plugin.get("timeout", NPD_DEFAULT_TIMEOUT))
        interval = go_duration(plugin.get("invoke_interval", NPD_DEFAULT_INTERVAL))
    except ValueError as exc:
        return problems + ["pluginConfig: %s" % exc]
    if timeout > interval:
        problems.append("plugin timeout %ss exceeds invoke_interval %ss: runs would overlap" % (timeout, interval))
    if any(isinstance(plugin.get(k), int) and plugin[k] < 1 for k in ("max_output_length", "concurrency")):
        problems.append("max_output_length and concurrency must be positive")
    conditions = config.get("conditions") or []
    for condition in conditions:
        problems += ["unknown condition key %s" % k for k in set(condition) - CONDITION_KEYS]
        if not CAMEL.match(condition.get("type") or "") or not CAMEL.match(condition.get("reason") or ""):
            problems.append("condition type and reason must be CamelCase: %s" % condition)
        if not condition.get("message"):
            problems.append("condition %s needs a default message" % condition.get("type"))
    types = [c.get("type") for c in conditions]
    if len(types) != len(set(types)):
        problems.append("condition types repeat")
    for rule in config.get("rules") or []:
        problems += ["unknown rule key %s" % k for k in set(rule) - RULE_KEYS]
        if rule.get("type") not in ("temporary", "permanent"):
            problems.append("rule type must be temporary or permanent: %s" % rule.get("type"))
        if not CAMEL.match(rule.get("reason") or ""):
            problems.append("rule reason must be CamelCase: %s" % rule.get("reason"))
        if rule.get("type") == "permanent":
            if rule.get("condition") not in types:
                problems.append("permanent problem %s has no default condition" % rule.get("condition"))
            default = next((c for c in conditions if c.get("type") == rule.get("condition")), {})
            if default.get("reason") == rule.get("reason"):
                problems.append("rule reason must differ from the default reason, or a problem reads as fine")
        if not isinstance(rule.get("path"), str) or not rule["path"].startswith("/"):
            problems.append("rule path must be absolute: %s" % rule.get("path"))
        if not isinstance(rule.get("args", []), list) or not all(isinstance(a, str) for a in rule.get("args", [])):
            problems.append("rule args must be a list of strings")
        if "timeout" in rule:
            try:
                if go_duration(rule["timeout"]) > timeout:
                    problems.append("rule timeout exceeds the plugin timeout")
            except ValueError as exc:
                problems.append("rule timeout: %s" % exc)
    if not config.get("rules"):
        problems.append("no rule")
    return problems


def test_validator_knows_npd_examples_and_mistakes():
    """NPD's own example (config/custom-plugin-monitor.json) passes; each broken copy fails."""
    example = {"plugin": "custom", "pluginConfig": {"invoke_interval": "30s", "timeout": "5s", "max_output_length": 80,
                                                    "concurrency": 3},
               "source": "ntp-custom-plugin-monitor",
               "conditions": [{"type": "NTPProblem", "reason": "NTPIsUp", "message": "ntp service is up"}],
               "rules": [{"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown",
                          "path": "/config/plugin/check_ntp.sh", "timeout": "3s"}]}
    assert validate_monitor(example) == []
    broken = [
        ("plugin", lambda c: c.update(plugin="script")),
        ("duration", lambda c: c["pluginConfig"].update(timeout="5 seconds")),
        ("rule timeout", lambda c: c["rules"][0].update(timeout="10s")),
        ("overlap", lambda c: c["pluginConfig"].update(timeout="1m")),
        ("condition", lambda c: c["rules"][0].update(condition="NTPBroken")),
        ("type", lambda c: c["rules"][0].update(type="sticky")),
        ("key", lambda c: c["pluginConfig"].update(maxOutputLength=80)),
        ("int", lambda c: c["pluginConfig"].update(max_output_length="80")),
        ("reason", lambda c: c["rules"][0].update(reason="NTPIsUp")),
    ]
    for name, breaks in broken:
        config = json.loads(json.dumps(example))
        breaks(config)
        assert validate_monitor(config), name
    assert go_duration("1h2m3.5s") == 3723.5 and go_duration("500ms") == 0.5


def test_monitor_configuration_follows_npd_rules():
    config = load_monitor()
    assert validate_monitor(config) == []
    [condition] = config["conditions"]
    [rule] = config["rules"]
    # one permanent rule: NPD emits an event itself at each change of the condition
    assert rule["type"] == "permanent" and rule["condition"] == condition["type"] == "VPCEndpointProblem"
    assert config["pluginConfig"]["enable_message_change_based_condition_update"] is True
    assert config["pluginConfig"]["concurrency"] == 1
    assert go_duration(config["pluginConfig"]["invoke_interval"]) >= 120  # every few minutes, not every 30 s


def rule_args():
    return load_monitor()["rules"][0]["args"]


def test_monitor_command_parses_with_the_real_cli_and_fits_npd_limits():
    config = load_monitor()
    args = build_parser().parse_args(rule_args())
    assert args.command == "check" and args.format == "npd"
    assert args.npd_max_length == config["pluginConfig"]["max_output_length"]
    assert not args.npd_warn_as_problem  # warnings are the operator's choice, off as shipped
    # vpce-doctor's own run deadline ends well before NPD kills the plugin (startup of the archive included)
    assert args.deadline and args.deadline + 15 <= go_duration(config["rules"][0]["timeout"])


def test_image_and_manifests_carry_the_monitor():
    config = load_monitor()
    with open(os.path.join(NPD_DIR, "Containerfile")) as handle:
        lines = [l for l in handle.read().splitlines() if l and not l.startswith("#")]
    assert lines[0].startswith("FROM registry.k8s.io/node-problem-detector/node-problem-detector:") and lines[0].endswith(" AS npd")
    assert "COPY --from=npd /node-problem-detector /node-problem-detector" in lines
    assert any(l.startswith("COPY dist/vpce-doctor.pex /usr/lib/vpce-doctor/vpce-doctor.pex") for l in lines)
    link = next(l for l in lines if l.startswith("RUN ln -s "))
    assert link.split()[4] == config["rules"][0]["path"]  # the rule's path exists in the image
    with open(os.path.join(NPD_DIR, "kustomization.yaml")) as handle:
        kustomization = yaml.safe_load(handle)
    [generated] = kustomization["configMapGenerator"]
    assert generated["files"] == ["vpce-doctor-monitor.json"] and kustomization["generatorOptions"]["disableNameSuffixHash"]
    assert all(os.path.exists(os.path.join(NPD_DIR, r)) for r in kustomization["resources"])
    with open(os.path.join(NPD_DIR, "daemonset.yaml")) as handle:
        docs = {d["kind"]: d for d in yaml.safe_load_all(handle)}
    assert docs["ClusterRoleBinding"]["roleRef"]["name"] == "system:node-problem-detector"
    pod = docs["DaemonSet"]["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert pod["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    [container] = pod["containers"]
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert any(e["name"] == "NODE_NAME" and e["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
               for e in container["env"])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) <= set(volumes)
    config_volume = next(n for n, v in volumes.items() if v.get("configMap", {}).get("name") == generated["name"])
    flag = "--config.custom-plugin-monitor=%s/vpce-doctor-monitor.json" % mounts[config_volume]
    assert flag in container["command"]
    parsed = build_parser().parse_args(rule_args())
    resolv = next(n for n, v in volumes.items() if v.get("hostPath", {}).get("path") == "/etc/resolv.conf")
    assert mounts[resolv] == parsed.resolv_conf  # the plugin reads the host's resolvers where they are mounted
    assert "emptyDir" in volumes[next(n for n, p in mounts.items() if p == "/var/cache/vpce-doctor")]  # PEX_ROOT


# --- the line and the exit code -------------------------------------------------------------------
def report(status, findings=(), services=None):
    services = services or [{"id": s, "required": s in ("ec2", "sts"), "status": "ok", "checks": []}
                            for s in ("ec2", "sts", "logs", "kms")]
    return {"status": status, "services": services, "checks": [],
            "findings": [{"code": c, "service": s, "severity": v} for c, s, v in findings]}


@pytest.mark.parametrize("status, warn_as_problem, code", [
    ("ok", False, 0), ("warn", False, 0), ("warn", True, 1), ("critical", False, 1), ("critical", True, 1),
    ("unknown", False, 2), ("unknown", True, 2), ("degraded", False, 2), (None, False, 2)])
def test_exit_codes_map_onto_npd(status, warn_as_problem, code):
    assert npd.exit_code(status, warn_as_problem) == code


@pytest.mark.parametrize("data, expected", [
    (report("ok"), "ok: 4 services reachable through their endpoints"),
    (report("critical", [("private_dns_disabled", "sts", "critical"), ("private_dns_disabled", "ec2", "critical")]),
     "critical: private_dns_disabled (sts, ec2)"),
    # the critical code wins over a warning on more services; the warning is counted
    (report("critical", [("iam_denied", "logs", "warning"), ("iam_denied", "kms", "warning"),
                         ("tls_failure", "sts", "critical")]), "critical: tls_failure (sts); 2 more findings"),
    # one code at two severities: the line names the critical services only
    (report("critical", [("port_blocked", "logs", "warning"), ("port_blocked", "sts", "critical")]),
     "critical: port_blocked (sts); 1 more finding"),
    # a node-wide cause outranks a per-service one of the same severity on an optional service
    (report("critical", [("dns_failure", "kms", "critical"), ("clock_skew", None, "critical")]),
     "critical: clock_skew (node); 1 more finding"),
    # codes and severities another version adds rank below what it knows
    (report("warn", [("brand_new_code", "ec2", "info"), ("endpoint_az_missing", "kms", "warning")]),
     "warn: endpoint_az_missing (kms); 1 more finding"),
    (report("ok", [("brand_new_code", "ec2", "info")]), "ok: brand_new_code (ec2)"),
    (report("unknown", services=[{"id": "sts", "required": True, "status": "unknown",
                                  "checks": [{"check": "api", "state": "timeout"}]}]), "unknown: could not run: sts api"),
    (report("unknown"), "unknown: a check could not run"),
    (report("unknown", [("brand_new_code", "ec2", "info")], services=[
        {"id": "ec2", "required": True, "status": "unknown", "checks": [{"check": "tls", "state": "error"}]}]),
     "unknown: could not run: ec2 tls"),
    (report("critical", [("tls\x1b[31m_failure\n", "s\u00e9s\x00", "critical")]), "critical: tls [31m_failure (s?s)"),
])
def test_the_line(data, expected):
    assert npd.line(data, 160) == expected


def test_the_line_is_bounded_ascii_at_every_length():
    many = report("critical", [("custom_dns_not_forwarding", "service-%02d-with-a-long-name" % i, "critical")
                               for i in range(40)] + [("clock_skew", None, "warning")])
    for limit in range(10, 240):
        text = npd.render(many, limit)
        body = text.rstrip("\n")
        assert text.endswith("\n") and "\n" not in body
        assert len(body.encode()) <= limit and all(" " <= c <= "~" for c in body)
        if limit >= 50:
            assert body.startswith("critical: custom_dns_not_forwarding (")
        if limit >= 90:
            assert "with-a-long-name +" in body and body.endswith("; 1 more finding")


# --- the monitor's exact command against the simulated VPC, read as NPD reads it ---------------------
def npd_reads(returncode, stdout, config):
    """What NPD makes of one plugin run (plugin.go: TrimSpace, cut at max_output_length bytes;
    custom_plugin_monitor.go: exit 0 -> False with the default reason and message, 1 -> True with
    the rule's reason and our line, other -> Unknown with our line)."""
    [condition], [rule] = config["conditions"], config["rules"]
    message = stdout.strip()[:config["pluginConfig"]["max_output_length"]]
    if returncode == 0:
        return {"type": condition["type"], "status": "False", "reason": condition["reason"], "message": condition["message"]}
    if returncode == 1:
        return {"type": condition["type"], "status": "True", "reason": rule["reason"], "message": message}
    return {"type": condition["type"], "status": "Unknown", "reason": condition["reason"], "message": message}


def run_monitor_command(world, extra=()):
    """The rule's args exactly, the program being this checkout instead of /usr/bin/vpce-doctor; the
    world's flags after them point the run at the simulated VPC (argparse: the last value wins)."""
    config = load_monitor()
    rule = config["rules"][0]
    return subprocess.run([sys.executable, "-m", "vpce_doctor", *rule["args"], *extra, *world.cli_args(timeout=SCENARIO_TIMEOUT)],
                          capture_output=True, text=True, env=clean_env(), cwd=ROOT,
                          timeout=go_duration(rule["timeout"]))  # NPD kills the plugin there


EXPECTED_CONDITION = {
    "healthy": ("False", "vpce-doctor: every AWS service this node needs answers through its VPC endpoint"),
    "private-dns-off": ("True", "critical: private_dns_disabled (ecr.api, ecr.dkr)"),
    "sg-drops-443": ("True", "critical: port_blocked (sts); 1 more finding"),
    "clock-skew": ("True", "critical: clock_skew (node); 1 more finding"),  # + layer_bucket_unverified (info)
    "policy-denied": ("True", "critical: policy_denied (ecr.api); 1 more finding"),
    "cluster-endpoint-public": ("True", "critical: cluster_endpoint_unreachable (node)"),
    "az-missing": ("False", "vpce-doctor: every AWS service this node needs answers through its VPC endpoint"),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_monitor_command_against_every_scenario(name, dns_backend):
    scenario = SCENARIOS[name]
    config = load_monitor()
    with World(scenario, dns_backend=dns_backend) as world:
        done = run_monitor_command(world)
    assert "Traceback" not in done.stderr
    assert done.returncode == {"ok": 0, "warn": 0, "critical": 1, "unknown": 2}[scenario.expect_status]
    body = done.stdout.rstrip("\n")
    assert "\n" not in body and body == body.strip() and all(" " <= c <= "~" for c in body)
    assert len(body.encode()) <= config["pluginConfig"]["max_output_length"]  # NPD cuts nothing
    assert body.startswith(scenario.expect_status + ": ")
    if scenario.expect:
        named = body.split(": ", 1)[1].split(" ", 1)[0]
        assert named in {code for code, _ in scenario.expect}
        services = {s or "node" for code, s in scenario.expect if code == named}
        shown = re.search(r"\(([^)]*)\)", body).group(1).split(" +")[0].split(", ")
        assert set(shown) <= services
    condition = npd_reads(done.returncode, done.stdout, config)
    if name in EXPECTED_CONDITION:
        assert (condition["status"], condition["message"]) == EXPECTED_CONDITION[name]
        assert condition["reason"] == ("VPCEndpointUnreachable" if condition["status"] == "True" else "VPCEndpointsReachable")


@pytest.mark.integration
def test_warnings_set_the_condition_when_the_operator_says_so(dns_backend, tmp_path):
    """--npd-warn-as-problem, and --state-dir beside it: one run feeds NPD and writes last.json,
    stdout carrying the line only (no journal lines for NPD to show)."""
    config = load_monitor()
    state = tmp_path / "state"
    with World(SCENARIOS["az-missing"], dns_backend=dns_backend) as world:
        done = run_monitor_command(world, extra=("--npd-warn-as-problem", "--state-dir", str(state)))
    assert done.returncode == 1
    assert npd_reads(done.returncode, done.stdout, config) == {
        "type": "VPCEndpointProblem", "status": "True", "reason": "VPCEndpointUnreachable",
        "message": "warn: endpoint_az_missing (ecr.dkr)"}
    assert json.loads((state / "last.json").read_text())["status"] == "warn"


def test_a_run_that_cannot_happen_is_unknown_with_its_reason_on_stdout():
    config = load_monitor()
    done = run_cli([*rule_args(), "--region", "us-east-1", "--services", "no-such-service"])
    assert done.returncode == 2
    condition = npd_reads(done.returncode, done.stdout, config)
    assert condition["status"] == "Unknown"
    assert condition["message"].startswith("unknown: vpce-doctor could not run: unknown service id(s): no-such-service")
    done = run_cli([*rule_args(), "--output", "/tmp/x"])
    assert done.returncode == 2 and "--output does not apply" in done.stdout
    # a bad flag stops argparse before the format is known: exit 3, which NPD also reads as Unknown
    done = run_cli([*rule_args(), "--npd-max-length", "0"])
    assert done.returncode == 3 and "must be at least 1" in done.stderr

