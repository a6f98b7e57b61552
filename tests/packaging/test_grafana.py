"""The Grafana dashboard: valid against the documented dashboard model, its queries use only what
the textfile really contains, and promtool evaluates its panels on a fleet built from real runs."""
import json
import os
import re
import subprocess

import jsonschema
import pytest
import yaml

from ..conftest import ROOT
from .textfiles import FLEET, fleet_series, metric_names, promql_metric_names, promtool_path, samples

DASHBOARD = os.path.join(ROOT, "packaging", "grafana", "vpce-doctor-dashboard.json")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# The parts of Grafana's dashboard JSON model (docs: "JSON model", schemaVersion 36+) that an
# import relies on; Grafana fills in the rest.
GRID = {"type": "object", "required": ["h", "w", "x", "y"],
        "properties": {"h": {"type": "integer", "minimum": 1}, "w": {"type": "integer", "minimum": 1, "maximum": 24},
                       "x": {"type": "integer", "minimum": 0, "maximum": 23}, "y": {"type": "integer", "minimum": 0}}}
REF = {"type": "object", "required": ["type", "uid"], "properties": {"type": {"const": "prometheus"},
                                                                     "uid": {"const": "${datasource}"}}}
TARGET = {"type": "object", "required": ["refId", "expr"],
          "properties": {"refId": {"type": "string", "minLength": 1}, "expr": {"type": "string", "minLength": 1},
                         "datasource": REF, "instant": {"type": "boolean"}, "format": {"enum": ["time_series", "table"]},
                         "legendFormat": {"type": "string"}}}
PANEL = {"type": "object", "required": ["id", "type", "title", "gridPos", "datasource", "targets"],
         "properties": {"id": {"type": "integer", "minimum": 1},
                        "type": {"enum": ["stat", "table", "timeseries", "state-timeline", "status-history", "bargauge",
                                          "gauge"]},
                        "title": {"type": "string", "minLength": 1}, "description": {"type": "string"},
                        "gridPos": GRID, "datasource": REF, "targets": {"type": "array", "minItems": 1, "items": TARGET},
                        "fieldConfig": {"type": "object", "required": ["defaults", "overrides"]},
                        "options": {"type": "object"},
                        "transformations": {"type": "array", "items": {"type": "object", "required": ["id", "options"]}}}}
