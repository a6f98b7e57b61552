"""vpce-doctor benchmark on the lab (root): writes BENCHMARKS.md.

    make bench                 # or: python bench/run.py [--runs N] [--output BENCHMARKS.md]

Every figure is measured in this run, on this machine, against the lab's real servers;
ratios and medians, because the machine is shared and noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from vpce_doctor.checks.catalogue import load_catalogue  # noqa: E402
from vpce_doctor.demo.scenarios import SCENARIOS  # noqa: E402
from vpce_doctor.lab.lab import Lab  # noqa: E402
from vpce_doctor.lab.netns import netns_exec  # noqa: E402
from vpce_doctor.lab.selfcheck import aws_cli, prove  # noqa: E402

TARGETS = {"healthy_wall": 0.5, "healthy_cpu": 0.4, "healthy_rss_mb": 50.0, "isolated_over": 0.3,
           "speedup": 20.0, "version": 0.15, "floor_ratio": {0.020: 1.1, 0.100: 1.2}, "pex_first": 1.5,
           "fleet_10k": 5.0}
PEX = os.path.join(ROOT, "dist", "vpce-doctor.pex")
# the "healthy, 20 services", all with endpoints (the catalogue may hold more, e.g. dynamodb's
# gateway endpoint, added after the figure was set)
ALL_IDS = tuple(s.id for s in load_catalogue())
HEALTHY_ALL = SCENARIOS["healthy-all"]
assert set(HEALTHY_ALL.services) <= set(ALL_IDS), "scenario healthy-all lists a service the catalogue lacks"
# the read-only call a person makes by hand for each service (aws CLI v1 syntax)
MANUAL_CALLS = {
    "ec2": "ec2 describe-availability-zones", "ecr.api": "ecr get-authorization-token",
    "sts": "sts get-caller-identity", "logs": "logs describe-log-groups --limit 1",
    "ssm": "ssm describe-parameters --max-results 1", "elasticloadbalancing": "elbv2 describe-load-balancers --page-size 1",
    "kms": "kms list-keys --limit 1",
}


def clean_env(**extra):
    # PYTHONDONTWRITEBYTECODE: a node keeps bytecode (pip compiles on install, the archive's unpacked tree
    # caches it); a run that recompiles its modules every time measures this machine, not the agent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VPCE_DOCTOR_"))
           and k.lower() not in ("https_proxy", "http_proxy", "no_proxy", "pythondontwritebytecode")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
    env.update(extra)
    return env


def run_measured(argv, env=None):
    """(wall s, user+sys s, peak RSS MB, stdout) of one child process."""
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env or clean_env())
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    wall = time.monotonic() - started
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out


def doctor(lab, timeout, extra=()):
    return netns_exec(lab.ns.node, [sys.executable, "-m", "vpce_doctor", "check", "--format", "json"]
                      + lab.doctor_args(timeout=timeout) + list(extra))


def summary(values):
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1], "n": len(values)}


def fmt(s, unit="s", digits=2):
    return "%.*f %s (min %.*f, max %.*f, n=%d)" % (digits, s["median"], unit, digits, s["min"], digits, s["max"], s["n"])


def healthy(runs):
    with Lab(HEALTHY_ALL, tag="benchok") as lab:
        assert not prove(lab), "lab self-check failed"
        for _ in range(2):  # warm the simulator (moto builds each service backend on first use)
            run_measured(doctor(lab, 3.0))
        samples = [run_measured(doctor(lab, 3.0)) for _ in range(runs)]
        report = json.loads(samples[-1][3])
        assert report["status"] == "ok", report["status"]
        footprint = api_footprint(lab)
        importtime = subprocess.run(netns_exec(lab.ns.node, [sys.executable, "-X", "importtime", "-m", "vpce_doctor",
                                                              "check", "--format", "json"] + lab.doctor_args(3.0)),
                                    capture_output=True, text=True, env=clean_env()).stderr
    tui_modules = sorted({line.split("|")[-1].strip() for line in importtime.splitlines()
                          if line.startswith("import time:") and line.split("|")[-1].strip().split(".")[0] in ("textual", "rich")})
    return {"wall": summary([s[0] for s in samples]), "cpu": summary([s[1] for s in samples]),
            "rss": summary([s[2] for s in samples]), "services": len(report["services"]), "tui_modules": tui_modules,
            "internal_ms": report["duration_ms"], "report": report, "footprint": footprint}


def api_footprint(lab):
    """What reaches the lab's AWS: one plain run, then timer mode's first (full) and second
    (carried) runs. README's fleet request rates come from these counts."""
    def sent(extra):
        before = len(lab.requests())
        run_measured(doctor(lab, 3.0, extra))
        return lab.requests()[before:]

    state = tempfile.mkdtemp(prefix="vpce-doctor-bench-state-")
    try:
        plain = sent([])
        full = sent(["--state-dir", state])
        carried = sent(["--state-dir", state])
    finally:
        shutil.rmtree(state, ignore_errors=True)
    # totals only: the lab backend's log names each request's service after the fact, which races
    # under concurrent requests; tests/integration/test_api_footprint.py counts per service and action
    return {"plain": len(plain), "full": len(full), "carried": len(carried)}


