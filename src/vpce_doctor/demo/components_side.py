"""The simulated node's components: fake processes a process scan takes for Karpenter, the load
balancer controller, the VPC CNI or the Pod Identity agent, the public names those components
call (answered by the simulated resolvers, blackholed like every public address), and the Pod
Identity agent's HTTP answer on its link-local address."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Tuple

from ..checks.catalogue import Partition
from ..checks.no_privatelink import api_hostname, load_apis
from ..checks.sts_global import GLOBAL_HOST
from .scenarios import FakeProcess, Scenario


def public_names(scenario: Scenario, region: str, partition: Partition) -> Tuple[str, ...]:
    """Names under the partition's domain that the scenario's components may call and no endpoint
    serves: the VPC resolver answers them with public addresses, as Route 53 Resolver does."""
    if not scenario.processes:
        return ()
    names = [api_hostname(api, region, partition.dns_suffix) for api in load_apis()
             if partition.id in api.get("partitions", ())]
    if partition.id == "aws":
        names.append(GLOBAL_HOST)
    return tuple(sorted(n for n in set(names) if n.endswith("." + partition.dns_suffix)))


# sleeps at most 600 s, and stops once its starter (pid given, as it may be gone before the fake
# reads its own parent) is no longer its parent
FAKE_BODY = "import os, time; any(os.getppid() != %d or time.sleep(1) for _ in range(600))"


def start_fake_component(process: FakeProcess) -> subprocess.Popen:
    """argv[0] and the arguments as the scenario says, over a Python that only sleeps (sleep(1)
    would refuse the flags); the starter kills it by PID. It also ends within a second of its
    starter's death: the scan sees every process on the machine, and a fake left by a killed test
    run would otherwise be taken for a component by every later run for minutes."""
    env = {"PATH": "/usr/bin:/bin"}
    env.update(dict(process.env))
    argv = [process.argv[0], "-c", FAKE_BODY % os.getpid()] + list(process.argv[1:])
    return subprocess.Popen(argv, executable=sys.executable, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Held by every simulated node whose components run as processes, from start to stop, across
# processes: a process scan sees every process on the machine, so two such nodes side by side (the
# test suite's parallel workers, the 3.9 and 3.11 runs of CI) would each take the other's fakes for
# their own components. /tmp itself, not $TMPDIR: tests give runs their own TMPDIR (the tmux demo).
FAKES_LOCK_PATH = "/tmp/vpce-doctor-fake-components.lock"


class FakesOnThisMachine:
    """One holder at a time on the machine (flock, released by the kernel if its holder dies);
    re-entered freely within one process. acquire() waits at most `wait` seconds. A subclass with
    its own path (and its own _held, _handle, _guard) is another machine-wide lock."""

    path = FAKES_LOCK_PATH
    what = "its fake components"
    _held = 0  # nesting depth in this process
    _handle = None
    _guard = threading.Lock()

    def __init__(self, wait: float = 600.0):
        self.wait = wait
        self.holding = False

    def acquire(self) -> "FakesOnThisMachine":
        cls = type(self)
        with cls._guard:
            if cls._held == 0:
                handle = open(cls.path, "a")
                deadline = time.monotonic() + self.wait
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            handle.close()
                            raise TimeoutError("another simulated node kept %s for %.0f s (%s)"
                                               % (cls.what, self.wait, cls.path))
                        time.sleep(0.1)
                cls._handle = handle
            cls._held += 1
            self.holding = True
        return self

    def release(self) -> None:
        cls = type(self)
        with cls._guard:
            if not self.holding:
                return
            self.holding = False
            cls._held -= 1
            if cls._held == 0:
                cls._handle.close()  # closing the file drops the flock
                cls._handle = None

    def __enter__(self) -> "FakesOnThisMachine":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def runs_fakes(scenario: Scenario) -> bool:
    """Whether a simulated node of this scenario starts processes a scan would find."""
    return scenario.kubelet_env is not None or bool(scenario.processes)


class _AgentAnswer(BaseHTTPRequestHandler):
    def do_GET(self):  # the real agent answers / with 404: any HTTP answer means it is up
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class PodIdentityAgent:
    """HTTP on the agent's address (127.10.0.23 in the loopback demo)."""

    def __init__(self, address: str, port: int = 0):
        self.address, self.port = address, port
        self._server = None

    def start(self) -> "PodIdentityAgent":
        self._server = ThreadingHTTPServer((self.address, self.port), _AgentAnswer)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
