"""Fault table, "Report consumers": `vpce-doctor view` and `vpce-doctor fleet` meet files that are
not the report they expect (FAULTS.md lists every row). Each is either skipped/refused with
one line that says why, or read as far as it goes; never a traceback, an internal error, a hang
or a silent exit 0 after a crash."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpce_doctor.agent.report_file import ReportFileError, read_report
from vpce_doctor.core.text import has_raw_control
from vpce_doctor.tui.app import VpceDoctorApp
from vpce_doctor.tui.components.detail_screen import DetailScreen, describe

from ..conftest import ROOT, clean_env, run_cli
from ..tui.test_tmux import _capture, _wait_for

GOOD = Path(__file__).parent.parent / "tui" / "fixtures" / "report-private-dns-off.json"


def good():
    return json.loads(GOOD.read_text())


def _write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def _nested_inside(path):
    report = good()
    deep = "x"
    for _ in range(500):  # under Python's recursion limit: json reads it, renderers must not recurse it
        deep = [deep]
    report["services"][1]["findings"][0]["evidence"] = [deep]
    _write(path, json.dumps(report))


def _wrong_types(path):
    report = good()
    report["duration_ms"] = "slow"
    report["node"].update(availability_zone=42, resolvers="8.8.8.8", vpc_cidrs="10.0.0.0/16", notes=[1, None])
    report["services"][0]["probes"]["dns"] = [1, "x", None, {"addresses": "1.2.3.4", "ms": "fast"}]
    report["services"][1]["findings"] = {"code": "x"}
    report["services"][2]["probes"] = ["not", "a", "dict"]
    report["services"][3]["probes"]["tls"] = [{"ok": "yes", "ms": [1]}]
    report["services"][4]["probes"]["api"] = {"outcome": 7, "skew_seconds": "a lot", "http_status": {"x": 1}}
    report["services"].append("a string where a service belongs")
    report["services"].append({"id": None, "status": 3})
    report["findings"] = [None, {"code": ["x"], "remediation": {"commands": "rm -rf /"}}, 5]
    _write(path, json.dumps(report))


def _missing_keys(path):
    _write(path, json.dumps({"schema_version": 1, "node": {}, "services": [{"id": "ec2"}, {}]}))


def _other_schema(path):
    report = good()
    report["schema_version"] = 2
    report["a_field_from_the_future"] = {"x": [1, 2, 3]}
    for service in report["services"]:
        service.pop("checks", None)
        service["probes"]["quic"] = [{"ok": True}]
    _write(path, json.dumps(report))


def _duplicate_ids(path):
    report = good()
    report["services"].append(dict(report["services"][1]))
    _write(path, json.dumps(report))


def _fifo(path):
    os.mkfifo(str(path))  # nobody ever writes: a plain open() would block forever


def _loop(path):
    os.symlink(path.name, str(path))  # loop.json -> loop.json


def _huge(path):
    with open(str(path), "wb") as handle:
        handle.truncate(40 * 1024 * 1024)  # sparse: 40 MiB of NULs without writing them


# class | how the file is made | fleet: reason it is skipped, or None when read | read: view opens it
CASES = [
    ("truncated", lambda p: _write(p, GOOD.read_text()[:2000]), "not JSON"),
    ("empty", lambda p: _write(p, b""), "not JSON"),
    ("binary", lambda p: _write(p, b"\xff\xfe\x00\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), "not UTF-8"),
    ("nested-deep", lambda p: _write(p, "[" * 200000 + "]" * 200000), "nested too deeply"),
    ("nested-object-deep", lambda p: _write(p, '{"node":' * 100000 + "1" + "}" * 100000), "nested too deeply"),
    ("json-not-object", lambda p: _write(p, "[1, 2, 3]"), "not a vpce-doctor report"),
    ("json-other-object", lambda p: _write(p, '{"Version": "2012-10-17"}'), "not a vpce-doctor report"),
    ("huge", _huge, "too large"),
    ("fifo", _fifo, "a FIFO"),
    ("symlink-loop", _loop, "symlink loop"),
    ("other-schema", _other_schema, None),
    ("missing-keys", _missing_keys, None),
    ("wrong-types", _wrong_types, None),
    ("nested-within-limit", _nested_inside, None),
    ("duplicate-service-ids", _duplicate_ids, None),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fleet")
    shutil.copy(str(GOOD), str(directory / "00-good.json"))
    for name, make, _ in CASES:
        make(directory / ("%s.json" % name))
    return directory


def _one_clean_line(stderr):
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert not has_raw_control(stderr), repr(stderr)


@pytest.mark.parametrize("name,make,reason", CASES, ids=IDS)
def test_reader_refuses_or_reads(tmp_path, name, make, reason):
    path = tmp_path / ("%s.json" % name)
    make(path)
    if reason is None:
        assert isinstance(read_report(str(path)), dict)
    else:
        with pytest.raises(ReportFileError, match=reason):
            read_report(str(path))


@pytest.mark.integration
def test_fleet_skips_each_bad_file_with_its_reason(fleet_dir):
    done = run_cli(["fleet", str(fleet_dir)], timeout=60)
    assert done.returncode == 0, done.stderr
    _one_clean_line(done.stderr)
    read = [c for c in CASES if c[2] is None]
    skipped = [c for c in CASES if c[2] is not None]
    assert "%d node(s), %d report(s) skipped" % (1 + len(read), len(skipped)) in done.stdout
    for name, _, reason in skipped:
        line = next(l for l in done.stderr.splitlines() if "%s.json" % name in l)
        assert line.startswith("vpce-doctor: skipped ") and reason in line, line
        assert any("skipped" in l and "%s.json" % name in l and reason in l for l in done.stdout.splitlines())
    assert "other-schema.json: report schema version 2" in done.stdout  # read, with the notice
    assert not has_raw_control(done.stdout)


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["json", "html"])
def test_fleet_other_formats_say_what_was_skipped(fleet_dir, tmp_path, fmt):
    out = tmp_path / ("fleet." + fmt)
    done = run_cli(["fleet", "--format", fmt, "--output", str(out), str(fleet_dir)], timeout=60)
    assert done.returncode == 0, done.stderr
    _one_clean_line(done.stderr)
    assert done.stderr.count("vpce-doctor: skipped ") == sum(1 for c in CASES if c[2])
    if fmt == "json":
        assert len(json.loads(out.read_text())["skipped"]) == sum(1 for c in CASES if c[2])
    else:
        assert "symlink-loop.json: symlink loop" in out.read_text()


@pytest.mark.integration
def test_fleet_of_only_bad_files_and_special_paths(fleet_dir, tmp_path):
    done = run_cli(["fleet", str(fleet_dir / "fifo.json"), "/dev/zero", str(tmp_path / "absent.json")], timeout=30)
    assert done.returncode == 3 and "no readable report" in done.stderr
    _one_clean_line(done.stderr)
    assert "a character device" in done.stderr and "No such file" in done.stderr


@pytest.mark.integration
def test_fleet_output_directory_missing_is_one_line(tmp_path):
    done = run_cli(["fleet", "--format", "html", "--output", str(tmp_path / "no" / "such" / "fleet.html"), str(GOOD)])
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("vpce-doctor: cannot write ") and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.integration
@pytest.mark.parametrize("name,make,reason", [c for c in CASES if c[2]] + [
    ("char-device", None, "a character device"), ("directory", None, "a directory"), ("absent", None, "No such file")],
    ids=[c[0] for c in CASES if c[2]] + ["char-device", "directory", "absent"])
def test_view_refuses_with_one_line(tmp_path, name, make, reason):
    if name == "char-device":
        path = "/dev/zero"
    elif name == "directory":
        path = str(tmp_path)
    elif name == "absent":
        path = str(tmp_path / "absent.json")
    else:
        path = str(tmp_path / ("%s.json" % name))
        make(Path(path))
    done = run_cli(["view", path], timeout=30)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert done.stderr.startswith("vpce-doctor: cannot open ") and reason in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1
    _one_clean_line(done.stderr)


@pytest.mark.integration
@pytest.mark.parametrize("name,make", [(c[0], c[1]) for c in CASES if c[2] is None],
                         ids=[c[0] for c in CASES if c[2] is None])
def test_view_on_a_pipe_prints_odd_reports_as_text(tmp_path, name, make):
    """No terminal (run_cli's stdout is a pipe): the text report, read through the same normalize as
    the interactive view, then exit with the report status's code; `?` where a field is missing."""
    path = tmp_path / ("%s.json" % name)
    make(path)
    done = run_cli(["view", str(path)], timeout=30)
    assert done.stdout.startswith("vpce-doctor ") and "SERVICE" in done.stdout, (done.stdout, done.stderr)
    assert done.returncode == {"missing-keys": 3, "wrong-types": 2}.get(name, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert not has_raw_control(done.stdout)
    assert ("report schema version 2" in done.stderr) == (name == "other-schema")


@pytest.mark.parametrize("name,make", [(c[0], c[1]) for c in CASES if c[2] is None],
                         ids=[c[0] for c in CASES if c[2] is None])
async def test_view_opens_odd_reports(tmp_path, name, make):
    """Opened, navigated into every service's detail and back: no exception in the app."""
    path = tmp_path / ("%s.json" % name)
    make(path)
    report = read_report(str(path))
    app = VpceDoctorApp(report=report, export_to=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        if name == "other-schema":
            assert "report schema version 2" in app.state.notice
        await pilot.press("down", "enter")  # the operator's way in, once
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        for service in app.state.services:  # then every service's detail screen, directly
            app.push_screen(DetailScreen(service, app.state.node_findings()))
            await pilot.pause()
            assert not has_raw_control(describe(service, app.state.node_findings()).plain)
            app.pop_screen()
            await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
    assert app.return_code in (None, 0)
    [exported] = list(tmp_path.glob("vpce-doctor-*.json"))
    assert json.loads(exported.read_text()) == report  # the export is the report as it came


@pytest.mark.integration
def test_view_of_other_schema_in_a_terminal_shows_the_notice(tmp_path):
    """The README's promise, in a real terminal: the notice is on screen and `q` leaves with 0."""
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed: run `make test`, which installs it")
    path = tmp_path / "v2.json"
    _other_schema(path)
    session = "vpce-doctor-view-%d" % os.getpid()
    status = tmp_path / "status"
    command = "%s -m vpce_doctor view %s; echo $? > %s" % (sys.executable, path, status)
    subprocess.run(["tmux", "-f", os.devnull, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
                   check=True, env=clean_env(TERM="screen", NO_COLOR="1"), cwd=ROOT)
    try:
        screen = _wait_for(session, "report schema version 2")
        assert "Traceback" not in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        for _ in range(100):
            if status.exists() and status.read_text().strip():
                break
            time.sleep(0.1)
        assert status.read_text().strip() == "0", _capture(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


@pytest.mark.integration
def test_file_names_with_control_characters_are_escaped_in_error_lines(tmp_path):
    bad = tmp_path / "node\x1b]0;pwned\x07\n<0>x.json"
    bad.write_text("not json")
    shutil.copy(str(GOOD), str(tmp_path / "good.json"))
    done = run_cli(["fleet", str(tmp_path)])
    assert done.returncode == 0 and "\\x1b]0;pwned\\x07\\n<0>x.json: not JSON" in done.stderr, done.stderr
    _one_clean_line(done.stderr)
    assert not has_raw_control(done.stdout)
    done = run_cli(["view", str(bad)])
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1
    _one_clean_line(done.stderr)


@pytest.mark.parametrize("name", ["fifo", "wrong-types", "nested-deep", "binary", "symlink-loop"])
def test_timer_mode_reads_a_broken_last_json(tmp_path, name):
    """Timer mode reads its own last.json: broken or replaced by a FIFO, the run still records
    (every finding counts as new) instead of hanging or crashing."""
    from vpce_doctor.agent import history

    state = tmp_path / "state"
    state.mkdir()
    make = dict((c[0], c[1]) for c in CASES)[name]
    make(state / "last.json")
    lines = history.record(good(), str(state), 2)
    assert lines[0].startswith("<3>vpce-doctor: critical")
    appeared = [l for l in lines if l.startswith("<3>finding appeared: ")]
    assert len(appeared) == len(good()["findings"])  # nothing usable before: every finding is new
    assert json.loads((state / "last.json").read_text())["status"] == "critical"
