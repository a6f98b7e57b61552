"""Fault table, "Output": text from outside (API messages, IMDS values, saved reports) on its way to
terminals, the journal, fleet pages and the shell commands of a fix; and outputs that cannot be
written. FAULTS.md lists every row and the test here that proves it."""
import inspect
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vpce_doctor.agent import fleet as fleet_mod
from vpce_doctor.agent import history
from vpce_doctor.agent.render.text import render as render_text
from vpce_doctor.checks import remediation
from vpce_doctor.core import identifiers
from vpce_doctor.core.text import has_raw_control, printable, printable_data
from vpce_doctor.demo import aws_answers
from vpce_doctor.demo.imds_server import MAC
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import ROOT, SCENARIO_TIMEOUT, clean_env, run_cli

FIXTURE = Path(ROOT) / "tests" / "tui" / "fixtures" / "report-private-dns-off.json"
# What a hostile server or a broken image puts in a string: a forged journal line, clear screen,
# a window title, a C1 CSI, a bidi override, a Unicode line separator.
HOSTILE = "\n<0>vpce-doctor: FORGED ok\r\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil\u2028next\u2029\x00\x7f"
# one worker runs the whole module under xdist: its last test reads what the others gathered
pytestmark = pytest.mark.xdist_group("outputs")
# every human-facing text the tests in this module produced: the last test reads them all
OUTPUTS = []


def seen(name, text):
    OUTPUTS.append((name, text))
    assert not has_raw_control(text), "%s holds a raw control character: %r" % (name, text[:2000])
    return text


