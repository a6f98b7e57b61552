"""Every scenario's VPC built in moto (server mode), preflight run on it through the real
command line, with every AWS request recorded by a loopback proxy in front of moto."""
import fcntl
import json
import os
from collections.abc import Mapping

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


class PreflightRuns(Mapping):
    """name -> (json report, exit code, stderr, requests, subnet a's id): each scenario run once for the
    whole session, when a test first asks for it. The runs are kept as files in a directory the
    pytest-xdist workers share, each made under its own lock, so the workers split them instead of
    each making all of them (~100 s)."""

    def __init__(self, directory):
        self.directory = directory

    def __getitem__(self, name):
        if name not in ALL:
            raise KeyError(name)
        path = self.directory / ("%s.json" % name)
        with open(str(self.directory / ("%s.lock" % name)), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the holder's run is bounded (run_cli's timeout)
            if not path.exists():
                with Moto(ALL[name]) as moto:
                    done = moto.preflight("--format", "json")
                    report = json.loads(done.stdout) if done.stdout.strip() else None
                    run = dict(report=report, code=done.returncode, stderr=done.stderr,
                               requests=list(moto.proxy.requests), subnet=moto.aws.subnet_ids["a"])
                partial = path.with_suffix(".partial")
                partial.write_text(json.dumps(run))
                partial.replace(path)
        run = json.loads(path.read_text())
        return run["report"], run["code"], run["stderr"], [tuple(r) for r in run["requests"]], run["subnet"]

    def __iter__(self):
        return iter(sorted(ALL))

    def __len__(self):
        return len(ALL)


@pytest.fixture(scope="session")
def preflight_runs(tmp_path_factory):
    # under xdist every worker's base temp sits in one directory of the session
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "preflight-runs"
    shared.mkdir(exist_ok=True)
    return PreflightRuns(shared)
