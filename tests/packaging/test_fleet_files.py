"""Lint what cannot run here: the SSM Command document, the Bottlerocket image recipe and
its Kubernetes manifests. Every vpce-doctor command line in them must parse with the real CLI."""
import json
import os
import re
import shlex

import yaml

from vpce_doctor.cli import build_parser

from ..conftest import ROOT

PACKAGING = os.path.join(ROOT, "packaging")


def parses(args):
    parsed = build_parser().parse_args(args)
    assert parsed.command in ("check", "tui", "view", "fleet", "services")
    return parsed


def test_ssm_document():
    with open(os.path.join(PACKAGING, "ssm", "vpce-doctor-run.json")) as handle:
        doc = json.load(handle)
    assert doc["schemaVersion"] == "2.2"
    [step] = doc["mainSteps"]
    assert step["action"] == "aws:runShellScript" and int(step["inputs"]["timeoutSeconds"]) <= 600
    script = "\n".join(step["inputs"]["runCommand"])
    used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", script))
    assert used == set(doc["parameters"]) and all(p["type"] == "String" for p in doc["parameters"].values())
    aws_calls = re.findall(r"\baws (\S+ \S+)", script)
    assert aws_calls == ["s3 cp", "s3 cp"]  # fetch the archive, upload the report: nothing else touches AWS
    line = next(l for l in step["inputs"]["runCommand"] if 'vpce-doctor.pex" check ' in l)
    check = line.split('vpce-doctor.pex" ', 1)[1].replace("{{ ExtraArguments }}", "")
    assert parses(shlex.split(check.replace('"$work/report.json"', "report.json"))).format == "json"


def test_bottlerocket_manifests():
    with open(os.path.join(PACKAGING, "bottlerocket", "daemonset.yaml")) as handle:
        docs = list(yaml.safe_load_all(handle))
    assert [d["kind"] for d in docs] == ["DaemonSet", "Job"]
    for doc in docs:
        pod = doc["spec"]["template"]["spec"]
        assert pod["hostNetwork"] is True and pod["hostPID"] is True and pod["automountServiceAccountToken"] is False
        [container] = pod["containers"]
        security = container["securityContext"]
        assert security["capabilities"] == {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert container["resources"]["limits"]["memory"]
        volumes = {v["name"] for v in pod["volumes"]}
        assert {m["name"] for m in container["volumeMounts"]} <= volumes
    daemon = docs[0]["spec"]["template"]["spec"]["containers"][0]["args"][0]
    parses(shlex.split(daemon.split(".pex", 1)[1].split(";")[0]))
    parses(docs[1]["spec"]["template"]["spec"]["containers"][0]["args"])


def test_containerfile():
    with open(os.path.join(PACKAGING, "bottlerocket", "Containerfile")) as handle:
        lines = [l for l in handle.read().splitlines() if l and not l.startswith("#")]
    assert lines[0].startswith("FROM ") and any(l.startswith("COPY dist/vpce-doctor.pex ") for l in lines)
    entry = json.loads(next(l for l in lines if l.startswith("ENTRYPOINT "))[len("ENTRYPOINT "):])
    assert entry[-1].endswith("vpce-doctor.pex")
    parses(json.loads(next(l for l in lines if l.startswith("CMD "))[len("CMD "):]))
