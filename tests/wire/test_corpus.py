"""The wire corpus itself: every entry has a public source or says why there is none, renders
into a complete answer, and the corpus covers what issue 18 names."""
import datetime
import json
import re

import pytest

from vpce_doctor.demo import wire

CORPUS = wire.corpus()
# status 0: no HTTP answer (a timeout), or nothing public shows one; a doc_note records what a page says
ANSWERS = [e for e in CORPUS.values() if e.status and e.case != "doc_note"]


def test_the_corpus_is_large_enough_and_ids_name_their_protocol():
    assert len(ANSWERS) >= 40
    for entry in CORPUS.values():
        assert entry.id.split("/")[0] in (entry.protocol, "common", "s3" if entry.protocol == "rest-xml" else ""), entry.id


@pytest.mark.parametrize("entry_id", sorted(CORPUS))
def test_every_entry_has_a_source_or_says_why_not(entry_id):
    entry = CORPUS[entry_id]
    source = entry.source or {}
    assert source.get("url", "").startswith("https://") and source.get("evidence"), entry_id
    datetime.date.fromisoformat(source["read"])  # the date it was read
    if not entry.status:
        assert entry.no_source or entry.notes.get("notes"), "%s has no answer and does not say why" % entry_id
    if entry.no_source is not None:
        assert len(entry.no_source) > 20


@pytest.mark.parametrize("entry_id", sorted(e.id for e in ANSWERS))
def test_every_answer_renders_whole(entry_id):
    entry = CORPUS[entry_id]
    status, headers, body = entry.render(**{name: "v-%s" % name for name in entry.placeholders})
    assert status == entry.status and "{" + "request_id}" not in body.decode()
    assert not re.search(r"\{[a-z_]+\}", body.decode() + "".join(headers.values()))
    with pytest.raises(KeyError):
        if entry.placeholders:
            entry.render()
        else:
            raise KeyError("nothing to miss")


def _has(case, protocol=None):
    return [e for e in ANSWERS if e.case == case and (protocol is None or e.protocol == protocol)]


@pytest.mark.parametrize("case,protocols", [
    ("success", ("ec2", "query", "json", "rest-json", "rest-xml", "registry")),
    ("identity_denied", ("ec2", "query", "json", "rest-json", "registry")),
    ("endpoint_denied", ("ec2", "query", "json", "rest-xml", "registry")),
    ("scp_denied", ("ec2", "query", "json")),
    ("rcp_denied", ("query", "json")),
    ("denied_no_policy_type", ("ec2", "rest-xml")),
    ("clock_skew", ("ec2", "query", "json", "rest-json", "rest-xml")),
    ("throttled", ("ec2", "query", "json", "rest-json", "rest-xml")),
    ("registry_unauthenticated", ("registry",)),
    ("unknown_operation", ("frontend",)),
    ("missing_authentication", ("frontend",)),
])
def test_the_corpus_covers_each_case_per_protocol(case, protocols):
    for protocol in protocols:
        assert _has(case, protocol), "no %s answer for %s" % (case, protocol)


def test_both_endpoint_policy_wordings_and_the_throttling_list():
    messages = " ".join(e.message for e in _has("endpoint_denied"))
    assert "because no VPC endpoint policy allows" in messages and "with an explicit deny in a VPC endpoint policy" in messages
    codes = {e.code for e in _has("throttled")}
    assert {"LimitExceededException", "ProvisionedThroughputExceededException", "BandwidthLimitExceeded",
            "PriorRequestNotComplete", "EC2ThrottledException", "TransactionInProgressException"} <= codes
    assert any("x-amzn-query-error" in {k.lower() for k in e.headers} for e in _has("throttled", "json"))
    assert {e.status for e in CORPUS.values() if e.protocol == "imds"} >= {400, 401, 403, 404}


def test_the_registry_401_is_ecrs_plain_text_not_json():
    status, headers, body = wire.answer("registry/v2-unauthenticated", account="111122223333", region="eu-west-1")
    assert status == 401 and headers["Content-Type"].startswith("text/plain") and body == b"Not Authorized\n"
    assert headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    with pytest.raises(ValueError):
        json.loads(body)
