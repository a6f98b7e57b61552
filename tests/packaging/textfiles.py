"""Real textfiles for the Prometheus and Grafana tests: scenarios of the simulated VPC run through
the real command line in timer mode (`check --state-dir --prometheus-dir`), and the series a
Prometheus scraping node_exporter would store from them, in promtool's test notation."""
import copy
import json
import os
import re
import shutil

import pytest

from vpce_doctor.agent.render import prometheus
from vpce_doctor.demo.scenarios import SCENARIOS
from vpce_doctor.demo.world import World

from ..conftest import SCENARIO_TIMEOUT, run_cli

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def promtool_path():
    """`make test` installs Debian's prometheus (it ships /usr/bin/promtool): missing is a failure."""
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: run `make test`, which installs it (Debian package prometheus)")
    return path


def run_scenario(name, workdir, dns_backend):
    """One timer-mode run: the last.json and the vpce_doctor.prom the tool really wrote."""
    state, prom = os.path.join(workdir, name, "state"), os.path.join(workdir, name, "prom")
    os.makedirs(prom)
    with World(SCENARIOS[name], dns_backend=dns_backend) as world:
        done = run_cli(["check", "--state-dir", state, "--prometheus-dir", prom, *world.cli_args(timeout=SCENARIO_TIMEOUT)])
    assert "Traceback" not in done.stderr, done.stderr
    with open(os.path.join(state, "last.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    with open(os.path.join(prom, "vpce_doctor.prom"), encoding="utf-8") as handle:
        text = handle.read()
    return report, text


def samples(text):
    """[(name, {label: value}, value)] of a textfile; comments skipped."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, "not a sample line: %r" % line
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in LABEL.findall(match.group("labels") or "")}
        out.append((match.group("name"), labels, match.group("value")))
    return out


def metric_names(text):
    return {name for name, _, _ in samples(text)}


KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
            "inf", "nan"}


def promql_metric_names(expr):
    """Metric names a PromQL expression reads: what is left once strings, label matchers, label lists,
    ranges, variables, function calls and keywords are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\$\w+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        if not match.group(2) and match.group(1) not in KEYWORDS:
            names.add(match.group(1))
    return names


def as_node(report, availability_zone, instance_id):
    """The same report as another node of the fleet would write it (the simulated VPC has one node)."""
    other = copy.deepcopy(report)
    other["node"].update(availability_zone=availability_zone, instance_id=instance_id)
    return prometheus.render(other)


def input_series(text, instance, minutes, timestamp_step=60):
    """promtool input_series for what Prometheus stores scraping `text` every minute for `minutes`:
    the scrape adds instance and job, and drops empty labels (service="" for node findings).
    The last-run timestamp is moved onto promtool's clock (which starts at Unix time 0): it starts
    at 0 and grows by `timestamp_step` each minute (60: a fresh run every scrape; 0: the timer
    stopped and node_exporter keeps serving the old file)."""
    series = []
    for name, labels, value in samples(text):
        labels = dict({k: v for k, v in labels.items() if v != ""}, instance=instance, job="node")
        selector = "%s{%s}" % (name, ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items())))
        if name == "vpce_doctor_last_run_timestamp_seconds":
            values = "0+%dx%d" % (timestamp_step, minutes)
        else:
            values = "%s+0x%d" % (value, minutes)
        series.append({"series": selector, "values": values})
    return series


# instance, scenario, AZ, last-run timestamp step per minute (0: the timer stopped)
FLEET = [("node-a1:9100", "healthy", "us-east-1a", 60), ("node-a2:9100", "healthy", "us-east-1a", 0),
         ("node-c1:9100", "sg-drops-443", "us-east-1c", 60), ("node-c2:9100", "sg-drops-443", "us-east-1c", 60),
         ("node-b1:9100", "clock-skew", "us-east-1b", 60), ("node-b2:9100", "proxy-without-bypass", "us-east-1b", 60)]


def fleet_series(real_runs, minutes):
    """What Prometheus holds after `minutes` of scraping six nodes: healthy in a (one with its timer
    stopped), sts broken for both nodes in c, a clock 10 minutes off and a proxy without bypass in b."""
    series = []
    for index, (instance, scenario, az, step) in enumerate(FLEET):
        report, _ = real_runs[scenario]
        text = as_node(report, az, "i-%017d" % index)
        series += input_series(text, instance, minutes, timestamp_step=step)
    return series
