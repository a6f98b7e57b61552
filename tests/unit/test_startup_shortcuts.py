"""What start-up reads without importlib.metadata (the version, outside checks' entry points) and
the redactor's fast cut-prefix search: each held equal to the slow, obvious way it replaced."""
import os
import random
import re
import sys
import zipfile
from importlib import metadata

import pytest

import vpce_doctor
from vpce_doctor.agent import redact
from vpce_doctor.checks import base, entry_points

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_version_is_pyprojects_and_the_installed_ones():
    with open(os.path.join(ROOT, "pyproject.toml")) as handle:
        declared = re.search(r'^version = "([^"]+)"', handle.read(), re.M).group(1)
    assert vpce_doctor.__version__ == declared == metadata.version("vpce-doctor")


def _importlib_group(group, path):
    """importlib.metadata's answer over path as the loader used to read it, {ep.name: ep.value}:
    the first distribution of a name, as entry_points() keeps since 3.10 (3.9's keeps every copy);
    a check name registered twice, the later registration."""
    found, dists = {}, set()
    for dist in metadata.distributions(path=list(path)):
        name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
        if name in dists:
            continue
        dists.add(name)
        for ep in dist.entry_points:
            if ep.group == group:
                found[ep.name] = ep.value
    if sys.version_info >= (3, 10) and path is sys.path:
        assert found == {ep.name: ep.value for ep in metadata.entry_points(group=group)}
    return found


def test_entry_points_on_this_interpreters_path_match_importlib_metadata():
    for group in (base.ENTRY_POINT_GROUP, "console_scripts", "pytest11"):
        assert entry_points.group(group) == _importlib_group(group, sys.path), group
    assert entry_points.group(base.ENTRY_POINT_GROUP)["dns"] == base.BUILTIN["dns"]


