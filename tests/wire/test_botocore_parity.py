"""The agent reads AWS's errors as botocore does: for every wire corpus answer in a protocol
botocore parses, the agent's (code, message) equals botocore's own response parser's. botocore
is the reference here, never a runtime dependency of the check path."""
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from vpce_doctor.checks.probes import aws_errors
from vpce_doctor.demo import wire

BOTOCORE_PROTOCOLS = ("ec2", "query", "json", "rest-json", "rest-xml")


def parser_protocol(entry):
    recorded = entry.notes.get("botocore") if isinstance(entry.notes.get("botocore"), dict) else {}
    protocol = entry.botocore_protocol or recorded.get("parser") or entry.protocol
    return protocol if protocol in BOTOCORE_PROTOCOLS else None


def values(entry):
    # a JSON number on the wire for {expires_at}; everything else as text
    return {name: "1700000000" if name == "expires_at" else "v-%s" % name for name in entry.placeholders}


ERRORS = sorted(e.id for e in wire.corpus().values() if e.status >= 300 and e.body and parser_protocol(e))


def botocore_error(protocol, status, headers, body):
    parsed = create_parser(protocol).parse({"status_code": status, "headers": HeadersDict(headers), "body": body}, None)
    error = parsed.get("Error", {})
    code = error.get("Code") or None
    # botocore falls back on the HTTP status where the body has no code: the agent then has none
    return (None if code == str(status) else code), error.get("Message", "")


def test_every_error_protocol_is_checked():
    assert len(ERRORS) >= 40


@pytest.mark.parametrize("entry_id", ERRORS)
def test_error_code_and_message_equal_botocores(entry_id):
    entry = wire.corpus()[entry_id]
    protocol = parser_protocol(entry)
    status, headers, body = entry.render(**values(entry))
    lowered = {k.lower(): v for k, v in headers.items()}
    code, message, _ = aws_errors.parse_error(body, lowered, protocol)
    expected_code, expected_message = botocore_error(protocol, status, lowered, body)
    assert (code, message) == (expected_code, expected_message)


@pytest.mark.parametrize("entry_id", sorted(e.id for e in wire.corpus().values()
                                            if e.status >= 300 and e.protocol == "registry"))
def test_registry_errors_as_the_distribution_spec_writes_them(entry_id):
    """The registry is not a botocore protocol: its JSON errors[0] code and message, as the entry records them."""
    entry = wire.corpus()[entry_id]
    status, headers, body = entry.render(**values(entry))
    code, message, _ = aws_errors.parse_error(body, {k.lower(): v for k, v in headers.items()})
    filled = entry.render(**values(entry))  # the recorded message with the same values filled in
    expected = wire.WireEntry(**dict(entry.__dict__, body=entry.message, headers={})).render(**values(entry))[2].decode()
    assert code == entry.code and message == (expected if entry.code else message), (code, message)
    assert filled[0] == status
