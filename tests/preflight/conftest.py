"""Every scenario's VPC built in moto (server mode), preflight run on it through the real
command line, with every AWS request recorded by a loopback proxy in front of moto."""
import json

import pytest

from vpce_doctor.demo.aws_config import CLUSTER_NAME
from vpce_doctor.demo.aws_side import SimulatedAws
from vpce_doctor.demo.recording_proxy import RecordingProxy
from vpce_doctor.demo.scenarios import NODE_ROLE_ARN, PREFLIGHT_SCENARIOS, SCENARIOS

from ..conftest import clean_env, run_cli

ALL = dict(SCENARIOS, **PREFLIGHT_SCENARIOS)


class Moto:
    """One scenario's AWS side: moto with the VPC, and the proxy preflight talks to."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.aws = SimulatedAws(scenario)

    def __enter__(self):
        self.aws.start()
        self.proxy = RecordingProxy(self.aws.moto_address).start()
        return self

    def __exit__(self, *exc):
        self.proxy.stop()
        self.aws.stop()

    def env(self, **extra):
        return clean_env(AWS_ENDPOINT_URL=self.proxy.url, AWS_ACCESS_KEY_ID="preflight", AWS_SECRET_ACCESS_KEY="preflight",
                         **extra)

    def args(self, *extra):
        sc = self.scenario
        args = ["preflight", "--region", sc.region, "--subnet", self.aws.subnet_ids["a"], "--services",
                ",".join(sc.services), "--node-role-arn", NODE_ROLE_ARN]
        if sc.cluster_endpoint:
            args += ["--cluster", CLUSTER_NAME]
        if sc.hub_services and sc.hub_route == "flag":  # what the operator passes the node check too (world.py)
            args += ["--endpoint-cidr", self.aws.plan.hub_cidr]
        return args + list(extra)

    def preflight(self, *extra):
        return run_cli(self.args(*extra), env=self.env())

    def preflight_args(self, args, **env):
        return run_cli(list(args), env=self.env(**env))


@pytest.fixture(scope="session")
def preflight_runs():
    """name -> (json report, exit code, stderr, requests, subnet a's id): each scenario once."""
    runs = {}
    for name, scenario in sorted(ALL.items()):
        with Moto(scenario) as moto:
            done = moto.preflight("--format", "json")
            report = json.loads(done.stdout) if done.stdout.strip() else None
            runs[name] = (report, done.returncode, done.stderr, list(moto.proxy.requests), moto.aws.subnet_ids["a"])
    return runs
