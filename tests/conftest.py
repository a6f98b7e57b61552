import json
import os
import shutil
import signal
import subprocess
import sys
from importlib import resources

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --timeout of a scenario's run: 2 s, not the 1 s that keeps a failing probe quick. A run opens two or
# three TLS handshakes per service at once and sends its signed calls together, to simulated endpoints
# and moto sharing one Python process (the test's, or the lab's backend); on a busy 2-core CI machine
# the last of them took over 1 s now and then, and the run rightly said `unknown`. These tests check
# findings; time has its own benchmark (`make bench`).
SCENARIO_TIMEOUT = 2.0


# make test stops the passes it runs in the background with SIGTERM when it is interrupted (and a CI
# runner may signal the whole process group as well): the first one is taken as Ctrl-C, so fixtures and
# labs tear down (servers, namespaces) rather than wait for the next run's sweep; later ones must not cut
# that teardown short.
def _terminate_as_interrupt(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _terminate_as_interrupt)


def clean_env(**extra):
    """The environment a node's root shell would have: no developer AWS credentials or
    profiles, no proxies, no vpce-doctor settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "VPCE_DOCTOR_")) and k.lower() not in ("https_proxy", "http_proxy", "no_proxy")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_cli(args, env=None, timeout=60, python_flags=()):
    # stdin from /dev/null, as in CI: a pytest-xdist worker's own stdin is its channel to the controller
    return subprocess.run([sys.executable, *python_flags, "-m", "vpce_doctor", *args], capture_output=True,
                          text=True, env=env or clean_env(), timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def report_validator():
    import jsonschema

    schema = json.loads(resources.files("vpce_doctor").joinpath("schema/report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    def validate(report):
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
        assert not errors, "report does not match its schema: %s at %s" % (errors[0].message, list(errors[0].path))

    return validate


@pytest.fixture(scope="session")
def dns_backend():
    """Integration tests use real dnsmasq; `make test` installs it. Missing is a failure, not a skip."""
    if not (shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq")):
        pytest.fail("dnsmasq is not installed: run `make test`, which installs it (Debian package dnsmasq-base)")
    return "dnsmasq"


# Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`), tests that read one session-wide run
# (the packaging textfiles of four scenarios) go to one worker, which makes it once, instead of every
# worker making it again. Modules whose last test reads what the earlier ones gathered mark themselves
# with xdist_group too. (preflight_runs shares its runs between workers: tests/preflight/conftest.py.)
SHARED_SESSION_RUNS = ("real_runs",)


# make test runs the lab in a pass of its own; when a subset (PYTEST_ARGS) brings lab tests onto the
# workers, they keep to one worker and start first: labs side by side on a loaded 2-core machine slowed
# a healthy lab's probes past their --timeout (its run said `unknown`), and one lab at a time holds the
# machine-wide lab lock anyway. Started first, the lab's one worker ends near the other's.
LAB_TESTS = "tests/lab/"


def pytest_collection_modifyitems(config, items):
    for item in items:
        shared = [name for name in SHARED_SESSION_RUNS if name in getattr(item, "fixturenames", ())]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
        if item.nodeid.startswith(LAB_TESTS):
            item.add_marker(pytest.mark.xdist_group("lab"))
    items.sort(key=lambda item: not item.nodeid.startswith(LAB_TESTS))  # stable: the rest keep their order
