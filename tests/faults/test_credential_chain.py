"""The credential chain stays inside --allow-net and the deadline: web identity, SSO, credential_process
and assume-role profiles are not used, and a container endpoint outside --allow-net is never contacted.
The run then signs with the instance role discovery read from IMDS."""
import pytest

from .conftest import aws_ok
from .hostile import ENDPOINT_IP, RawServer, good_credentials, http_answer

pytestmark = pytest.mark.integration


def test_providers_that_call_out_or_run_programs_are_not_used(node, servers, good_tls, tmp_path):
    ran = tmp_path / "credential_process_ran"
    token = tmp_path / "web-identity-token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.sig")
    config = tmp_path / "config"
    config.write_text(
        "[default]\ncredential_process = /bin/sh -c 'touch %s'\nsso_start_url = https://portal.example/start\n"
        "sso_account_id = 111122223333\nsso_role_name = r\nsso_region = us-east-1\n"
        "[profile assumer]\nrole_arn = arn:aws:iam::111122223333:role/x\ncredential_source = Ec2InstanceMetadata\n"
        % ran)
    outside = servers(RawServer("127.78.0.5", lambda request, index: http_answer(200, b"{}", "application/json")))
    endpoint = servers(RawServer(ENDPOINT_IP, aws_ok, good_tls))
    node.https_port = endpoint.port
    node.env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/web",
                "AWS_CONFIG_FILE": str(config),
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.78.0.5:%d/creds" % outside.port,
                # were a provider ever to call STS or SSO, it would reach this loopback server, never the internet
                "AWS_ENDPOINT_URL": "http://127.78.0.5:%d" % outside.port,
                "AWS_ENDPOINT_URL_STS": "http://127.78.0.5:%d" % outside.port}
    args = node.args()
    args[args.index("--allow-net") + 1] = "127.77.0.0/16"
    outcome = node.run(*args)
    assert outcome.report["status"] == "ok", outcome.report["findings"]
    assert not ran.exists(), "credential_process ran"
    assert outside.requests == [], "something outside --allow-net was contacted: %s" % [
        r.path for r in outside.requests]
    imds_key = good_credentials()["AccessKeyId"]
    assert all("Credential=%s/" % imds_key in r.headers.get("authorization", "") for r in endpoint.requests)
    assert endpoint.requests


def test_a_special_file_as_shared_credentials_is_skipped(node, servers, good_tls, tmp_path):
    """botocore would block on a FIFO or read /dev/zero forever: the source is skipped, IMDS signs."""
    import os

    fifo = tmp_path / "credentials"
    os.mkfifo(str(fifo))
    endpoint = servers(RawServer(ENDPOINT_IP, aws_ok, good_tls))
    node.https_port = endpoint.port
    for path in (str(fifo), "/dev/zero"):
        node.env = {"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_CONFIG_FILE": path}
        outcome = node.run()
        assert outcome.report["status"] == "ok"
    imds_key = good_credentials()["AccessKeyId"]
    assert all("Credential=%s/" % imds_key in r.headers.get("authorization", "") for r in endpoint.requests)
