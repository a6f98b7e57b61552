"""The handle a lab keeps for a backend the warm process forked: it is not the lab's child, so it
is stopped by PID, and only while that PID still names the process it was given."""
import subprocess
import sys

import pytest

from vpce_doctor.lab.warm_backend import ForkedBackend


def test_handle_stops_the_process_it_names_and_says_when_it_is_gone():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        handle = ForkedBackend(sleeper.pid)
        assert handle.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            handle.wait(timeout=0.1)
        handle.terminate()
        sleeper.wait(timeout=10)  # reaped by its parent, as the warm process reaps its forks
        assert handle.wait(timeout=5) == 0 and handle.poll() == 0
        handle.kill()  # gone: nothing is signalled, nothing raised
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait(timeout=5)


def test_a_pid_now_naming_another_process_is_never_signalled():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        handle = ForkedBackend(sleeper.pid)
        handle._started = "1"  # as if our backend had ended and the system gave its pid to this process
        assert handle.poll() == 0
        handle.terminate()
        handle.kill()
        assert sleeper.poll() is None  # still running: not ours to stop
    finally:
        sleeper.kill()
        sleeper.wait(timeout=5)