def isolated(runs, timeout=2.0):
    out = {}
    for name in ("nothing-at-all", "vpc-resolver-down"):
        with Lab(SCENARIOS[name], tag="benchiso") as lab:
            assert not prove(lab), "lab self-check failed"
            samples = [run_measured(doctor(lab, timeout)) for _ in range(runs)]
            report = json.loads(samples[-1][3])
        out[name] = {"wall": summary([s[0] for s in samples]), "services": len(report["services"]),
                     "status": report["status"]}
    out["chain_bound"] = 4 * timeout  # DNS + connect + handshake + API deadlines
    out["timeout"] = timeout
    return out


def manual_script(lab, timeout):
    """The way people check by hand today: a sequential loop of dig, curl and the aws CLI."""
    sc = lab.scenario
    cli = os.path.abspath(aws_cli())
    node_resolver = lab.plan.vpc_resolver_ip if sc.node_dns == "vpc" else lab.plan.corporate_resolver_ip
    lines = ["export AWS_CA_BUNDLE=%s AWS_DEFAULT_REGION=%s AWS_SHARED_CREDENTIALS_FILE=/dev/null "
             "AWS_CONFIG_FILE=/dev/null HOME=%s" % (lab.ca_path, sc.region, lab.workdir)]
    for service_id in sc.services:
        host = lab.facts["hostnames"][service_id][0]
        lines.append("dig +time=%d +tries=1 @%s %s A >/dev/null" % (timeout, lab.plan.vpc_resolver_ip, host))
        lines.append("dig +time=%d +tries=1 @%s %s A >/dev/null" % (timeout, node_resolver, host))
        lines.append("curl -s -o /dev/null --cacert %s --connect-timeout %d --max-time %d https://%s/ || true"
                     % (lab.ca_path, timeout, 2 * timeout, host))
        if service_id in MANUAL_CALLS:
            lines.append("%s %s --endpoint-url https://%s --cli-connect-timeout %d --cli-read-timeout %d "
                         ">/dev/null 2>&1 || true" % (cli, MANUAL_CALLS[service_id], host, timeout, timeout))
    return "\n".join(lines) + "\n"


def side_by_side(runs, timeout=2):
    out = {}
    for name in ("healthy", "private-dns-off", "nothing-at-all"):
        with Lab(SCENARIOS[name], tag="benchman") as lab:
            assert not prove(lab), "lab self-check failed"
            script = os.path.join(lab.workdir, "by-hand.sh")
            with open(script, "w") as handle:
                handle.write(manual_script(lab, timeout))
            run_measured(doctor(lab, float(timeout)))  # warm the simulator for both
            manual = run_measured(netns_exec(lab.ns.node, ["bash", script]))[0]
            tool = summary([run_measured(doctor(lab, float(timeout)))[0] for _ in range(runs)])
        out[name] = {"manual": manual, "tool": tool, "ratio": manual / tool["median"]}
    return out


