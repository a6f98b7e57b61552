"""IMDS faults: the instance metadata service answers in one hostile way per case. The region,
account and VPC CIDR come from flags (as an operator passes them when IMDS is broken), so the run
goes on; each case names what it must become: imds_unreachable, no_credentials, or an explicit note.
Never an internal error, never past the deadline."""
import json

import pytest

from .hostile import (RawServer, drip, good_credentials, http_answer, imds_documents, imds_responder, reset,
                      silence)

pytestmark = pytest.mark.integration

GOOD = imds_documents(good_credentials())
CREDS = "/latest/meta-data/iam/security-credentials/node-role"
IDENTITY = "/latest/dynamic/instance-identity/document"


def with_doc(path, text):
    return dict(GOOD, **{path: text})


def http09(request, index):
    return b"just some bytes, no status line\n"


def redirect(request, index):
    return http_answer(301, b"", "text/plain", {"Location": "http://192.0.2.1/latest/api/token"})


# case -> (how IMDS answers, expected finding codes, what the report's IMDS facts must say)
IMDS_CASES = {
    "token_refused_v1_off": (lambda: imds_responder(GOOD, token_status=403), ["imds_unreachable", "no_credentials"],
                             "refused the token call"),
    "token_404": (lambda: imds_responder(GOOD, token_status=404), ["imds_unreachable", "no_credentials"], "HTTP 404"),
    "token_500": (lambda: imds_responder(GOOD, token_status=500), ["imds_unreachable", "no_credentials"], "HTTP 500"),
    "token_refused_v1_on": (lambda: imds_responder(GOOD, token_status=403, v1=True), [], None),
    "credentials_not_json": (lambda: imds_responder(with_doc(CREDS, "{not json")), ["no_credentials"], "not JSON"),
    "credentials_wrong_shape": (lambda: imds_responder(with_doc(CREDS, json.dumps(["AccessKeyId"]))),
                                ["no_credentials"], "not a JSON object"),
    "credentials_token_a_number": (lambda: imds_responder(with_doc(CREDS, json.dumps(
        dict(good_credentials(), Token=12345)))), ["no_credentials"], "Token"),
    "credentials_code_failure": (lambda: imds_responder(with_doc(CREDS, json.dumps(
        dict(good_credentials(), Code="AssumeRoleUnauthorizedAccess")))), ["no_credentials"], "Code"),
    "identity_wrong_types": (lambda: imds_responder(with_doc(IDENTITY, json.dumps(
        {"region": 5, "availabilityZone": ["a"], "instanceId": None, "accountId": 111122223333}))), [],
        "wrong type ignored: region (int), availabilityZone (list), accountId (int)"),
    "identity_huge": (lambda: imds_responder(with_doc(IDENTITY, "{" + " " * (3 << 20) + "}")), [],
                      "not JSON"),
    "token_with_header_injection": (lambda: imds_responder(GOOD, token_body=b"tok\r\nX-Injected: 1"),
                                    ["no_credentials"], "later read failed"),
    "slow_drip": (lambda: (lambda request, index: drip(http_answer(200, b"imds-token-0123"), every=0.3)),
                  ["imds_unreachable", "no_credentials"], None),
    "redirect": (lambda: redirect, ["imds_unreachable", "no_credentials"], "HTTP 301"),
    "http_0_9": (lambda: http09, ["imds_unreachable", "no_credentials"], "BadStatusLine"),
    "silence": (lambda: (lambda request, index: silence(8.0)), ["imds_unreachable", "no_credentials"], "timed out"),
    "reset": (lambda: (lambda request, index: reset), ["imds_unreachable", "no_credentials"], "Connection"),
}


@pytest.mark.parametrize("case", sorted(IMDS_CASES))
def test_hostile_imds(case, node, servers):
    make, codes, says = IMDS_CASES[case]
    imds = servers(RawServer("127.77.0.250", make()))
    node.imds_url = "http://127.77.0.250:%d" % imds.port
    outcome = node.run()
    assert outcome.codes == codes, (outcome.report["findings"], outcome.report["node"]["imds"])
    facts = outcome.report["node"]["imds"]
    if says is not None:
        assert says in (facts.get("error") or ""), facts
    if not codes:
        assert outcome.report["status"] == "ok"
    else:
        assert outcome.report["status"] == "warn" and outcome.returncode == 1
