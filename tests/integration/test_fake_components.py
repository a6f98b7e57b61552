"""The simulated components (processes the scan takes for karpenter, kubelet...) never outlive the
run that started them: the scan sees every process on the machine, so a fake left behind by a
killed test run would show up as a component in every later run's report."""
import os
import signal
import subprocess
import sys
import time

from vpce_doctor.demo.components_side import FakesOnThisMachine

from ..conftest import ROOT, clean_env

START_AND_LEAVE = ("import sys, time; from vpce_doctor.demo.components_side import start_fake_component; "
                   "from vpce_doctor.demo.scenarios import FakeProcess; "
                   "print(start_fake_component(FakeProcess(('karpenter', '--cluster-name=c'))).pid, flush=True); "
                   "sys.stdin.read()")  # then exits without stopping its fake, like a killed test run


def _running(pid):
    """True while pid is a live (not zombie) process whose argv[0] is our fake's."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv0 = handle.read().split(b"\0")[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and argv0 == b"karpenter"


def test_a_fake_component_ends_soon_after_its_starter_dies():
    with FakesOnThisMachine():  # a scan elsewhere must not meet this fake
        _fake_left_by_its_starter_ends()


def _fake_left_by_its_starter_ends():
    starter = subprocess.Popen([sys.executable, "-c", START_AND_LEAVE], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=clean_env(), cwd=ROOT)
    pid = None
    try:
        pid = int(starter.stdout.readline().strip())
        time.sleep(1.5)  # a fake checks on its starter every second: it must still be up
        assert _running(pid), "the fake did not stay up while its starter lived"
        starter.communicate(input="", timeout=30)  # the starter exits
        waited = time.monotonic()
        while _running(pid) and time.monotonic() - waited < 5:
            time.sleep(0.1)
        assert not _running(pid), "the fake outlived its starter by 5 s"
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        if pid is not None and _running(pid):
            os.kill(pid, signal.SIGKILL)  # our own fake, checked by its argv[0] just above