def startup(runs):
    binary = os.path.join(os.path.dirname(sys.executable), "vpce-doctor")
    version = summary([run_measured([binary, "--version"])[0] for _ in range(runs)])
    bare = summary([run_measured([sys.executable, "-c", "pass"])[0] for _ in range(runs)])
    check_path = summary([run_measured([sys.executable, "-c", "import vpce_doctor.cli, vpce_doctor.agent.runner, "
                                        "vpce_doctor.checks.probes.aws_call, vpce_doctor.checks.probes.dns, "
                                        "vpce_doctor.checks.probes.tls"])[0] for _ in range(runs)])
    return {"version": version, "bare_python": bare, "check_imports": check_path}


def netem_available():
    probe = subprocess.run(["ip", "netns", "add", "vdbench-netem"], capture_output=True)
    try:
        done = subprocess.run(["ip", "netns", "exec", "vdbench-netem", "tc", "qdisc", "add", "dev", "lo", "root",
                               "netem", "delay", "1ms"], capture_output=True, text=True)
        return done.returncode == 0, done.stderr.strip()
    finally:
        if probe.returncode == 0:
            subprocess.run(["ip", "netns", "del", "vdbench-netem"], capture_output=True)


def chain_rtts(tls_version):
    """Round trips of the longest chain the evidence needs on a healthy node: IMDS token and
    identity (2), one DNS round (1), TCP (1) + TLS (1 for TLS 1.3, 2 for 1.2), one HTTP exchange (1)."""
    return 2 + 1 + 1 + (1 if tls_version == "TLSv1.3" else 2) + 1


def latency(runs, rtts=(0.020, 0.100)):
    """Round-trip time added between node and VPC: tc netem where the kernel has it, else the
    lab's userspace relay (lab/delay_relay.py), which holds every frame the same way.
    floor = the same run without added latency (interpreter start, imports and the local work
    included) + the longest evidence chain's round trips at that RTT."""
    use_netem, why = netem_available()
    out = {"method": "tc netem" if use_netem else "userspace L2 relay (no sch_netem: %s)" % why, "rows": []}
    with Lab(SCENARIOS["healthy"], tag="benchlat", one_way_delay=None if use_netem else 0.0) as lab:
        assert not prove(lab), "lab self-check failed"
        for _ in range(2):
            run_measured(doctor(lab, 3.0))
        samples = [run_measured(doctor(lab, 3.0)) for _ in range(runs)]
        base = summary([s[0] for s in samples])
        report = json.loads(samples[-1][3])
        versions = {t.get("tls_version") for s in report["services"] for t in s["probes"]["tls"] if t.get("ok")}
        tls_version = "TLSv1.2" if "TLSv1.2" in versions else (versions.pop() if versions else None)
        out["tls_version"], out["chain"] = tls_version, chain_rtts(tls_version)
        for rtt in rtts:
            if use_netem:
                half = "%dms" % int(rtt * 1000 / 2)
                for ns, link in ((lab.ns.node, lab.ns.links["node"]), (lab.ns.vpc, lab.ns.links["vpc_node"])):
                    subprocess.run(netns_exec(ns, ["tc", "qdisc", "replace", "dev", link, "root", "netem", "delay",
                                                   half]), check=True)
            else:
                lab.set_delay(rtt / 2)
            dig = lab.in_node(["dig", "+time=2", "+tries=1", "@" + lab.plan.vpc_resolver_ip, lab.facts["known_names"][0]])
            seen = re.search(r"Query time: (\d+) msec", dig.stdout)
            wall = summary([run_measured(doctor(lab, 3.0))[0] for _ in range(runs)])
            floor = base["median"] + out["chain"] * rtt
            out["rows"].append({"rtt": rtt, "dig_ms": int(seen.group(1)) if seen else None, "wall": wall,
                                "floor": floor, "ratio": wall["median"] / floor,
                                "rtts_spent": (wall["median"] - base["median"]) / rtt})
    out["base"] = base
    return out


def interpreters():
    """(label, path) of python3.9 and python3.12 from pyenv, where present."""
    found = []
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which("pyenv") else ""
    versions = sorted(os.listdir(os.path.join(root, "versions"))) if root and os.path.isdir(os.path.join(root, "versions")) else []
    for minor in ("3.9", "3.12"):
        match = [v for v in versions if v.startswith(minor + ".")]
        path = os.path.join(root, "versions", match[-1], "bin", "python" + minor) if match else shutil.which("python" + minor)
        if path and os.path.exists(path):
            found.append((minor, path))
    return found


