"""`vpce-doctor view report.json` where no one can use the interactive view (a pipe, a file): the text
report `check` prints for that report, then exit with the code `check` gives its status. A support
engineer's `view report.json | less` or `> out.txt` ends, and says what the node said."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vpce_doctor.agent.redact_ids import redact_ids
from vpce_doctor.agent.render import text
from vpce_doctor.core.model import EXIT_CODES

from ..conftest import ROOT, clean_env

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "tui" / "fixtures"
REPORTS = sorted(FIXTURES.glob("report-*.json"))
VIEW = [sys.executable, "-m", "vpce_doctor", "view"]


def _piped(args, timeout=30):
    """`vpce-doctor view ARGS | cat`: (what cat printed, view's exit code, view's stderr)."""
    view = subprocess.Popen(VIEW + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=clean_env(), cwd=ROOT)
    cat = subprocess.Popen(["cat"], stdin=view.stdout, stdout=subprocess.PIPE)
    view.stdout.close()  # cat holds the pipe's read end now
    try:
        printed = cat.communicate(timeout=timeout)[0]
        stderr = view.stderr.read()
        code = view.wait(timeout=timeout)
    finally:
        for process in (view, cat):
            if process.poll() is None:
                process.kill()
                process.wait()
        view.stderr.close()
    return printed.decode("utf-8"), code, stderr.decode("utf-8")


@pytest.mark.parametrize("path", REPORTS, ids=[p.stem for p in REPORTS])
def test_view_into_a_pipe_prints_the_text_report_and_exits(path):
    report = json.loads(path.read_text())
    printed, code, stderr = _piped([str(path)])
    assert printed == text.render(report), stderr
    assert code == EXIT_CODES[report["status"]] and stderr == ""
    assert "FINDINGS AND FIXES" in printed or report["status"] == "ok"


def test_view_into_a_file_with_redact(tmp_path):
    path = FIXTURES / "report-private-dns-off.json"
    report = json.loads(path.read_text())
    out = tmp_path / "out.txt"
    with open(str(out), "w") as handle:
        done = subprocess.run(VIEW + ["--redact", str(path)], stdout=handle, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True, env=clean_env(), cwd=ROOT, timeout=30)
    assert done.returncode == EXIT_CODES[report["status"]] == 2, done.stderr
    shown = out.read_text()
    assert shown == text.render(redact_ids(report))
    for real in (report["node"]["vpc_id"], report["node"]["subnet_id"]):
        assert real in text.render(report) and real not in shown
    assert "vpc-REDACTED1" in shown


def test_view_of_another_schema_says_so_on_stderr_only(tmp_path):
    report = json.loads((FIXTURES / "report-private-dns-off.json").read_text())
    report["schema_version"] = 2
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(report))
    printed, code, stderr = _piped([str(path)])
    assert code == 2 and printed.startswith("vpce-doctor ") and "schema" not in printed
    assert "report schema version 2" in stderr and len(stderr.splitlines()) == 1
