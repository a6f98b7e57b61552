"""The machine-wide locks (the fake components', the lab's): one holder per machine (another process
waits, then gives up with a reason), re-entered freely within a process, each lock its own. Tried on
locks of the same class at the test's own paths: the real ones may be held by a suite running beside."""
import subprocess
import sys
import threading

from vpce_doctor.demo.components_side import FakesOnThisMachine
from vpce_doctor.lab.lab import LabsOnThisMachine

TRY_FROM_ANOTHER_PROCESS = """
import sys
from vpce_doctor.demo.components_side import FakesOnThisMachine
class Lock(FakesOnThisMachine):
    path, what = sys.argv[1], "the test's lock"
lock = Lock(wait=0.3)
try:
    lock.acquire()
except TimeoutError as exc:
    print("waited:", exc)
else:
    print("got it")
    lock.release()
"""


def other_process(path):
    return subprocess.run([sys.executable, "-c", TRY_FROM_ANOTHER_PROCESS, str(path)], capture_output=True,
                          text=True, timeout=30).stdout


def lock_at(path):
    return type("Lock", (FakesOnThisMachine,), {"path": str(path), "what": "the test's lock", "_held": 0,
                                                "_handle": None, "_guard": threading.Lock()})


def test_one_holder_per_machine_reentrant_and_each_lock_its_own(tmp_path):
    first, second = lock_at(tmp_path / "one.lock"), lock_at(tmp_path / "two.lock")
    with first():
        with first():  # re-entered in this process
            pass
        assert other_process(tmp_path / "one.lock").startswith("waited: another simulated node kept the test's lock")
        assert other_process(tmp_path / "two.lock").startswith("got it")
        with second():
            assert other_process(tmp_path / "two.lock").startswith("waited:")
    assert other_process(tmp_path / "one.lock").startswith("got it")


def test_the_lab_and_the_fakes_are_two_locks():
    assert LabsOnThisMachine.path != FakesOnThisMachine.path
    assert LabsOnThisMachine._guard is not FakesOnThisMachine._guard