def archive(runs):
    """The single-file archive's first run on a fresh node (an empty PEX_ROOT: it unpacks) and
    the runs after it (the unpacked tree is reused), per interpreter."""
    if not os.path.exists(PEX):
        return {"missing": PEX}
    out = {"size_mb": os.path.getsize(PEX) / 1e6, "rows": []}
    for minor, python in interpreters():
        first, later = [], []
        for _ in range(3):
            root = tempfile.mkdtemp(prefix="vpce-doctor-bench-pexroot-")
            try:
                env = clean_env(PEX_ROOT=root)
                first.append(run_measured([python, PEX, "--version"], env)[0])
                later += [run_measured([python, PEX, "--version"], env)[0] for _ in range(max(1, runs // 3))]
            finally:
                shutil.rmtree(root, ignore_errors=True)
        out["rows"].append({"python": minor, "first": summary(first), "later": summary(later)})
    return out


def fleet_reports(report, count, directory):
    """`count` reports shaped like the lab's: a sixth of them with sts failing in AZ c."""
    failing = json.loads(json.dumps(report))
    for service in failing["services"]:
        if service["id"] == "sts":
            service["status"] = "critical"
            service["findings"] = [{"code": "port_blocked", "severity": "critical", "service": "sts",
                                    "message": "bench", "remediation": {"text": "", "commands": []}, "evidence": []}]
    failing["status"] = "critical"
    texts = {}
    for index in range(count):
        az = "abc"[index % 3]
        base = failing if az == "c" and index % 2 else report
        base["node"].update(instance_id="i-%08d" % index, availability_zone="us-east-1" + az, subnet_id="subnet-" + az)
        texts = json.dumps(base, indent=2)  # how the agent writes last.json
        with open(os.path.join(directory, "node-%05d.json" % index), "w") as handle:
            handle.write(texts)


def fleet(report, runs):
    """`vpce-doctor fleet DIR` over 2,000 and 10,000 reports: wall and peak RSS."""
    out = {}
    binary = os.path.join(os.path.dirname(sys.executable), "vpce-doctor")
    for count in (2000, 10000):
        directory = tempfile.mkdtemp(prefix="vpce-doctor-bench-fleet-")
        try:
            fleet_reports(report, count, directory)
            size = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory))
            samples = [run_measured([binary, "fleet", directory]) for _ in range(max(3, runs // 2))]
            assert ("%d node(s)" % count).encode() in samples[-1][3]
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        out[count] = {"wall": summary([s[0] for s in samples]), "rss": summary([s[2] for s in samples]),
                      "mb": size / 1e6}
    return out


def machine():
    with open("/proc/meminfo") as handle:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
    return "%d cores, %.0f GiB, Python %s, Linux %s" % (os.cpu_count(), mem_kb / 1048576.0, platform.python_version(),
                                                        platform.release())


def revision():
    """The commit measured, and whether the tree had changes on top of it."""
    def git(*args):
        done = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "outside a git checkout"
    return "commit %s (%s)" % (commit, "with local changes" if git("status", "--porcelain", "--untracked-files=no")
                                else "clean tree")


def met(ok):
    return "met" if ok else "**missed**"


def kept_sections(old_text: str) -> str:
    """What a person wrote below the measured table ("## ..." sections: one-off measurements with
    their method), kept across runs; "## Preflight" is not, bench/preflight.py appends it anew."""
    parts = re.split(r"(?m)^(?=## )", old_text)[1:]
    kept = [part.rstrip("\n") + "\n" for part in parts if not part.startswith("## Preflight")]
    return ("\n" + "\n".join(kept)) if kept else ""


def write(path, results):
    h, iso, man, st, lat, pex, fl = (results[k] for k in ("healthy", "isolated", "manual", "startup", "latency",
                                                          "archive", "fleet"))
    lines = ["# vpce-doctor benchmarks", "",
             "Measured %s on %s, at %s, against the lab (network namespaces; unbound, dnsmasq, nginx, moto), by "
             "`make bench`. Wall times are of the whole `vpce-doctor check --format json` process in the node "
             "namespace, start-up included. Medians with min/max. The machine is shared (other jobs were running "
             "on its cores during this run): the spread is the noise." %
             (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(), revision()), "",
             "| figure | measured | target | |", "|---|---|---|---|"]
    lines.append("| 1. healthy, %d services: wall | %s | <= %.1f s | %s |" % (
        h["services"], fmt(h["wall"]), TARGETS["healthy_wall"], met(h["wall"]["median"] <= TARGETS["healthy_wall"])))
    lines.append("| 1. healthy: user+sys CPU | %s | <= %.1f s | %s |" % (
        fmt(h["cpu"]), TARGETS["healthy_cpu"], met(h["cpu"]["median"] <= TARGETS["healthy_cpu"])))
    lines.append("| 1. healthy: peak RSS | %s | <= %.0f MB | %s |" % (
        fmt(h["rss"], "MB", 1), TARGETS["healthy_rss_mb"], met(h["rss"]["max"] <= TARGETS["healthy_rss_mb"])))
    for name in ("nothing-at-all", "vpc-resolver-down"):
        over = iso[name]["wall"]["median"] - iso["timeout"]
        lines.append("| 1. everything blackholed (%s, %d services, `--timeout %g`) | %s = %.2f s over the timeout | "
                     "<= %.1f s over | %s |" % (name, iso[name]["services"], iso["timeout"], fmt(iso[name]["wall"]),
                                                over, TARGETS["isolated_over"], met(over <= TARGETS["isolated_over"])))
    for row in lat["rows"]:
        target = TARGETS["floor_ratio"][row["rtt"]]
        lines.append("| 1. healthy + %.0f ms RTT (dig saw %s ms) | %s = **%.2fx floor** (floor %.2f s = %.2f s run "
                     "without latency + %d RTT; %.1f RTT spent) | <= %.1fx floor | %s |" % (
                         row["rtt"] * 1000, row["dig_ms"], fmt(row["wall"]), row["ratio"], row["floor"],
                         lat["base"]["median"], lat["chain"], row["rtts_spent"], target, met(row["ratio"] <= target)))
    if "missing" in pex:
        lines.append("| 2. archive first run | not measured: %s not built | <= 1.5 s | **missed** |" % pex["missing"])
    for row in pex.get("rows", []):
        lines.append("| 2. archive (%.0f MB) on python%s: first run (fresh PEX_ROOT) | %s | <= %.1f s | %s |" % (
            pex["size_mb"], row["python"], fmt(row["first"]), TARGETS["pex_first"],
            met(row["first"]["median"] <= TARGETS["pex_first"])))
        lines.append("| 2. archive on python%s: later runs | %s | none (context) | |" % (row["python"], fmt(row["later"])))
    fp = h["footprint"]
    lines.append("| 3. requests reaching AWS per run (%d services) | plain run %d (one signed call per service + "
                 "the inventory's reads); timer mode: first run %d, next run within `--api-interval` %d | signed calls and "
                 "inventory at most hourly per node | %s |" % (
                     h["services"], fp["plain"], fp["full"], fp["carried"], met(fp["carried"] == 0)))
    for count, row in sorted(fl.items()):
        target = TARGETS["fleet_10k"] if count == 10000 else None
        lines.append("| 3. `fleet` over %d reports (%.0f MB) | %s, peak RSS %s | %s | %s |" % (
            count, row["mb"], fmt(row["wall"]), fmt(row["rss"], "MB", 0), "< %.0f s" % target if target else "none (context)",
            met(row["wall"]["median"] < target) if target else ""))
    for name, row in man.items():
        lines.append("| by hand vs vpce-doctor (%s) | sequential dig+curl+aws CLI loop %.1f s; vpce-doctor %s: "
                     "**%.0fx** faster | >= 20x | %s |" % (name, row["manual"], fmt(row["tool"]), row["ratio"],
                                                           met(row["ratio"] >= TARGETS["speedup"])))
    lines.append("| `vpce-doctor --version` | %s | <= 0.15 s | %s |" % (
        fmt(st["version"], digits=3), met(st["version"]["median"] <= TARGETS["version"])))
    lines.append("| import of the check path | %s (bare `python -c pass`: %s) | none (context) | |" % (
        fmt(st["check_imports"], digits=3), fmt(st["bare_python"], digits=3)))
    lines.append("| `check` imports textual or rich | %s | never | %s |" % (
        ", ".join(h["tui_modules"]) or "none (checked with `python -X importtime`)", met(not h["tui_modules"])))
    lines += ["", "Notes:",
              "- Floor (figure 1, latency rows): the same lab run with no added latency (interpreter start, imports, "
              "the simulator's own work) plus the round trips of the longest chain the evidence needs: IMDS token "
              "and identity (2), one DNS round (1), TCP + TLS (%d: the lab's nginx negotiates %s), one HTTP exchange "
              "(1) = %d RTT. The delay was added with %s, on the node-VPC link both ways, IMDS included." % (
                  lat["chain"] - 4, lat["tls_version"], lat["chain"], lat["method"]),
              "- What stands between the run and the floor (read from a traced run at 100 ms): the TCP connect to "
              "IMDS (+1 RTT; `check` starts it before its imports, so it overlaps them); the simulator answering the "
              "burst of signed calls and inventory reads that arrive together (moto behind nginx: ~0.15-0.2 s of its "
              "CPU, which at no latency overlaps the agent's own work); and DescribeVpcEndpoints' 18 KB answer, "
              "larger than nginx's restart window after the connection sat idle waiting on moto (+1 RTT, Linux's "
              "slow start after idle).",
              "- Everything blackholed: %d services, DNS answers public addresses (nothing-at-all) or the VPC resolver "
              "drops queries (vpc-resolver-down); each probe waits its own `--timeout` side by side." % iso[
                  "nothing-at-all"]["services"],
              "- Archive: `%s --version` with PEX_ROOT in a fresh temporary directory (first) and reused (later), the "
              "archive built by `make package` for x86_64 and aarch64 (packaging/build_archive.py: the first run unpacks "
              "the check path and psutil, ~480 files; pex's runtime unpacked ~2,000 and built a virtualenv)." % (
                  os.path.relpath(PEX, ROOT)),
              "- Every process runs without PYTHONDONTWRITEBYTECODE (this machine's shells set it): a node keeps "
              "bytecode, and with it set each run recompiled ~30 of the agent's modules (~50 ms of CPU).",
              "- Requests per run are counted in the lab's request log (every request that reaches simulated AWS). "
              "README, \"Fleet footprint\", turns them into request rates for 100, 1,000 and 10,000 nodes.",
              "- Fleet: reports shaped like the lab's (indent=2, as the agent writes them), a sixth failing sts in "
              "AZ c; `vpce-doctor fleet DIR` (text), whole process.",
              "- The by-hand loop uses the same per-step limits (`dig +time`, `curl --connect-timeout`, "
              "`aws --cli-connect-timeout/--cli-read-timeout`) and the same simulated AWS; its cost is per service.",
              "- The lab's AWS is moto behind nginx; it answers DescribeVpcEndpointServices from a start-up cache "
              "(moto rebuilds ~400 entries per call), and two warm-up runs precede the healthy samples."]
    try:
        with open(path) as handle:
            kept = kept_sections(handle.read())
    except OSError:
        kept = ""
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n" + kept)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("bench: the lab needs root\n")
        return 3
    results = {}
    for name, step in (("startup", lambda: startup(max(args.runs, 10))), ("healthy", lambda: healthy(args.runs)),
                       ("isolated", lambda: isolated(max(3, args.runs // 2))),
                       ("manual", lambda: side_by_side(max(3, args.runs // 2))), ("latency", lambda: latency(args.runs)),
                       ("archive", lambda: archive(args.runs)),
                       ("fleet", lambda: fleet(results["healthy"]["report"], args.runs))):
        started = time.monotonic()
        results[name] = step()
        sys.stderr.write("bench: %s done in %.0f s\n" % (name, time.monotonic() - started))
    write(args.output, results)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "preflight.py"), "--append", args.output], check=True)
    with open(args.output) as handle:
        sys.stdout.write(handle.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
