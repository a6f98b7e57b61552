"""Preflight speed: a VPC with 20 endpoints and 3 node subnets in moto (server mode, loopback),
`vpce-doctor preflight --all` over all three, as a whole process (start-up included).

    python bench/preflight.py [--runs N] [--append BENCHMARKS.md]

Needs no root (moto on loopback); `make bench` calls it after the lab figures.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from vpce_doctor.demo.aws_side import SimulatedAws  # noqa: E402
from vpce_doctor.demo.scenarios import SCENARIOS  # noqa: E402

TARGET_S = 2.0
ENDPOINTS = 20
# interface endpoints beyond the catalogue's, so the VPC holds 20 (as a real EKS VPC with add-ons may)
EXTRA_SERVICES = ("sqs", "sns", "secretsmanager", "autoscaling", "monitoring", "xray", "elasticfilesystem",
                  "ebs", "events", "ssm-contacts")


def build():
    sim = SimulatedAws(SCENARIOS["healthy"]).start()
    ec2 = sim._client("ec2")
    existing = len(ec2.describe_vpc_endpoints()["VpcEndpoints"])
    groups = [g["GroupId"] for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [sim.vpc_id]}, {"Name": "group-name", "Values": ["vpce-https"]}])
        ["SecurityGroups"]]
    for service in EXTRA_SERVICES[:max(0, ENDPOINTS - existing)]:
        ec2.create_vpc_endpoint(VpcId=sim.vpc_id, VpcEndpointType="Interface", PrivateDnsEnabled=True,
                                ServiceName="com.amazonaws.%s.%s" % (sim.region, service),
                                SubnetIds=[sim.subnet_ids[a] for a in ("a", "b", "c")], SecurityGroupIds=groups)
    count = len(ec2.describe_vpc_endpoints()["VpcEndpoints"])
    return sim, count


def measure(runs: int):
    sim, count = build()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL="http://%s:%d" % sim.moto_address, AWS_ACCESS_KEY_ID="bench",
                   AWS_SECRET_ACCESS_KEY="bench", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        argv = [sys.executable, "-m", "vpce_doctor", "preflight", "--region", sim.region, "--all", "--format", "json"]
        for letter in ("a", "b", "c"):
            argv += ["--subnet", sim.subnet_ids[letter]]
        walls, inner, findings = [], [], None
        for _ in range(runs + 1):  # the first run warms moto's lazily built backends
            started = time.monotonic()
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
            walls.append(time.monotonic() - started)
            report = json.loads(done.stdout)
            inner.append(report["duration_ms"] / 1000.0)
            findings = [f["code"] for f in report["findings"]]
        return {"endpoints": count, "subnets": 3, "services": len(report["services"]), "wall": walls[1:],
                "in_process": inner[1:], "findings": findings, "calls": len(report["checks"])}
    finally:
        sim.stop()


def row(result) -> str:
    wall = result["wall"]
    median = statistics.median(wall)
    return ("| 6. preflight, %d endpoints, %d subnets, %d services (moto on loopback): wall | %.2f s (min %.2f, max %.2f, "
            "n=%d); %d read-only calls; the run itself (report duration_ms) %.2f s, the rest is start-up | <= %.1f s | %s |" % (
                result["endpoints"], result["subnets"], result["services"], median, min(wall), max(wall), len(wall),
                result["calls"], statistics.median(result["in_process"]), TARGET_S,
                "met" if median <= TARGET_S else "**missed**"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--append", metavar="BENCHMARKS.md", help="add the figure to this file")
    args = parser.parse_args()
    result = measure(args.runs)
    line = row(result)
    if args.append:
        with open(args.append, "a") as handle:
            handle.write("\n## Preflight\n\n| figure | measured | target | |\n|---|---|---|---|\n%s\n\n"
                         "The whole `vpce-doctor preflight` process (start-up, botocore client creation, three rounds "
                         "of concurrent calls, judging, JSON) against moto in server mode; findings: %s.\n"
                         % (line, ", ".join(sorted(set(result["findings"]))) or "none"))
    sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
