"""Answers as AWS (and things that are not AWS) really send them: classification, parsing, skew."""
import pytest

from vpce_doctor.agent.components import mask_userinfo
from vpce_doctor.agent.redact import Redactor
from vpce_doctor.checks.probes import aws_call

ROLE = "arn:aws:sts::111122223333:assumed-role/node-role/i-0fa17"


@pytest.mark.parametrize("status,code,message,path_only,shaped,outcome", [
    (403, "AccessDenied", "User: %s is not authorized to perform: sts:GetCallerIdentity because no VPC endpoint "
     "policy allows the sts:GetCallerIdentity action" % ROLE, False, True, aws_call.POLICY_DENIED),
    (403, "AccessDeniedException", "User: %s is not authorized to perform: ecr:X with an explicit deny in a VPC "
     "endpoint policy: arn:aws:ec2:us-east-1:111122223333:vpc-endpoint/vpce-0abc" % ROLE, False, True,
     aws_call.POLICY_DENIED),
    (403, "DENIED", "denied: User: %s is not authorized to perform: ecr:BatchGetImage because no VPC endpoint policy "
     "allows the ecr:BatchGetImage action" % ROLE, True, True, aws_call.POLICY_DENIED),
    # the words without IAM's phrase name no policy type
    (403, "AccessDenied", "see the VPC endpoint policy documentation", False, True, aws_call.ACCESS_DENIED),
    (403, "AccessDenied", "User: %s is not authorized to perform: ec2:X because no identity-based policy allows the "
     "ec2:X action" % ROLE, False, True, aws_call.IAM_DENIED),
    (403, "AccessDenied", "User: %s is not authorized to perform: ec2:X because no permissions boundary allows the "
     "ec2:X action" % ROLE, False, True, aws_call.IAM_DENIED),
    (403, "AccessDenied", "User: %s is not authorized to perform: ec2:X with an explicit deny in a service control "
     "policy" % ROLE, False, True, aws_call.ORG_DENIED),
    (403, "AccessDenied", "User: %s is not authorized to perform: s3:X because no resource control policy allows "
     "the s3:X action" % ROLE, False, True, aws_call.ORG_DENIED),
    (403, "UnauthorizedOperation", "You are not authorized to perform this operation.", False, True,
     aws_call.ACCESS_DENIED),
    (403, "AccessDenied", "User: %s is not authorized to perform: ec2:X on resource: arn:aws:ec2:::*" % ROLE, False,
     True, aws_call.ACCESS_DENIED),
    (403, None, "because no VPC endpoint policy allows", False, False, aws_call.UNPARSEABLE),
    (400, "Throttling", "Rate exceeded", False, True, aws_call.THROTTLED),
    (400, "LimitExceededException", "Rate exceeded", False, True, aws_call.THROTTLED),
    (503, "EC2ThrottledException", "", False, True, aws_call.THROTTLED),
    (503, "SlowDown", "", False, True, aws_call.THROTTLED),
    (429, None, "", False, True, aws_call.THROTTLED),
    (503, None, "", False, True, aws_call.SERVER_ERROR),
    (200, None, "", False, False, aws_call.UNPARSEABLE),
    (400, None, "", False, True, aws_call.UNPARSEABLE),
    (400, "OptInRequired", "", False, True, aws_call.UNEXPECTED),
    (403, "RequestTimeTooSkewed", "", False, True, aws_call.CLOCK_SKEW),
    (400, "RequestExpired", "Request has expired.", False, True, aws_call.CLOCK_SKEW),
    # path-only probes: any answer proves the path, whatever its shape or status
    (401, None, "Not Authorized", True, False, aws_call.REACHED),
    (403, "AccessDenied", "Access Denied", True, True, aws_call.REACHED),
    (404, "UnknownOperationException", "", True, True, aws_call.REACHED),
    (503, None, "", True, False, aws_call.REACHED),
    (429, None, "", True, True, aws_call.REACHED),
])
def test_classify(status, code, message, path_only, shaped, outcome):
    assert aws_call.classify(status, code, message, path_only, shaped) == outcome


@pytest.mark.parametrize("code,date_skew,outcome", [
    ("AuthFailure", -600.0, aws_call.CLOCK_SKEW),
    ("AuthFailure", 900.0, aws_call.CLOCK_SKEW),
    ("AuthFailure", 30.0, aws_call.INVALID_CREDENTIALS),
    ("AuthFailure", None, aws_call.INVALID_CREDENTIALS),
    ("InvalidSignatureException", 400.0, aws_call.CLOCK_SKEW),
    ("InvalidClientTokenId", 900.0, aws_call.INVALID_CREDENTIALS),
])
def test_auth_rejection_with_a_skewed_date_is_the_clock(code, date_skew, outcome):
    message = "AWS was not able to validate the provided access credentials"
    assert aws_call.classify(401, code, message, date_skew=date_skew) == outcome


