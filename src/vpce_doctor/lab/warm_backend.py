"""Lab backends forked from one warm process.

A lab's backend (backend.py) started cold spent ~3 of its ~4.5 s of CPU before it served anything:
importing moto, botocore parsing its JSON models and endpoint data, moto building its region lists,
all of it the same for every lab. This process pays that once: it builds a throwaway simulated VPC
(moto on loopback, stopped again), then forks one backend per lab into that lab's vpc namespace
(setns), where the child resets moto and builds the scenario as a cold backend would.

Protocol, one JSON line each way: the lab writes {"netns": NAME, "argv": [...], "log": PATH}; this
process answers {"pid": N} once forked (the child's own failures go to its log). It exits when its stdin closes
(its owner is gone) and reaps its children as they end. A child is the lab's, stopped by the lab by
PID, and bounded like any backend (an hour at most).

    python -m vpce_doctor.lab.warm_backend
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import List, Optional

CLONE_NEWNET = 0x40000000


def _reap(*_args) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _enter_netns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join("/var/run/netns", name), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into network namespace %s" % name)
    finally:
        os.close(fd)


def _child(request) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(os.devnull)
    _enter_netns(request["netns"])
    from . import backend

    return backend.main(request["argv"])


def warm() -> None:
    """One scenario with every service, built and stopped: imports, botocore's loaders and moto's
    region lists and URL maps are then in memory for every fork. No thread may outlive it (a fork
    keeps only the forking thread, and a lock another one held would stay held in the child)."""
    import gc

    import trustme  # noqa: F401 - the backend makes its TLS material with it

    from . import backend  # noqa: F401 - what each child runs
    from ..demo.aws_side import LAB, SimulatedAws
    from ..demo.scenarios import SCENARIOS

    aws = SimulatedAws(SCENARIOS["healthy-all"], LAB)
    aws.start()
    aws.stop()
    gc.collect()  # the build's boto3 clients close their keep-alive connections, and moto's handler threads end
    deadline = time.monotonic() + 10
    while threading.active_count() > 1:
        if time.monotonic() > deadline:
            raise RuntimeError("threads outlived the warm-up: %s" % [t.name for t in threading.enumerate()])
        time.sleep(0.05)


def serve(lines, answer) -> None:
    for line in lines:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the lab's backend
            code = 1
            try:
                code = _child(request)
            except BaseException as exc:  # noqa: BLE001 - the lab reads the log; nothing may return into serve()
                sys.stderr.write("warm backend child failed: %r\n" % (exc,))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # as backend.py's own exit: nothing left worth tearing down
        answer({"pid": pid})


def main() -> int:
    warm()
    signal.signal(signal.SIGCHLD, _reap)

    def answer(message) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    answer({"ready": True})
    serve(sys.stdin, answer)
    return 0


# --- the lab's side ------------------------------------------------------------------------------
def _start_time(pid: int) -> Optional[str]:
    """The kernel's start time of pid, or None when it is gone or a zombie: with the pid, it names
    one process, so a pid the system gave to another process after ours ended is never signalled."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


class ForkedBackend:
    """A lab's backend forked by the warm process: not the lab's child, but the lab's to stop, by PID.
    Quacks like the subprocess.Popen the lab keeps for everything else it started."""

    def __init__(self, pid: int, lab_name: str = "backend"):
        self.pid, self.lab_name, self.returncode = pid, lab_name, None
        self._started = _start_time(pid)

    def poll(self) -> Optional[int]:
        if self.returncode is None and (self._started is None or _start_time(self.pid) != self._started):
            self.returncode = 0  # its exit code went to the warm process; its log says what happened
        return self.returncode

    def _signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # it ended, and was reaped, since poll() looked
                self.returncode = 0

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: Optional[float] = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("backend %d" % self.pid, timeout)
            time.sleep(0.02)
        return self.returncode


class WarmBackends:
    """The one warm process of this test run (or bench), started by the first lab that asks."""

    START_SECONDS, FORK_SECONDS = 120.0, 30.0
    _shared: Optional["WarmBackends"] = None
    _guard = threading.Lock()

    @classmethod
    def shared(cls) -> "WarmBackends":
        with cls._guard:
            if cls._shared is None or cls._shared.process.poll() is not None:
                cls._shared = cls()
                atexit.register(cls._shared.stop)
            return cls._shared

    def __init__(self):
        self.log = tempfile.NamedTemporaryFile(prefix="vpce-doctor-warm-backend-", suffix=".log", delete=False)
        self.process = subprocess.Popen([sys.executable, "-m", "vpce_doctor.lab.warm_backend"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        self._lock = threading.Lock()
        self._read(self.START_SECONDS)  # {"ready": true}

    def _read(self, seconds: float):
        readable, _, _ = select.select([self.process.stdout], [], [], seconds)
        line = self.process.stdout.readline() if readable else ""
        if not line:
            tail = self._log_tail()  # before stop() removes the log
            self.stop()
            raise RuntimeError("the warm lab backend did not answer within %.0f s: %s" % (seconds, tail))
        return json.loads(line)

    def _log_tail(self) -> str:
        try:
            with open(self.log.name, errors="replace") as handle:
                return handle.read()[-800:]
        except OSError:
            return ""

    def fork(self, netns: str, argv: List[str], log: str) -> ForkedBackend:
        with self._lock:
            self.process.stdin.write(json.dumps({"netns": netns, "argv": argv, "log": log}) + "\n")
            self.process.stdin.flush()
            return ForkedBackend(self._read(self.FORK_SECONDS)["pid"])

    def stop(self) -> None:
        """Only our own process, by PID: its stdin closed, it exits; killed if it does not."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
