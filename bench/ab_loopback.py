"""A/B of the check path on the loopback simulated VPC: two source trees' agents, one after the other
against the same World (healthy-all, 20 services), alternating run by run so the machine's load falls
on both alike. Reports the median wall time and CPU (user + system) of the check process.

    .venv/bin/python bench/ab_loopback.py OLD_SRC NEW_SRC [--runs 9]

Not a pass/fail test: numbers for an issue note (the lab benchmark, `make bench`, is the full one)."""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from vpce_doctor.demo.scenarios import SCENARIOS  # noqa: E402
from vpce_doctor.demo.world import World  # noqa: E402


def one_run(src: str, args) -> tuple:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VPCE_DOCTOR_"))}
    env.update(PYTHONPATH=src, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "vpce_doctor", "check", "--format", "json", *args],
                          capture_output=True, env=env, timeout=60)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    results = {options.old: [], options.new: []}
    with World(SCENARIOS["healthy-all"], dns_backend="dnsmasq") as world:
        args = world.cli_args(timeout=2.0)
        for src in (options.old, options.new):  # warm both trees' bytecode
            one_run(src, args)
        for _ in range(options.runs):
            for src in (options.old, options.new):
                results[src].append(one_run(src, args))
    for src, runs in results.items():
        print("%-40s wall %.3f s  cpu %.3f s  exit codes %s" % (
            src, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            sorted({r[2] for r in runs})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