@pytest.mark.parametrize("body,headers,shaped,code", [
    (b"<!DOCTYPE html><html><body>login</body></html>", {"content-type": "text/html"}, False, None),
    (b'{"__type":"x#ThrottlingException","message":"m"}', {"content-type": "text/html"}, True, "ThrottlingException"),
    ('<Error><Code>AccessDenied</Code><Message>m</Message></Error>'.encode("utf-16"), {}, True, "AccessDenied"),
    (b'{"errors":[{"code":"DENIED","message":"denied: m"}]}', {}, True, "DENIED"),
    (b"\x00\x01\x02binary", {}, False, None),
    (b"{not json", {}, False, None),
    (b'{"message": 5, "__type": ["x"]}', {}, True, None),
])
def test_parse_error(body, headers, shaped, code):
    found_code, message, aws_shaped = aws_call.parse_error(body, headers)
    assert (aws_shaped, found_code) == (shaped, code)
    assert isinstance(message, str)


def test_skew_from_sigv4_messages_and_s3_times():
    expired = "Signature expired: 20151221T200419Z is now earlier than 20151221T201450Z (20151221T201950Z - 5 min.)"
    assert aws_call.skew_from_error(b"", {}, expired) == 931.0
    future = ("Signature not yet current: 20191029T174844Z is still later than 20191029T171344Z "
              "(20191029T165844Z + 15 min.)")
    assert aws_call.skew_from_error(b"", {}, future) == -3000.0
    s3 = (b"<Error><Code>RequestTimeTooSkewed</Code><RequestTime>20150604T232559Z</RequestTime>"
          b"<ServerTime>2015-06-04T22:26:16Z</ServerTime><MaxAllowedSkewMilliseconds>900000"
          b"</MaxAllowedSkewMilliseconds></Error>")
    assert aws_call.skew_from_error(s3, {}, "The difference ... is too large.") == -3583.0
    assert aws_call.skew_from_error(b"", {}, "Request has expired.") is None


def test_known_secret_masked_before_the_cut_and_its_prefix_after_one():
    class Creds:
        access_key, secret_key, token = "ASIAEXAMPLEEXAMPLE00", "s" * 40, "IQoJb3JpZ2luX2VjE" + "t" * 300

    assert aws_call._mask_known("echo " + Creds.token + " end", Creds) == "echo *** end"
    cut = ("x" * 380 + Creds.token)[:400]
    assert Redactor.for_credentials(Creds).text(cut) == "x" * 380 + "***"
    assert Redactor.for_credentials(Creds).text(cut + "...") == "x" * 380 + "***..."
    assert Redactor.for_credentials(Creds).text("x IQoJb3J y") == "x IQoJb3J y"  # too short to be telling


@pytest.mark.parametrize("url,masked", [
    ("http://user:s3cret@proxy:3128", "http://***@proxy:3128"),
    ("user:pw@proxy:3128", "***@proxy:3128"),
    ("http://u:p@ss@proxy:3128/x@y", "http://***@proxy:3128/x@y"),
    ("http://proxy:3128", "http://proxy:3128"),
])
def test_proxy_userinfo_masked(url, masked):
    assert mask_userinfo(url) == masked
    assert "s3cret" not in Redactor().text("proxy is %s" % url)


def test_every_server_string_is_masked_where_it_is_read():
    """A server may echo the request's token in any header an error carries (x-amzn-ErrorType,
    x-amzn-query-error): the code read from it is masked like the message, before anything keeps it."""
    class Creds:
        access_key, secret_key, token = "ASIAEXAMPLEEXAMPLE00", "s" * 40, "IQoJb3JpZ2luX2VjE" + "t" * 300

    headers = {"x-amzn-errortype": "com.amazon.coral.service#" + Creds.token}
    code, message = aws_call.error_fields(b'{"message": "no"}', headers, Creds, "rest-json")
    assert code == "***" and message == "no"
    headers = {"x-amzn-query-error": Creds.token + ";Sender"}
    code, _ = aws_call.error_fields(b'{"__type": "AccessDeniedException", "message": "no"}', headers, Creds, "json")
    assert code == "***"
