"""The lab: every scenario in network namespaces with real unbound, dnsmasq and nginx,
vpce-doctor run in the node namespace with its production defaults. Root only."""
import functools
import json
import os
import subprocess
import sys

import pytest

from vpce_doctor.core.model import EXIT_CODES
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.lab.lab import Lab, LabUnavailable, require_tools
from vpce_doctor.lab.netns import PREFIX, sweep_stale
from vpce_doctor.lab.warm_backend import ForkedBackend, WarmBackends
from vpce_doctor.lab.selfcheck import prove

from ..conftest import SCENARIO_TIMEOUT, clean_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def lab_possible():
    try:
        require_tools()
    except LabUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail("the lab must run in CI: %s" % exc)
        pytest.skip("lab not possible here: %s" % exc)


def lab_namespaces():
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.startswith(PREFIX + "-%d-" % os.getpid())]


def agent_pythons():
    """The interpreters vpce-doctor runs under in each lab: LAB_AGENT_PYTHONS (make test names the 3.11
    and the 3.9 virtualenvs' pythons, so each scenario's namespaces are built once for both suites), or
    the one running the tests."""
    named = [path for path in os.environ.get("LAB_AGENT_PYTHONS", "").split(os.pathsep) if path]
    missing = [path for path in named if not os.path.exists(path)]
    assert not missing, "LAB_AGENT_PYTHONS names no interpreter at %s" % missing
    return named or [sys.executable]


@functools.lru_cache(maxsize=None)
def python_version(python):
    done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                          text=True, timeout=30)
    return done.stdout.strip() or python


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_in_the_lab(name, report_validator):
    scenario = SCENARIOS[name]
    runs = []
    with Lab(scenario) as lab:
        problems = prove(lab)
        assert not problems, "the lab does not behave as the scenario says (a lab bug):\n" + "\n".join(problems)
        for python in agent_pythons():  # one after another: the lab's probes keep their --timeout to themselves
            runs.append((python, lab.run_doctor(["--format", "json"] + lab.doctor_args(timeout=SCENARIO_TIMEOUT),
                                                env=clean_env(), python=python)))
        secrets = lab.secrets
        requests = lab.requests()
    for python, done in runs:
        on = "vpce-doctor on Python %s" % python_version(python)
        assert "Traceback" not in done.stderr, (on, done.stderr)
        report = json.loads(done.stdout)
        report_validator(report)
        assert sorted((f["code"], f["service"] or "") for f in report["findings"]) == \
            sorted((code, service or "") for code, service in scenario.expect), on
        assert report["status"] == scenario.expect_status and done.returncode == EXIT_CODES[scenario.expect_status], on
        # production defaults were used: the real VPC resolver address and the node's resolv.conf
        assert report["node"]["resolvers"]["vpc"] == "169.254.169.253", on
        assert report["node"]["resolvers"]["custom"] == (["169.254.169.253"] if scenario.node_dns == "vpc"
                                                         else ["100.64.0.53"]), on
        for secret in secrets:
            assert secret not in done.stdout and secret not in done.stderr, on
    import re
    read_only = re.compile(r"^(Describe|Get|List)[A-Z]|^GET |^POST /Get[A-Z]")
    assert all(read_only.match(action) for _, action in requests), requests


def test_ci_runs_vpce_doctor_on_the_oldest_python_in_every_lab():
    """Each lab is built once and serves both suites (make test): in CI, 3.9 (Amazon Linux 2023's python3)
    must be among the interpreters vpce-doctor runs under there."""
    if not os.environ.get("CI"):
        pytest.skip("outside CI the lab runs vpce-doctor on what LAB_AGENT_PYTHONS names, or on this Python")
    versions = [python_version(python) for python in agent_pythons()] + ["%d.%d" % sys.version_info[:2]]
    assert "3.9" in versions, "the lab runs vpce-doctor on %s only: run it through make test" % versions


def test_self_check_catches_a_lab_that_differs_from_its_scenario():
    # a cold backend (python -m vpce_doctor.lab.backend in the namespace), as labs started before the warm one
    with Lab(SCENARIOS["healthy"], warm_backend=False) as lab:
        lab.scenario = SCENARIOS["private-dns-off"]  # claim something the lab did not build
        problems = prove(lab)
    assert any("api.ecr.us-east-1.amazonaws.com: VPC resolver answered" in p for p in problems)


def test_teardown_leaves_nothing_even_when_the_test_fails():
    with pytest.raises(RuntimeError, match="boom"):
        with Lab(SCENARIOS["healthy"]) as lab:
            pids = [p.pid for p in lab.processes]
            workdir, node = lab.workdir, lab.ns.node
            assert lab_namespaces()
            raise RuntimeError("boom")
    assert lab_namespaces() == []
    assert not os.path.exists(workdir) and not os.path.exists("/etc/netns/%s" % node)
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z"


def test_sweep_removes_what_a_killed_run_left():
    stale = "%s-999999-stale-vpc" % PREFIX  # pid 999999 does not exist
    subprocess.run(["ip", "netns", "add", stale], check=True)
    sleeper = subprocess.Popen(["ip", "netns", "exec", stale, "sleep", "300"])
    try:
        assert stale in sweep_stale()
        sleeper.wait(timeout=5)  # the sweep stopped what ran inside
        assert stale not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        subprocess.run(["ip", "netns", "del", stale], capture_output=True)


def test_delay_relay_adds_the_round_trip_it_is_asked_for():
    """The bench's stand-in for tc netem, checked with dig's own timer."""
    import re

    # On a loaded 2-core machine one dig may wait seconds for a CPU: ask up to 8 times with a generous
    # dig timeout and judge the fastest of three answers. The relay can only add delay, so the lower
    # bound is strict; the upper one only says the relay does not add far more than asked.
    rtts, outputs = [], []
    with Lab(SCENARIOS["healthy"], tag="relay", one_way_delay=0.0) as lab:
        lab.set_delay(0.05)
        for _ in range(8):
            done = lab.in_node(["dig", "+time=5", "+tries=2", "@169.254.169.253", lab.facts["known_names"][0]])
            outputs.append(done.stdout)
            found = re.search(r"Query time: (\d+) msec", done.stdout)
            if found:
                rtts.append(int(found.group(1)))
            if len(rtts) == 3:
                break
    assert rtts, "dig never got an answer through the relay:\n" + "\n".join(outputs)
    assert 95 <= min(rtts) <= 600, (rtts, outputs[-1])


def test_warm_backend_process_forks_into_the_namespace_and_ends_with_its_stdin():
    """A lab's backend is forked by the warm process into the lab's vpc namespace (where nginx reaches
    it), is stopped with the lab, by PID; a warm process ends when its owner closes its stdin."""
    with Lab(SCENARIOS["healthy"], tag="warmfork") as lab:
        backend = next(p for p in lab.processes if isinstance(p, ForkedBackend))
        vpc_inode = os.stat("/var/run/netns/%s" % lab.ns.vpc).st_ino
        assert os.readlink("/proc/%d/ns/net" % backend.pid) == "net:[%d]" % vpc_inode
        assert backend.poll() is None
        with open(os.path.join(lab.workdir, "backend.log")) as log:
            assert "Traceback" not in log.read()
        pid = backend.pid
    # gone with the lab (or a zombie its parent is about to reap)
    assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] == "Z"
    assert backend.poll() == 0
    warm = WarmBackends()
    assert warm.process.poll() is None
    warm.stop()
    assert warm.process.returncode == 0
