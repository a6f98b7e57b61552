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
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from vpce_doctor.demo.scenarios import SCENARIOS  # noqa: E402
from vpce_doctor.lab.lab import Lab  # noqa: E402
from vpce_doctor.lab.netns import netns_exec  # noqa: E402
from vpce_doctor.lab.selfcheck import aws_cli, prove  # noqa: E402

TARGETS = {"healthy_wall": 1.0, "healthy_cpu": 1.0, "healthy_rss_mb": 120.0, "isolated_ratio": 1.5,
           "speedup": 20.0, "version": 0.15}
# the read-only call a person makes by hand for each service (aws CLI v1 syntax)
MANUAL_CALLS = {
    "ec2": "ec2 describe-availability-zones", "ecr.api": "ecr get-authorization-token",
    "sts": "sts get-caller-identity", "logs": "logs describe-log-groups --limit 1",
    "ssm": "ssm describe-parameters --max-results 1", "elasticloadbalancing": "elbv2 describe-load-balancers --page-size 1",
    "kms": "kms list-keys --limit 1",
}


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VPCE_DOCTOR_"))
           and k.lower() not in ("https_proxy", "http_proxy", "no_proxy")}
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
    with Lab(SCENARIOS["healthy"], tag="benchok") as lab:
        assert not prove(lab), "lab self-check failed"
        for _ in range(2):  # warm the simulator (moto builds each service backend on first use)
            run_measured(doctor(lab, 3.0))
        samples = [run_measured(doctor(lab, 3.0)) for _ in range(runs)]
        report = json.loads(samples[-1][3])
        assert report["status"] == "ok", report["status"]
        importtime = subprocess.run(netns_exec(lab.ns.node, [sys.executable, "-X", "importtime", "-m", "vpce_doctor",
                                                              "check", "--format", "json"] + lab.doctor_args(3.0)),
                                    capture_output=True, text=True, env=clean_env()).stderr
    tui_modules = sorted({line.split("|")[-1].strip() for line in importtime.splitlines()
                          if line.startswith("import time:") and line.split("|")[-1].strip().split(".")[0] in ("textual", "rich")})
    return {"wall": summary([s[0] for s in samples]), "cpu": summary([s[1] for s in samples]),
            "rss": summary([s[2] for s in samples]), "services": len(report["services"]), "tui_modules": tui_modules,
            "internal_ms": report["duration_ms"]}


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
    check_path = summary([run_measured([sys.executable, "-c", "import vpce_doctor.agent.cli, vpce_doctor.agent.runner, "
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


def latency(runs, rtts=(0.020, 0.100)):
    """Round-trip time added between node and VPC: tc netem where the kernel has it, else the
    lab's userspace relay (lab/delay_relay.py), which holds every frame the same way."""
    use_netem, why = netem_available()
    out = {"method": "tc netem" if use_netem else "userspace L2 relay (no sch_netem: %s)" % why, "rows": []}
    with Lab(SCENARIOS["healthy"], tag="benchlat", one_way_delay=None if use_netem else 0.0) as lab:
        assert not prove(lab), "lab self-check failed"
        for _ in range(2):
            run_measured(doctor(lab, 3.0))
        base = summary([run_measured(doctor(lab, 3.0))[0] for _ in range(runs)])
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
            out["rows"].append({"rtt": rtt, "dig_ms": int(seen.group(1)) if seen else None, "wall": wall,
                                "ideal": base["median"] + 4 * rtt, "rtts_spent": (wall["median"] - base["median"]) / rtt})
    out["base"] = base
    return out


def machine():
    with open("/proc/meminfo") as handle:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
    return "%d cores, %.0f GiB, Python %s, Linux %s" % (os.cpu_count(), mem_kb / 1048576.0, platform.python_version(),
                                                        platform.release())


def met(ok):
    return "met" if ok else "**missed**"


def write(path, results):
    h, iso, man, st, lat = (results[k] for k in ("healthy", "isolated", "manual", "startup", "latency"))
    lines = ["# vpce-doctor benchmarks", "",
             "Measured %s on %s, against the lab (network namespaces; unbound, dnsmasq, nginx, moto), by "
             "`make bench`. Wall times are of the whole `vpce-doctor check --format json` process in the node "
             "namespace, start-up included. Medians with min/max; the machine is shared and noisy." %
             (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine()), "",
             "| figure | measured | target | |", "|---|---|---|---|"]
    lines.append("| 1. healthy, %d services: wall | %s | <= %.1f s | %s |" % (
        h["services"], fmt(h["wall"]), TARGETS["healthy_wall"], met(h["wall"]["median"] <= TARGETS["healthy_wall"])))
    lines.append("| 1. healthy: user+sys CPU | %s | <= %.1f s | %s |" % (
        fmt(h["cpu"]), TARGETS["healthy_cpu"], met(h["cpu"]["median"] <= TARGETS["healthy_cpu"])))
    lines.append("| 1. healthy: peak RSS | %s | <= %.0f MB | %s |" % (
        fmt(h["rss"], "MB", 1), TARGETS["healthy_rss_mb"], met(h["rss"]["max"] <= TARGETS["healthy_rss_mb"])))
    bound = iso["chain_bound"]
    for name in ("nothing-at-all", "vpc-resolver-down"):
        ratio = iso[name]["wall"]["median"] / bound
        lines.append("| 2. isolated (%s, %d services, `--timeout %g`) | %s = %.2fx one probe chain (%.0f s) | "
                     "<= 1.5x | %s |" % (name, iso[name]["services"], iso["timeout"], fmt(iso[name]["wall"]), ratio,
                                         bound, met(ratio <= TARGETS["isolated_ratio"])))
    for row in lat["rows"]:
        lines.append("| 3. healthy + %.0f ms RTT (dig saw %s ms) | %s; %.1f RTTs over the no-latency run (%.2f s) | "
                     "ideal %.2f s (no-latency run + 4 RTT) | %.2fx ideal |" % (
                         row["rtt"] * 1000, row["dig_ms"], fmt(row["wall"]), row["rtts_spent"], lat["base"]["median"],
                         row["ideal"], row["wall"]["median"] / row["ideal"]))
    for name, row in man.items():
        lines.append("| 4. by hand vs vpce-doctor (%s) | sequential dig+curl+aws CLI loop %.1f s; vpce-doctor %s: "
                     "**%.0fx** faster | >= 20x | %s |" % (name, row["manual"], fmt(row["tool"]), row["ratio"],
                                                           met(row["ratio"] >= TARGETS["speedup"])))
    lines.append("| 5. `vpce-doctor --version` | %s | <= 0.15 s | %s |" % (
        fmt(st["version"], digits=3), met(st["version"]["median"] <= TARGETS["version"])))
    lines.append("| 5. import of the check path | %s (bare `python -c pass`: %s) | | |" % (
        fmt(st["check_imports"], digits=3), fmt(st["bare_python"], digits=3)))
    lines.append("| 5. `check` imports textual or rich | %s | never | %s |" % (
        ", ".join(h["tui_modules"]) or "none (checked with `python -X importtime`)", met(not h["tui_modules"])))
    lines += ["", "Notes:",
              "- One probe chain = DNS + TCP connect + TLS handshake + API deadlines = 4 x `--timeout`; a run that "
              "waited per service would take that times the number of services.",
              "- The by-hand loop uses the same per-step limits (`dig +time`, `curl --connect-timeout`, "
              "`aws --cli-connect-timeout/--cli-read-timeout`) and the same simulated AWS.",
              "- The by-hand loop's cost is per service (each aws CLI start, each timeout and the CLI's retries), "
              "vpce-doctor's is one chain: the ratio grows with how broken the VPC is and with real network "
              "latency, and is smallest on a healthy lab where every answer is local.",
              "- The lab's AWS is moto behind nginx; it answers DescribeVpcEndpointServices from a start-up cache "
              "(moto rebuilds ~400 entries per call), and two warm-up runs precede the healthy samples."]
    lines.append("- Figure 3's delay was added with %s, on the node-VPC link both ways. The RTTs over the ideal "
                 "are discovery's (IMDS token, then two rounds of parallel reads: 6) and the inventory's "
                 "(TCP, TLS, two calls on one connection: 4) in front of the TLS check." % lat["method"])
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


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
                       ("manual", lambda: side_by_side(max(3, args.runs // 2))), ("latency", lambda: latency(args.runs))):
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
