"""FAULTS.md stays true: every test it cites exists, every case key it names is in its table, and
the groups hold at least the classes the issue asks for."""
import ast
import os
import re

from vpce_doctor.demo.scenarios import SCENARIOS

from ..conftest import ROOT

SHORT = {"dns": "tests/faults/test_dns_faults.py", "imds": "tests/faults/test_imds_faults.py",
         "tls": "tests/faults/test_tls_faults.py", "api": "tests/faults/test_api_faults.py",
         "input": "tests/faults/test_input_faults.py", "secrets": "tests/faults/test_secret_scan.py",
         "chain": "tests/faults/test_credential_chain.py",
         "runner": "tests/integration/test_runner.py", "scenarios": "tests/integration/test_scenarios.py",
         "C": "tests/faults/test_consumers.py", "O": "tests/faults/test_output.py"}


def _rows():
    text = open(os.path.join(ROOT, "FAULTS.md"), encoding="utf-8").read()
    group, rows = None, []
    for line in text.splitlines():
        if line.startswith("## "):
            group = line[3:].strip()
        elif line.startswith("| ") and not line.startswith(("| class", "|---")) and group:
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append((group, cells))
    return rows


def _functions(path):
    tree = ast.parse(open(os.path.join(ROOT, path), encoding="utf-8").read())
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_cited_test_and_case_exists():
    problems = []
    for group, cells in _rows():
        cited = cells[-1]
        current = None
        for token in re.findall(r"[\w./]+\.py(?:::\w+)?|\b(?:%s)\b|`[^`]+`" % "|".join(SHORT), cited):
            token = token.strip("`")
            if token in SHORT:
                current = SHORT[token]
                continue
            if token.startswith("tests/"):
                path, _, name = token.partition("::")
                current = path
                if name and name not in _functions(path):
                    problems.append("%s: no %s in %s" % (cells[0], name, path))
                continue
            name, _, param = token.partition("[")
            source = open(os.path.join(ROOT, current), encoding="utf-8").read() if current else ""
            if name and name.startswith("test_") and name not in _functions(current):
                problems.append("%s: no %s in %s" % (cells[0], name, current))
            for key in re.findall(r"[\w.-]+", param.rstrip("]")) if param else []:
                if current.endswith("test_scenarios.py"):
                    if key not in SCENARIOS:
                        problems.append("%s: no scenario %r" % (cells[0], key))
                elif '"%s"' % key not in source and "'%s'" % key not in source:
                    problems.append("%s: case %r not in %s" % (cells[0], key, current))
    assert not problems, "\n".join(problems)


def test_groups_hold_enough_classes():
    counts = {}
    for group, _ in _rows():
        counts[group] = counts.get(group, 0) + 1
    assert counts["DNS"] >= 12 and counts["IMDS"] >= 10 and counts["TLS"] >= 7 and counts["HTTP/API"] >= 10
    assert counts["Operator input"] >= 15
    assert counts["Report consumers"] >= 10 and counts["Output"] >= 10
    assert sum(counts.values()) >= 100, counts