# --- printable(): the one escaping function ---------------------------------------------
@pytest.mark.parametrize("raw,shown", [
    ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\tb", "a\\tb"), ("\x1b[2J", "\\x1b[2J"), ("\x07", "\\x07"),
    ("\x00", "\\x00"), ("\x7f", "\\x7f"), ("\x9b31m", "\\x9b31m"), ("\x85", "\\x85"),
    ("\u202eevil", "\\u202eevil"), ("\u2066x\u2069", "\\u2066x\\u2069"), ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
    ("ok ✔ ü 中", "ok ✔ ü 中"), ("C:\\path", "C:\\path"),
])
def test_printable_escapes_each_class(raw, shown):
    assert printable(raw) == shown and not has_raw_control(printable(raw))


def test_printable_data_keeps_shape_and_cuts_depth():
    deep = "x"
    for _ in range(5000):
        deep = [deep]
    data = printable_data({"a\n": ("b\x1b", [1, None, True]), "deep": deep})
    assert data["a\\n"] == ("b\\x1b", [1, None, True])


# --- fix commands: every value one shell word -------------------------------------------
HOSTILE_VALUES = ["M1vpc-1;rm -rf /", "M2$(id)", "M3`id x`", "M4'quoted\"double", "M5line\nnext", "M6a|b&c>d<e",
                  "M7 %s %n \\n"]


def _hostile_args(function, value):
    """Arguments for any remediation function, by annotation; a new kind of parameter must be
    taught here rather than skipped."""
    where = remediation.Where(region=value, vpc_id=value, subnet_id=value, vpc_cidrs=(value,), instance_id=value)
    args = {}
    for name, param in inspect.signature(function).parameters.items():
        kind = str(param.annotation)
        if kind == "Where":
            args[name] = where
        elif name == "server":
            args[name] = value + ":53"
        elif name == "api_id":  # a key into checks/no_privatelink.json: the API is ours, the region is not
            from vpce_doctor.checks.no_privatelink import load_apis

            args[name] = load_apis()[0]["id"]
        elif name == "route":  # (kind, target id) of the route table's route to a hub
            args[name] = ("transit-gateway", value)
        elif kind in ("str", "Optional[str]"):
            args[name] = value
        elif kind in ("Sequence[str]", "Optional[Sequence[str]]"):
            args[name] = [value]
        elif kind == "Sequence[dict]":
            args[name] = [{"dns_name": value, "hosted_zone_id": value}]
        elif kind == "bool":
            args[name] = True
        elif kind == "int":
            args[name] = 443
        elif kind in ("Optional[float]", "float"):
            args[name] = 12.0
        else:
            pytest.fail("test_fix_commands: teach _hostile_args parameter %s: %s of %s" % (name, kind, function.__name__))
    return args


def _single_quoted(command):
    """For each character of `command`, whether it sits inside '...' (shell's single quotes)."""
    inside, state, i = [], None, 0
    while i < len(command):
        char = command[i]
        inside.append(state == "'")
        if state == "'":
            state = None if char == "'" else state
        elif char == "\\":
            inside.append(False)
            i += 1
        elif char in "'\"":
            state = None if state == char else (char if state is None else state)
        i += 1
    return inside


def _functions():
    return [f for name, f in inspect.getmembers(remediation, inspect.isfunction)
            if f.__module__ == remediation.__name__ and not name.startswith("_") and name not in ("q", "vpc_plus_two")
            and inspect.signature(f).return_annotation in ("Remediation", remediation.Remediation)]


def test_every_remediation_function_is_covered():
    names = {f.__name__ for f in _functions()}
    assert {"endpoint_missing", "custom_dns", "port_blocked", "proxy_bypass_missing", "dns_failure"} <= names


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("function", _functions(), ids=lambda f: f.__name__)
def test_fix_commands_keep_each_value_one_word(function, value):
    args = _hostile_args(function, value)
    variants = [args]
    if "endpoint_type" in args:  # endpoint_missing: the gateway branches too
        variants += [dict(args, endpoint_type="Gateway"), dict(args, endpoint_type="Gateway", existing_gateway=None)]
    if "private_dns_enabled" in args:
        variants.append(dict(args, private_dns_enabled=False))
    marker = value[:2]
    forms = {value, json.dumps(value)[1:-1]}  # raw, or inside the JSON change batch
    for variant in variants:
        for command in function(**variant).commands:
            lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
            touched = [t for t in tokens if marker in t]
            for token in touched:  # never a piece of the value: an unquoted ; | & ( ) < > or space splits it
                assert any(form in token for form in forms), "%s split %r: %r" % (function.__name__, value, tokens)
            inside = _single_quoted(command)
            for match in re.finditer(re.escape(marker), command):  # and never where $( ) or ` ` would run
                assert inside[match.start()], "%s: %r outside single quotes in %s" % (function.__name__, value, command)


def test_placeholders_stay_readable():
    where = remediation.Where(region="us-east-1", vpc_id="", subnet_id="", vpc_cidrs=())
    commands = remediation.endpoint_missing(where, "sts", "com.amazonaws.us-east-1.sts", "Interface").commands
    assert "--vpc-id <VPC-ID>" in commands[0] and "--cidr <VPC-CIDR>" in commands[1]
    assert "--subnet-ids <SUBNET-ID>" in commands[-1]


# --- IMDS identifiers -------------------------------------------------------------------
@pytest.mark.parametrize("kind,good,bad", [
    ("region", ["us-east-1", "cn-northwest-1", "us-gov-west-1", "us-isob-east-1"],
     ["us-east-1 ", " us-east-1", "us-east-1\n", "US-EAST-1", "us-east-1;id", "eu", "us-east-1\u202e", 42]),
    ("availability_zone", ["us-east-1a", "us-west-2-lax-1a", "us-east-1-wl1-bos-wlz-1"], ["us-east-1", "us-east-1a ", "a"]),
    ("instance_id", ["i-0123456789abcdef0", "i-12345678"], ["i-XYZ", "i-0123 ", "$(id)", ""]),
    ("account_id", ["123456789012"], ["12345678901", "1234567890123", "12345678901a", 123456789012]),
    ("vpc_id", ["vpc-0abc1234", "vpc-0123456789abcdef0"], ["vpc-1;rm -rf /", "vpc-$(id)", "vpc-0ABC1234", "subnet-0abc1234"]),
    ("subnet_id", ["subnet-0abc1234"], ["subnet-0abc1234\n", "subnet-"]),
    ("vpc_cidr", ["10.0.0.0/16", "2600:1f18::/56", "10.0.0.1/16"], ["10.0.0.0", "999.0.0.0/8", "10.0.0.0/16 ", "x/16"]),
    ("local_ipv4", ["10.0.1.5"], ["10.0.1.5 ", "10.0.1", "::1"]),
])
def test_identifier_shapes(kind, good, bad):
    for value in good:
        assert identifiers.valid(kind, value), value
    for value in bad:
        assert not identifiers.valid(kind, value), value


@pytest.fixture
def poisoned_world(dns_backend):
    """private-dns-off with an IMDS that lies in every identifier it serves."""
    with World(SCENARIOS["private-dns-off"], dns_backend=dns_backend) as world:
        paths = world.imds.paths
        net = "/latest/meta-data/network/interfaces/macs/%s/" % MAC
        paths[net + "vpc-id"] = "vpc-1;rm -rf /$(id)"
        paths[net + "subnet-id"] = "subnet-0abc1234\x1b]0;pwned\x07"
        paths[net + "vpc-ipv4-cidr-blocks"] = paths[net + "vpc-ipv4-cidr-blocks"] + "\n999.1.1.0/24\n10.0.0.0/16;id"
        identity = json.loads(paths["/latest/dynamic/instance-identity/document"])
        identity.update(region=identity["region"] + " ", instanceId="i-\u202e0123", accountId="12345")
        paths["/latest/dynamic/instance-identity/document"] = json.dumps(identity)
        yield world


@pytest.mark.integration
def test_imds_identifiers_are_vetted(poisoned_world, tmp_path):
    args = poisoned_world.cli_args(timeout=0.5)
    done = run_cli(["check", *args])
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "no region known" in done.stderr and "invalid region 'us-east-1 '" in done.stderr  # not silently us-east-1
    seen("no-region stderr", done.stderr)

    done = run_cli(["check", "--format", "json", "--region", "us-east-1", *args])
    report = json.loads(done.stdout)
    node = report["node"]
    assert node["vpc_id"] is None and node["subnet_id"] is None and node["instance_id"] is None
    assert node["account_id"] is None and node["vpc_cidrs"] == ["127.10.0.0/16"]
    notes = "\n".join(node["notes"])
    for what in ("VPC id", "subnet id", "instance id", "account id", "region", "VPC CIDR '999.1.1.0/24'",
                 "VPC CIDR '10.0.0.0/16;id'"):
        assert "invalid %s" % what in notes, notes
    commands = [c for f in report["findings"] for c in f["remediation"]["commands"]]
    assert commands and all("rm -rf" not in c and "$(id)" not in c for c in commands)
    assert all("vpc-1" not in c and "subnet-0abc1234" not in c and "pwned" not in c for c in commands), commands
    # with the VPC unknown the fixes carry placeholders for the operator to fill, never the lie
    assert any("--vpc-id <VPC-ID>" in c for c in commands) and any("--subnet-ids <SUBNET-ID>" in c for c in commands)

    text = run_cli(["check", "--region", "us-east-1", *args]).stdout
    seen("poisoned IMDS text", text)
    assert "note: error: IMDS gave an invalid VPC id" in text


# --- an API message that tries to forge lines and drive the terminal -------------------
@pytest.fixture
def hostile_api_world(dns_backend, monkeypatch):
    real_denial = aws_answers.policy_denial

    def denial(protocol, action, account):
        # the corpus's endpoint-policy denial, its message carrying the hostile text (JSON-escaped, as a server
        # would send it): the scenario denies ecr.api, a JSON 1.1 API
        assert protocol == "json"
        status, headers, body = real_denial(protocol, action, account)
        error = json.loads(body)
        error["message"] += HOSTILE
        return status, headers, json.dumps(error).encode()

    monkeypatch.setattr(aws_answers, "policy_denial", denial)
    with World(SCENARIOS["policy-denied"], dns_backend=dns_backend) as world:
        yield world


@pytest.mark.integration
def test_hostile_api_message_everywhere(hostile_api_world, tmp_path):
    args = hostile_api_world.cli_args(timeout=SCENARIO_TIMEOUT)  # moto behind a loaded machine: as the scenarios
    state = tmp_path / "state"
    journal = run_cli(["check", "--state-dir", str(state), *args])
    lines = seen("journal", journal.stdout).splitlines()
    assert journal.returncode == 2, journal.stderr
    assert all(re.match(r"^<[3-6]>", line) for line in lines), lines  # never a forged <0>
    assert len(lines) == 1 + 2  # summary + policy_denied (ecr.api) + iam_denied (logs)
    forged = next(line for line in lines if "policy_denied" in line)
    assert "\\n<0>vpce-doctor: FORGED ok\\r\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil\\u2028next" in forged

    report = json.loads((state / "last.json").read_text())
    message = next(f["message"] for f in report["findings"] if f["code"] == "policy_denied")
    assert "\n<0>vpce-doctor: FORGED ok\r\x1b[2J" in message  # JSON stays exact

    text = run_cli(["check", *args]).stdout
    seen("text report", text)
    assert "FORGED ok\\r\\x1b[2J" in text

    report_path = tmp_path / "node.json"
    report_path.write_text(json.dumps(report))
    seen("fleet text", run_cli(["fleet", str(report_path)]).stdout)
    page = tmp_path / "fleet.html"
    assert run_cli(["fleet", "--format", "html", "-o", str(page), str(report_path)]).returncode == 0
    seen("fleet html", page.read_text())


def _hostile_report():
    report = json.loads(FIXTURE.read_text())
    report["node"].update(instance_id="i-0123<b>x</b>" + HOSTILE, availability_zone="us-east-1a" + HOSTILE,
                          subnet_id="subnet-[bold]x[/bold]" + HOSTILE, notes=["note" + HOSTILE])
    service = report["services"][1]
    service["id"] = "ecr.api[red]" + HOSTILE
    service["findings"][0]["message"] += HOSTILE
    service["findings"][0]["remediation"]["commands"].append("echo " + HOSTILE)
    service["probes"]["api"]["message"] = HOSTILE
    service["probes"]["dns"][0]["server"] = "10.0.0.2" + HOSTILE
    report["findings"][0]["message"] += HOSTILE
    report["findings"].append({"code": "clock_skew" + HOSTILE, "severity": "critical", "service": None,
                               "message": HOSTILE, "remediation": {"text": HOSTILE, "commands": [HOSTILE]},
                               "evidence": [HOSTILE]})
    return report


def test_renderers_escape_a_hostile_report(tmp_path):
    report = _hostile_report()
    seen("render text", render_text(report))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    fleet = fleet_mod.load([str(path)])
    seen("fleet text (in-process)", fleet_mod.render_text(fleet))
    page = seen("fleet html (in-process)", fleet_mod.render_html(fleet))
    assert "<b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page  # HTML-escaped too
    assert json.loads(fleet_mod.render_json(fleet))["nodes"][0]["instance_id"].endswith(HOSTILE)  # JSON exact
    lines = history.record(report, str(tmp_path / "state"), 2)
    seen("journal (in-process)", "\n".join(lines))
    assert len(lines) == 1 + len(report["findings"]) and all(re.match(r"^<[3-6]>", l) for l in lines)


async def test_tui_escapes_a_hostile_report(tmp_path):
    from vpce_doctor.tui.app import VpceDoctorApp
    from vpce_doctor.tui.components.detail_screen import DetailScreen
    from vpce_doctor.tui.components.node_panel import NodePanel
    from vpce_doctor.tui.components.services_table import ServicesTable
    from vpce_doctor.tui.components.summary_bar import SummaryBar

    report = _hostile_report()
    app = VpceDoctorApp(report=report, export_to=str(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(ServicesTable)
        cells = "\n".join(str(c) for key in table.rows for c in table.get_row(key))
        assert "[red]" in seen("TUI cells", cells)  # shown as typed, not taken as markup
        seen("TUI summary", str(app.query_one(SummaryBar).render()))
        seen("TUI node panel", str(app.query_one(NodePanel).render()))
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        seen("TUI detail", str(app.screen.query_one("#detail-text").render()))
        await pilot.press("escape", "e")
        await pilot.pause()
    [exported] = list(tmp_path.glob("vpce-doctor-*.json"))
    assert exported.name.startswith("vpce-doctor-node-")  # a hostile instance id does not name files
    assert json.loads(exported.read_text()) == report


# --- outputs that cannot be written -----------------------------------------------------
def _full_disk():
    """The child may write at most 512 bytes per file: a write past it fails with EFBIG, as on a
    full disk (SIGXFSZ ignored so the write returns the error instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))


def _cli(args, preexec=None):
    return subprocess.run([sys.executable, "-m", "vpce_doctor", *args], capture_output=True, text=True,
                          env=clean_env(), timeout=60, cwd=ROOT, preexec_fn=preexec)


QUICK_RUN = ["--region", "us-east-1", "--no-api", "--services", "sts", "--vpc-resolver", "127.0.0.1:9",
             "--resolver", "127.0.0.1:9", "--imds-endpoint", "http://127.0.0.1:9", "--allow-net", "127.0.0.0/8",
             "--timeout", "0.3", "--resolv-conf", os.devnull, "--no-process-scan"]


@pytest.mark.integration
@pytest.mark.parametrize("case", ["check-output-dir-missing", "check-output-full", "check-state-dir-is-a-file",
                                  "check-state-dir-full", "fleet-output-full"])
def test_unwritable_and_full_outputs(tmp_path, case):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    big_report = tmp_path / "big.json"
    big = json.loads(FIXTURE.read_text())
    big_report.write_text(json.dumps(big))
    out = tmp_path / "out"
    out.mkdir()
    args, preexec, says = {
        "check-output-dir-missing": (["check", "--format", "json", "-o", str(tmp_path / "no" / "r.json")] + QUICK_RUN,
                                     None, "cannot write"),
        "check-output-full": (["check", "--format", "json", "-o", str(out / "r.json")] + QUICK_RUN, _full_disk,
                              "cannot write"),
        "check-state-dir-is-a-file": (["check", "--state-dir", str(blocker)] + QUICK_RUN, None, "cannot write the state"),
        "check-state-dir-full": (["check", "--state-dir", str(out)] + QUICK_RUN, _full_disk, "cannot write the state"),
        "fleet-output-full": (["fleet", "--format", "html", "-o", str(out / "f.html"), str(big_report)], _full_disk,
                              "cannot write"),
    }[case]
    done = _cli(args, preexec)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert done.stderr.startswith("vpce-doctor: %s" % says) and len(done.stderr.splitlines()) == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and p.stat().st_size > 0 and p.name != "last.json"]
    assert not [n for n in leftovers if n.startswith(".vpce-doctor-")], leftovers  # no half-written temp file
    assert not (out / "r.json").exists() and not (out / "f.html").exists()


def test_zz_no_raw_control_character_in_any_output():
    """Every text, journal, fleet and TUI output these tests produced (also asserted one by one)."""
    assert OUTPUTS, "run this module whole: the outputs come from the tests above"
    dirty = [name for name, text in OUTPUTS if has_raw_control(text)]
    assert not dirty, dirty