def _dist(directory, folder, text):
    os.makedirs(os.path.join(directory, folder))
    with open(os.path.join(directory, folder, "entry_points.txt"), "w") as handle:
        handle.write(text)
    with open(os.path.join(directory, folder, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % folder.split("-")[0])


def test_entry_points_from_directories_eggs_and_zips(tmp_path):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    _dist(first, "acme_checks-1.0.dist-info",
          "# a comment\n[console_scripts]\nx = y:z\n\n[vpce_doctor.checks]\nntp = acme.ntp:NtpCheck\n"
          "proxy2 = acme.proxy : Check\n")
    _dist(first, "Other.Dist-2.egg-info", "[vpce_doctor.checks]\nmtu=other.mtu:MtuCheck\n")
    _dist(second, "Acme.Checks-0.9.dist-info", "[vpce_doctor.checks]\nntp = old.ntp:Shadowed\nextra = old:Extra\n")
    _dist(second, "nothing-1.0.dist-info", "[vpce_doctor.checks_other]\nntp = no:No\n")
    os.makedirs(os.path.join(second, "notmeta-1.0"))
    archive = str(tmp_path / "bundle.zip")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped-3.0.dist-info/entry_points.txt", "[vpce_doctor.checks]\nzcheck = zipped:Check\n")
        z.writestr("zipped-3.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 3.0\n")
        z.writestr("deeper/inner-1.0.dist-info/entry_points.txt", "[vpce_doctor.checks]\nno = nested:No\n")
    # legacy eggs on sys.path: a directory and a zip, each with EGG-INFO/
    egg_dir = str(tmp_path / "legacy-1.0-py3.9.egg")
    os.makedirs(os.path.join(egg_dir, "EGG-INFO"))
    for member, text in (("entry_points.txt", "[vpce_doctor.checks]\negg = legacy:Check\n"),
                         ("PKG-INFO", "Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")):
        with open(os.path.join(egg_dir, "EGG-INFO", member), "w") as handle:
            handle.write(text)
    egg_zip = str(tmp_path / "zegg-2.0-py3.9.egg")
    with zipfile.ZipFile(egg_zip, "w") as z:
        z.writestr("EGG-INFO/entry_points.txt", "[vpce_doctor.checks]\nzegg = zegg:Check\nmtu = zegg:Later\n")
        z.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: zegg\nVersion: 2.0\n")
    path = [first, second, archive, str(tmp_path / "missing"), str(tmp_path / "first" / "Other.Dist-2.egg-info"
                                                                      / "entry_points.txt"), egg_dir, egg_zip]
    got = entry_points.group(base.ENTRY_POINT_GROUP, path)
    assert got == {"ntp": "acme.ntp:NtpCheck", "proxy2": "acme.proxy : Check", "mtu": "zegg:Later",
                   "zcheck": "zipped:Check", "egg": "legacy:Check", "zegg": "zegg:Check"}
    assert got == _importlib_group(base.ENTRY_POINT_GROUP, path)
    # a line importlib.metadata would raise on is skipped, not a crash of every run
    _dist(str(tmp_path / "third"), "odd-1.0.dist-info", "[vpce_doctor.checks]\n ; note\nno equals sign\nok = odd:Ok\n")
    assert entry_points.group(base.ENTRY_POINT_GROUP, [str(tmp_path / "third")]) == {"ok": "odd:Ok"}


def _cut_prefix_by_every_size(value, secret):
    """The obvious search the fast one replaced: every prefix length, longest first."""
    if len(secret) <= redact.PREFIX_MIN:
        return value
    body = value.rstrip(".…")
    tail = value[len(body):]
    for size in range(min(len(secret) - 1, len(body)), redact.PREFIX_MIN - 1, -1):
        if body.endswith(secret[:size]):
            return body[:-size] + redact.MASK + tail
    return value


@pytest.mark.parametrize("seed", range(4))
def test_cut_prefix_search_agrees_with_trying_every_size(seed):
    rnd = random.Random(seed)
    for _ in range(20000):
        # two letters make near-misses and repeated heads common
        secret = "".join(rnd.choice("ab") for _ in range(rnd.randint(5, 30)))
        value = ("".join(rnd.choice("ab.") for _ in range(rnd.randint(0, 20))) + secret[:rnd.randint(0, len(secret))]
                 + rnd.choice(["", ".", "...", "…", "a"]))
        assert redact._mask_cut_prefix(value, secret) == _cut_prefix_by_every_size(value, secret), (value, secret)


def test_redactor_memo_is_bounded_and_answers_the_same():
    token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN" * 4
    redactor = redact.Redactor([token])
    cut = "echoed " + token[:40] + "..."
    assert redactor.text(cut) == redactor.text(cut) == "echoed ***..."
    for i in range(redact._MEMO_MAX + 10):
        redactor.text("s%d" % i)
    assert len(redactor._done) == redact._MEMO_MAX
    assert redactor.text("x" * 600 + token) == "x" * 600 + "***" and ("x" * 600 + token) not in redactor._done


def test_partitions_read_directly_are_botocores():
    import botocore.loaders

    from vpce_doctor.checks import catalogue

    assert catalogue._partitions_data() == botocore.loaders.Loader().load_data("partitions")["partitions"]


def _ctx(instance):
    from types import SimpleNamespace

    from vpce_doctor.core.addresses import NetworkGuard

    return SimpleNamespace(facts=SimpleNamespace(instance_credentials=instance), guard=NetworkGuard(()),
                           step_timeout=lambda: 1.0)


def test_credential_chain_skipped_only_when_it_would_find_nothing(monkeypatch, tmp_path):
    from vpce_doctor.agent.imds import RoleCredentials
    from vpce_doctor.checks.credential_chain import CHAIN_ENVIRONMENT, botocore_credentials

    instance = RoleCredentials("ASIAINSTANCEROLE0001", "instance-secret-0123456789", "instance-token-0123456789")
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))
    assert botocore_credentials(_ctx(instance)) is instance  # nothing anywhere: the instance role
    keys = tmp_path / "credentials"
    keys.write_text("[default]\naws_access_key_id = AKIAFROMTHEFILE00001\naws_secret_access_key = file-secret-0123\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(keys))
    assert botocore_credentials(_ctx(instance)).access_key == "AKIAFROMTHEFILE00001"  # the file, read by botocore
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-0123456789")
    assert botocore_credentials(_ctx(instance)).access_key == "AKIAFROMENVIRONMENT1"
    assert {"AWS_ACCESS_KEY_ID", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} <= set(CHAIN_ENVIRONMENT)


def test_a_node_without_credential_sources_never_imports_botocore(tmp_path):
    import subprocess

    code = ("import sys\n"
            "from tests.unit.test_startup_shortcuts import _ctx\n"
            "from vpce_doctor.checks.credential_chain import botocore_credentials\n"
            "from vpce_doctor.checks.catalogue import partition_for_region\n"
            "from vpce_doctor.checks.probes import sigv4\n"
            "assert botocore_credentials(_ctx('role')) == 'role'\n"
            "assert partition_for_region('eu-west-1').dns_suffix == 'amazonaws.com'\n"
            "sys.stdout.write(repr(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'urllib3'))))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=str(tmp_path / "none"), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout == "[]", done.stderr[-2000:]


def test_one_shot_commands_run_without_the_cycle_collector_and_give_it_back(monkeypatch):
    import gc

    from vpce_doctor import cli
    from vpce_doctor.agent import commands

    seen = []
    monkeypatch.setattr(commands, "services", lambda args: seen.append(("services", gc.isenabled())) or 0)
    monkeypatch.setattr(cli, "cmd_view", lambda args: seen.append(("view", gc.isenabled())) or 0)
    assert gc.isenabled()
    assert cli.main(["services"]) == 0 and gc.isenabled()
    assert cli.main(["view", "report.json"]) == 0 and gc.isenabled()
    assert seen == [("services", False), ("view", True)]


def test_package_data_is_read_from_a_directory_and_from_a_zip(tmp_path, monkeypatch):
    from vpce_doctor.core.files import package_text

    assert '"services"' in package_text("vpce_doctor.checks.catalogue", "catalogue.json")
    archive = str(tmp_path / "bundle.zip")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_pkg/__init__.py", "")
        z.writestr("zipped_pkg/mod.py", "X = 1\n")
        z.writestr("zipped_pkg/data.json", '{"from": "the zip"}')
    monkeypatch.syspath_prepend(archive)
    import zipped_pkg.mod  # noqa: F401 - imported by zipimport

    try:
        assert package_text("zipped_pkg.mod", "data.json") == '{"from": "the zip"}'
    finally:
        for name in ("zipped_pkg.mod", "zipped_pkg"):
            sys.modules.pop(name, None)
