"""Timer mode: last.json, bounded history, journal lines for what appeared and cleared."""
import json

import pytest

from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

pytestmark = pytest.mark.integration


def timed_run(name, state, prom, dns_backend):
    with World(SCENARIOS[name], dns_backend=dns_backend) as world:
        return run_cli(["check", "--state-dir", str(state), "--prometheus-dir", str(prom), "--history", "2",
                        *world.cli_args(timeout=SCENARIO_TIMEOUT)])


def test_journal_says_what_changed_and_history_is_bounded(tmp_path, dns_backend, report_validator):
    state, prom = tmp_path / "state", tmp_path / "prom"
    prom.mkdir()
    first = timed_run("healthy", state, prom, dns_backend)
    assert first.returncode == 0
    assert first.stdout.splitlines() == [first.stdout.splitlines()[0]]  # one summary line, nothing changed
    assert first.stdout.startswith("<6>vpce-doctor: ok: 0 critical, 0 warning across 12 services")

    second = timed_run("private-dns-off", state, prom, dns_backend)
    lines = second.stdout.splitlines()
    assert second.returncode == 2 and lines[0].startswith("<3>vpce-doctor: critical: 2 critical")
    assert sorted(l.split(":")[0] + ":" + l.split(":")[1] for l in lines[1:]) == [
        "<3>finding appeared: private_dns_disabled (ecr.api)", "<3>finding appeared: private_dns_disabled (ecr.dkr)"]

    third = timed_run("private-dns-off", state, prom, dns_backend)
    assert len(third.stdout.splitlines()) == 1  # the same alarm is not repeated

    fourth = timed_run("healthy", state, prom, dns_backend)
    assert sorted(fourth.stdout.splitlines()[1:]) == ["<5>finding cleared: private_dns_disabled (ecr.api)",
                                                      "<5>finding cleared: private_dns_disabled (ecr.dkr)"]
    last = json.loads((state / "last.json").read_text())
    report_validator(last)
    assert last["status"] == "ok"
    assert len(list((state / "history").iterdir())) == 2
    assert "vpce_doctor_status 0" in (prom / "vpce_doctor.prom").read_text().splitlines()
    assert [p.name for p in state.iterdir() if p.name.startswith(".")] == []  # no temp file left
