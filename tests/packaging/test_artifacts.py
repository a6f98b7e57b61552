"""What `make package` builds: the single-file archive on the node's own Pythons, the RPM and
DEB contents, and the DEB installed for real (CI, as root) with its installed command run."""
import glob
import json
import os
import shutil
import subprocess

import pytest

from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import ROOT, SCENARIO_TIMEOUT, clean_env

pytestmark = pytest.mark.integration
DIST = os.path.join(ROOT, "dist")
EXPECTED = {"/usr/bin/vpce-doctor", "/usr/lib/vpce-doctor/vpce-doctor.pex", "/etc/vpce-doctor/config.toml",
            "/usr/lib/systemd/system/vpce-doctor.service", "/usr/lib/systemd/system/vpce-doctor.timer",
            "/var/lib/vpce-doctor"}


def artifact(pattern):
    found = glob.glob(os.path.join(DIST, pattern))
    if not found:
        pytest.fail("dist/%s missing: `make test` builds it (make package)" % pattern)
    return found[0]


def pyenv_python(minor):
    done = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True) if shutil.which("pyenv") else None
    versions = [v for v in (done.stdout.split() if done else []) if v.startswith("3.%d." % minor)]
    if not versions:
        if os.environ.get("CI"):
            pytest.fail("python 3.%d not found via pyenv" % minor)
        pytest.skip("python 3.%d not installed here" % minor)
    prefix = subprocess.run(["pyenv", "prefix", versions[-1]], capture_output=True, text=True).stdout.strip()
    return os.path.join(prefix, "bin", "python3.%d" % minor)


@pytest.mark.parametrize("minor", [9, 12])
def test_archive_runs_with_the_nodes_python(minor, tmp_path, dns_backend):
    python = pyenv_python(minor)
    archive = artifact("vpce-doctor.pex")
    scenario = SCENARIOS["private-dns-off"]
    with World(scenario, dns_backend=dns_backend) as world:
        done = subprocess.run([python, archive, "check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT)],
                              capture_output=True, text=True, timeout=180,
                              env=clean_env(PEX_ROOT=str(tmp_path / "pex"), HOME=str(tmp_path)))
    report = json.loads(done.stdout)
    assert sorted((f["code"], f["service"]) for f in report["findings"]) == sorted(scenario.expect)
    assert done.returncode == 2


def test_archive_never_imports_from_a_root_others_can_write(tmp_path):
    """The /tmp fallback PEX_ROOT is predictable: code planted there by another user must not run
    (as root). A world-writable root is passed over for a private directory of this run's own."""
    import zipfile

    archive = artifact("vpce-doctor.pex")
    with zipfile.ZipFile(archive) as z:
        digest = z.read("_archive_hash").decode("ascii").strip()
    shared = tmp_path / "shared-root"
    planted = shared / "vpce-doctor" / digest / "vpce_doctor"
    planted.mkdir(parents=True)
    marker = tmp_path / "planted-code-ran"
    (planted / "__init__.py").write_text("open(%r, 'w').write('ran')\n" % str(marker))
    for directory in (shared, shared / "vpce-doctor", shared / "vpce-doctor" / digest):
        os.chmod(str(directory), 0o777)
    done = subprocess.run([pyenv_python(12), archive, "--version"], capture_output=True, text=True, timeout=120,
                          env=clean_env(PEX_ROOT=str(shared), HOME=str(tmp_path)))
    assert done.returncode == 0 and done.stdout.startswith("vpce-doctor "), done.stderr
    assert not marker.exists(), "code from a world-writable PEX_ROOT was imported"
    # the usual case still caches: a root only its owner can write is used, and reused
    own = tmp_path / "own-root"
    for _ in range(2):
        subprocess.run([pyenv_python(12), archive, "--version"], check=True, capture_output=True, timeout=120,
                       env=clean_env(PEX_ROOT=str(own), HOME=str(tmp_path)))
    assert (own / "vpce-doctor" / digest).is_dir() and not os.stat(str(own)).st_mode & 0o022


def test_rpm_and_deb_contents():
    deb = subprocess.run(["dpkg-deb", "-c", artifact("*.deb")], capture_output=True, text=True, check=True).stdout
    deb_paths = {line.split()[-1].lstrip(".").rstrip("/") for line in deb.splitlines()}
    assert EXPECTED <= deb_paths
    rpm = subprocess.run(["rpm", "-qpl", artifact("*.rpm")], capture_output=True, text=True, check=True).stdout
    assert EXPECTED <= set(rpm.split())


def test_installed_deb_runs(tmp_path, dns_backend):
    if not (os.environ.get("CI") or os.environ.get("VPCE_DOCTOR_INSTALL_TEST")) or os.geteuid() != 0:
        pytest.skip("installs a package on this machine: CI only (or VPCE_DOCTOR_INSTALL_TEST=1 as root)")
    subprocess.run(["dpkg", "-i", artifact("*.deb")], capture_output=True, text=True, check=True, timeout=120)
    try:
        version = subprocess.run(["/usr/bin/vpce-doctor", "--version"], capture_output=True, text=True, timeout=120,
                                 env=clean_env(PEX_ROOT=str(tmp_path / "pex")))
        assert version.stdout.startswith("vpce-doctor ")
        with World(SCENARIOS["healthy"], dns_backend=dns_backend) as world:
            done = subprocess.run(["/usr/bin/vpce-doctor", "check", "--format", "json", *world.cli_args(timeout=SCENARIO_TIMEOUT)],
                                  capture_output=True, text=True, timeout=120,
                                  env=clean_env(PEX_ROOT=str(tmp_path / "pex")))
        assert done.returncode == 0 and json.loads(done.stdout)["status"] == "ok", done.stderr
    finally:
        subprocess.run(["dpkg", "--purge", "vpce-doctor"], capture_output=True, timeout=120)
