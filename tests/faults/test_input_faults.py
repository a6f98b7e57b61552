"""Operator input faults: numbers, CIDRs and addresses, config files of the wrong types or kinds,
special files where a file belongs, outputs that cannot be written, runs side by side, signals.
Each case: one clear error line (exit 3), or a run that goes on with a note; never an internal error
or a hang."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ..conftest import ROOT, clean_env, run_cli

pytestmark = pytest.mark.integration


def _fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(str(path))
    return str(path)


def _loop(tmp_path):
    path = tmp_path / "loop"
    os.symlink(str(path), str(path))
    return str(path)


def _file(tmp_path, text, name="config.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# case -> (extra flags, given tmp_path; the one line stderr must hold)
FLAG_CASES = {
    "timeout_inf": (lambda t: ["--timeout", "inf"], "timeout must be between 0.05 and 60, got inf"),
    "timeout_nan": (lambda t: ["--timeout", "nan"], "timeout must be between 0.05 and 60, got nan"),
    "timeout_huge": (lambda t: ["--timeout", "1e9"], "timeout must be between"),
    "timeout_zero": (lambda t: ["--timeout", "0"], "timeout must be between"),
    "deadline_huge": (lambda t: ["--deadline", "1e10"], "deadline must be between 0.1 and 600"),
    "clock_tolerance_negative": (lambda t: ["--clock-tolerance", "-5"], "clock_tolerance must be between"),
    "history_huge": (lambda t: ["--history", "99999999999"], "history must be between 0 and 10000"),
    "https_port_out_of_range": (lambda t: ["--https-port", "70000"], "https_port must be between 1 and 65535"),
    "vpc_cidr_prefix_33": (lambda t: ["--vpc-cidr", "10.0.0.0/33"], "--vpc-cidr: not a CIDR: '10.0.0.0/33'"),
    "vpc_cidr_word": (lambda t: ["--vpc-cidr", "banana"], "--vpc-cidr: not a CIDR"),
    "allow_net_bad": (lambda t: ["--allow-net", "300.1.1.1/8"], "--allow-net: not a CIDR"),
    "resolver_name": (lambda t: ["--resolver", "dns.corp.example"], "not an address"),
    "resolver_port_out_of_range": (lambda t: ["--vpc-resolver", "10.0.0.2:99999"], "port out of range"),
    "config_wrong_type": (lambda t: ["--config", _file(t, 'timeout = "soon"\n')], "invalid value for timeout: 'soon'"),
    "config_table_for_list": (lambda t: ["--config", _file(t, "[services]\nec2 = true\n")],
                              "invalid value for services"),
    "config_number_out_of_range": (lambda t: ["--config", _file(t, "timeout = inf\n")], "timeout must be between"),
    "config_unknown_key": (lambda t: ["--config", _file(t, 'regoin = "eu-west-1"\n')], "unknown key(s)"),
    "config_not_toml": (lambda t: ["--config", _file(t, "timeout: 3\n")], "cannot read config"),
    "config_not_utf8": (lambda t: ["--config", _file(t, "")], None),  # replaced below with bytes
    "config_dev_zero": (lambda t: ["--config", "/dev/zero"], "not a regular file (a character device)"),
    "config_fifo": (lambda t: ["--config", _fifo(t)], "not a regular file (a FIFO)"),
    "config_directory": (lambda t: ["--config", str(t)], "not a regular file (a directory)"),
    "config_symlink_loop": (lambda t: ["--config", _loop(t)], "cannot read config"),
    "config_huge": (lambda t: ["--config", _file(t, "# " + "x" * (2 << 20) + "\n")], "larger than 1048576 bytes"),
    "config_missing": (lambda t: ["--config", str(t / "nope.toml")], "config file not found"),
    "ca_bundle_fifo": (lambda t: ["--ca-bundle", _fifo(t)], "cannot read CA bundle"),
    "ca_bundle_dev_zero": (lambda t: ["--ca-bundle", "/dev/zero"], "not a regular file (a character device)"),
}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_bad_operator_input_is_one_line(case, tmp_path):
    make, says = FLAG_CASES[case]
    extra = make(tmp_path)
    if case == "config_not_utf8":
        (tmp_path / "config.toml").write_bytes(b"region = \"\xff\xfe\"\n")
        says = "cannot read config"
    started = time.monotonic()
    done = run_cli(["check", "--region", "us-east-1", "--no-process-scan", "--resolv-conf", os.devnull,
                    "--allow-net", "127.0.0.0/8", *extra], timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode == 3 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vpce-doctor: ") and says in lines[0], done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_demo_timeout_out_of_range_is_one_line():
    done = run_cli(["demo", "--timeout", "inf", "--no-tui"], timeout=60)
    assert done.returncode == 3 and done.stderr.strip() == "vpce-doctor: timeout must be between 0.05 and 60, got inf"


# resolv.conf cases: the run goes on with the node's good resolvers and a note about what was skipped
RESOLV_CASES = {
    "bad_nameserver_line": (lambda t, good: _file(t, "nameserver dns.corp.example\nnameserver %s\nnameserver\n"
                                                   % good.split(":")[0], "resolv.conf"),
                            "skipped a nameserver that is not an IP address: 'dns.corp.example'"),
    "fifo": (lambda t, good: _fifo(t), "not a regular file (a FIFO)"),
    "dev_zero": (lambda t, good: "/dev/zero", "not a regular file (a character device)"),
    "huge": (lambda t, good: _file(t, "#" * (2 << 20), "resolv.conf"), "larger than"),
    "hundreds_of_nameservers": (lambda t, good: _file(t, "".join("nameserver 127.77.9.%d\n" % i for i in range(1, 250)),
                                                      "resolv.conf"), "only the first 8 are checked"),
}


@pytest.mark.parametrize("case", sorted(RESOLV_CASES))
def test_resolv_conf_faults_become_notes(case, node, tmp_path):
    make, note = RESOLV_CASES[case]
    path = make(tmp_path, node.vpc_dns)
    args = node.args()
    args[args.index("--resolv-conf") + 1] = path
    outcome = node.run(*args)
    assert outcome.report is not None, outcome.stderr
    notes = outcome.report["node"]["notes"]
    assert any(note in n for n in notes), notes
    if case == "hundreds_of_nameservers":
        assert len(outcome.report["node"]["resolvers"]["custom"]) == 8


def test_output_into_a_missing_directory_is_one_line(node, tmp_path):
    outcome = node.run(*node.args(), "--output", str(tmp_path / "no" / "such" / "report.json"))
    assert outcome.returncode == 3 and len(outcome.stderr.strip().splitlines()) == 1


def test_state_dir_that_is_a_file_is_one_line(node, tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("")
    outcome = node.run(*node.args(), "--state-dir", str(blocker))
    assert outcome.returncode == 3 and "cannot write the state" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs filled to the last byte (root only; CI runs as root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("cannot mount a tmpfs in CI: %s" % done.stderr)
        pytest.skip("needs root to mount a small tmpfs")
    try:
        (mount / "previous.json").write_text('{"kept": true}')
        with open(str(mount / "filler"), "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 512)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_output_disk_is_one_line_and_keeps_the_old_file(node, full_disk):
    target = full_disk / "previous.json"
    outcome = node.run(*node.args(), "--output", str(target))
    assert outcome.returncode == 3 and len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr
    assert json.loads(target.read_text()) == {"kept": True}
    assert not [p for p in os.listdir(str(full_disk)) if p.startswith(".vpce-doctor-")]


def test_broken_last_json_counts_as_no_previous_run(node, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "last.json").write_bytes(b'{"findings": [1, "x", {"code": ["odd"]}]')
    outcome = node.run(*node.args(), "--state-dir", str(state))
    assert outcome.returncode == 0 and outcome.stdout.startswith("<6>vpce-doctor: ok")
    os.unlink(str(state / "last.json"))
    os.mkfifo(str(state / "last.json"))  # a FIFO where last.json belongs: refused, never waited on
    outcome = node.run(*node.args(), "--state-dir", str(state))
    assert outcome.returncode == 0 and json.loads((state / "last.json").read_text())["status"] == "ok"


def test_concurrent_runs_share_a_state_dir(node, tmp_path):
    """Two timer runs at once (a manual run during the timer's): both finish, last.json is whole."""
    state = tmp_path / "state"
    args = node.args() + ["--state-dir", str(state)]
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(node.run(*args))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == 3 and all(o.returncode == 0 for o in outcomes)
    assert json.loads((state / "last.json").read_text())["status"] == "ok"
    assert not [p for p in os.listdir(str(state)) if p.startswith(".vpce-doctor-")]


@pytest.mark.parametrize("signum,returncode", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 3)],
                         ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_ends_it_cleanly(signum, returncode, node, servers, tmp_path):
    """A run stopped mid-way (systemd stop, ^C): it ends at once, with no traceback and no half-written state."""
    from .hostile import HostileDns

    slow = servers(HostileDns("127.77.0.3", "silence"))  # keeps the run busy for its whole deadline
    node.vpc_dns, node.timeout, node.deadline = slow.addr, 5.0, 30.0
    state = tmp_path / "state"
    # A shell without job control (nohup, `make test &`, some CI runners) starts its children with
    # SIGINT ignored, and Python then never installs its ^C handler: the run would rightly ignore it.
    # A handler (unlike SIG_IGN) is reset to the default by exec, so the run starts as on a terminal.
    # stdin from /dev/null, as in CI: with a pytest-xdist worker's stdin (its channel to the controller,
    # a pipe) inherited, the run was killed by the SIGINT (-2) after printing "interrupted".
    handler_was = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "vpce_doctor", *node.args(), "--state-dir", str(state)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_env(), cwd=ROOT)
    finally:
        signal.signal(signal.SIGINT, handler_was)
    try:
        waited = time.monotonic()
        while slow.queries == 0 and time.monotonic() - waited < 30:
            time.sleep(0.05)  # past start-up (however slow), into the probes
        assert slow.queries > 0
        time.sleep(0.2)
        sent = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - sent < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == returncode, (out, err)
    assert "Traceback" not in err and "internal error" not in err
    if signum == signal.SIGINT:
        assert err.strip() == "vpce-doctor: interrupted"
    leftovers = os.listdir(str(state)) if state.exists() else []
    assert "last.json" not in leftovers and not [p for p in leftovers if p.startswith(".vpce-doctor-")]
