"""End to end: the real command in a real terminal (tmux, 80x24, TERM=screen), keys sent
the way an operator on SSM types them."""
import os
import shutil
import subprocess
import sys
import time

import pytest

from ..conftest import ROOT, clean_env

pytestmark = pytest.mark.integration


def _capture(session):
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait_for(session, text, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        screen = _capture(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError("%r not on screen after %ss:\n%s" % (text, seconds, _capture(session)))


def test_operator_diagnoses_the_demo_in_tmux(tmp_path):
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed: run `make test`, which installs it")
    session = "vpce-doctor-e2e-%d" % os.getpid()
    world_tmp = tmp_path / "tmp"
    world_tmp.mkdir()
    env = clean_env(TERM="screen", NO_COLOR="1", TMPDIR=str(world_tmp))
    # TMPDIR on the command line: a tmux server that already runs would not pass on our env
    command = "cd %s && TMPDIR=%s exec %s -m vpce_doctor demo --scenario private-dns-off" % (
        tmp_path, world_tmp, sys.executable)
    subprocess.run(["tmux", "-f", os.devnull, "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command],
                   check=True, env=env, cwd=ROOT)
    try:
        screen = _wait_for(session, "CRIT")
        ecr = next(line for line in screen.splitlines() if "ecr.api" in line)
        assert "private_dns_disabled" in ecr and "pub" in ecr
        subprocess.run(["tmux", "send-keys", "-t", session, "Down", "Enter"], check=True)
        screen = _wait_for(session, "modify-vpc-endpoint")
        assert "fix: Turn on private DNS" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        _wait_for(session, "SERVICE")
        subprocess.run(["tmux", "send-keys", "-t", session, "e"], check=True)
        _wait_for(session, "report written to")
        assert len(list(tmp_path.glob("vpce-doctor-*.json"))) == 1
        pressed = time.monotonic()
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = pressed + 15
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.02)
        quit_seconds = time.monotonic() - pressed
        assert not alive, "q did not quit the TUI"
        # the simulated VPC's teardown must not keep the operator waiting (was 3.5 s; ~0.4 s idle);
        # the bound is generous for a loaded 2-core machine
        print("demo quit took %.2f s" % quit_seconds)
        assert quit_seconds < 1.5, "leaving the demo took %.2f s" % quit_seconds
        assert list(world_tmp.iterdir()) == [], "the fast exit left the World's temp dir behind"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