VARIABLE = {"type": "object", "required": ["type", "name"],
            "properties": {"type": {"enum": ["datasource", "query", "custom", "constant", "interval", "textbox"]},
                           "name": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"}}}
MODEL = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["title", "uid", "schemaVersion", "panels", "templating", "time", "tags", "editable"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "schemaVersion": {"type": "integer", "minimum": 36, "maximum": 41},
        "version": {"type": "integer"},
        "editable": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "time": {"type": "object", "required": ["from", "to"]},
        "refresh": {"type": "string"},
        "timezone": {"type": "string"},
        "annotations": {"type": "object", "required": ["list"]},
        "templating": {"type": "object", "required": ["list"], "properties": {"list": {"type": "array", "items": VARIABLE}}},
        "panels": {"type": "array", "minItems": 1, "items": PANEL},
    },
}


def load():
    with open(DASHBOARD) as handle:
        return json.load(handle)


def queries(dashboard):
    """(where, expr) of every panel target and every query variable."""
    out = [("%s/%s" % (p["title"], t["refId"]), t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    out += [("$%s" % v["name"], v["query"]["query"]) for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return out


def test_metric_name_parser():
    assert promql_metric_names('rate(node_textfile_mtime_seconds{file="x"}[5m]) > 1e3') == {"node_textfile_mtime_seconds"}
    assert promql_metric_names('count by (az, service) (a == 2) * on (instance) group_left (az) b{az=~"$az"}') == {"a", "b"}
    assert promql_metric_names("label_values(vpce_doctor_info, availability_zone)") == {"vpce_doctor_info",
                                                                                        "availability_zone"}


def test_dashboard_matches_the_model():
    dashboard = load()
    jsonschema.Draft202012Validator.check_schema(MODEL)
    errors = list(jsonschema.Draft202012Validator(MODEL).iter_errors(dashboard))
    assert not errors, [(list(e.path), e.message) for e in errors]
    [source] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert source["name"] == "datasource" and source["query"] == "prometheus"
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE
    # no datasource is named by a uid of someone's Grafana: every reference goes through the variable
    raw = json.dumps(dashboard)
    assert set(re.findall(r'"uid": "([^"]*)"', raw)) == {"${datasource}", dashboard["uid"]}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not mine & cells, "%s overlaps another panel" % panel["title"]
        cells |= mine
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)) and all(t.get("datasource", DATASOURCE) == DATASOURCE for t in panel["targets"])
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for wanted in ("per node", "per az and service", "last run age", "clock skew"):
        assert wanted in titles


@pytest.mark.integration
def test_queries_use_only_metrics_the_textfile_has(real_runs):
    written = set()
    for _, text in real_runs.values():
        written |= metric_names(text)
    for where, expr in queries(load()):
        used = promql_metric_names(expr) - {"availability_zone"}  # label_values' second argument is a label
        assert used and used <= written, "%s reads %s, the textfile has no such metric" % (where, sorted(used - written))


def matches(labels, matchers):
    for name, op, value in matchers:
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value, "=~": re.fullmatch(value, have) is not None,
              "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


@pytest.mark.integration
def test_every_selector_selects_series_of_a_real_textfile(real_runs):
    """What a panel selects (name and label matchers, "All" AZs) exists in what the tool wrote."""
    rows = [row for _, text in real_runs.values() for row in samples(text)]
    for where, expr in queries(load()):
        for name, body in re.findall(r"\b(vpce_doctor_\w+)(?:\{([^}]*)\})?", expr.replace("$az", ".*")):
            matchers = re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', body or "")
            assert any(n == name and matches(labels, matchers) for n, labels, _ in rows), (where, name, body)


def panel_expr(dashboard, title):
    [panel] = [p for p in dashboard["panels"] if p["title"] == title]
    return panel["targets"][0]["expr"].replace("$az", ".*")  # the variable's "All" value


@pytest.mark.integration
def test_panels_evaluated_by_promtool_on_the_fleet(real_runs, tmp_path):
    """The dashboard's own queries, run by Prometheus' engine (promtool test rules) over the series
    of six nodes built from real runs: the AZ pattern, the counts, the stale node, the findings."""
    dashboard = load()
    stale = [instance for instance, _, _, step in FLEET if step == 0]
    expected = {
        "Failing nodes per AZ and service": [{"labels": '{availability_zone="us-east-1c", service="sts"}', "value": 2}],
        "Nodes reporting": [{"labels": "{}", "value": len(FLEET)}],
        "Nodes critical": [{"labels": "{}", "value": 4}],  # both in c, the clock and the proxy in b
        "Nodes unknown": [{"labels": "{}", "value": 0}],
        "Oldest report": [{"labels": "{}", "value": 90 * 60}],  # the stopped timer's node, at 90 minutes
        "Current findings": [
            {"labels": '{code="port_blocked", service="sts", severity="critical"}', "value": 2},
            {"labels": '{code="port_blocked", service="logs", severity="warning"}', "value": 2},
            {"labels": '{code="clock_skew", severity="critical"}', "value": 1},
            # the skewed node can neither read the gateway's policy nor pull: the layer bucket stays unproven
            {"labels": '{code="layer_bucket_unverified", service="s3", severity="info"}', "value": 1},
            {"labels": '{code="proxy_bypass_missing", severity="critical"}', "value": 1}],
        "Last run age": [
            {"labels": '{availability_zone="%s", instance="%s", job="node"}' % (az, instance),
             "value": 90 * 60 if instance in stale else 0} for instance, _, az, _ in FLEET],
    }
    tests = {"evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": fleet_series(real_runs, minutes=100),
        "promql_expr_test": [{"expr": panel_expr(dashboard, title), "eval_time": "90m", "exp_samples": samples_}
                             for title, samples_ in expected.items()]}]}
    path = tmp_path / "dashboard.test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    done = subprocess.run([promtool_path(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
