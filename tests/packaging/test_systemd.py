"""The systemd units: `systemd-analyze verify` must print nothing (it exits 0 even on unknown
keys, so its output is the verdict), and the offline security score is recorded."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from ..conftest import ROOT

UNITS = os.path.join(ROOT, "systemd")


@pytest.fixture()
def units(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing: `make test` installs it (Debian package systemd)")
    binary = os.path.join(os.path.dirname(sys.executable), "vpce-doctor")
    for name in ("vpce-doctor.service", "vpce-doctor.timer"):
        text = open(os.path.join(UNITS, name)).read()
        # verify checks that ExecStart exists: point it at this test's installed command
        (tmp_path / name).write_text(text.replace("/usr/bin/vpce-doctor", binary))
    return tmp_path


def test_units_verify_without_a_word(units):
    done = subprocess.run(["systemd-analyze", "verify", str(units / "vpce-doctor.service"),
                           str(units / "vpce-doctor.timer")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr


def test_security_exposure_is_low(units):
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(units / "vpce-doctor.service")],
                          capture_output=True, text=True, timeout=60)
    score = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout).group(1))
    print("systemd-analyze security --offline=yes: %.1f" % score)
    assert score <= 3.0


def test_unit_semantics():
    service = open(os.path.join(UNITS, "vpce-doctor.service")).read()
    timer = open(os.path.join(UNITS, "vpce-doctor.timer")).read()
    assert "Type=oneshot" in service and "SuccessExitStatus=1 2" in service and "StateDirectory=vpce-doctor" in service
    assert "CAP_SYS_PTRACE" in service and "CAP_DAC_READ_SEARCH" in service
    assert "OnUnitActiveSec=15min" in timer and "RandomizedDelaySec=" in timer and "OnBootSec=" in timer
