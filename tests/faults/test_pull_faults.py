"""The image pull against real loopback servers (TLS with the test CA, the real command line): the
registry's and the layer bucket's answers from the wire corpus, and hostile ones: a registry and an
S3 that echo the token and the presigned query, a redirect elsewhere, a layer bucket that never
answers. Each case ends within its deadline with the finding it names, and no secret in the output."""
import base64
import json
from urllib.parse import urlsplit

import pytest

from .hostile import ENDPOINT_IP, RawServer, http_answer, silence, wire_answer

pytestmark = pytest.mark.integration

IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"
LAYER_HOST = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
PASSWORD = "PULLPASSMARK-0123456789"
TOKEN = base64.b64encode(("AWS:%s" % PASSWORD).encode()).decode()
SIGNATURE = "PRESIGNMARK0123456789abcdef"
LOCATION = ("https://%s/layers/abc?X-Amz-Security-Token=PRESIGNMARK-token&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Signature=%s" % (LAYER_HOST, SIGNATURE))
SECRETS = (TOKEN, PASSWORD, "PRESIGNMARK")


def registry(layer=None, manifest=None, location=LOCATION, index=True):
    """ecr.api, the registry and the layer bucket on one endpoint (the node's DNS answers every name with it)."""
    def respond(request, index_):
        host = request.headers.get("host", "").split(":")[0]
        path = urlsplit(request.path).path
        if request.headers.get("x-amz-target", "").endswith("GetAuthorizationToken"):
            return http_answer(200, json.dumps({"authorizationData": [{
                "authorizationToken": TOKEN, "expiresAt": 4102444800,
                "proxyEndpoint": "https://111122223333.dkr.ecr.us-east-1.amazonaws.com"}]}).encode(),
                "application/x-amz-json-1.1")
        if host == LAYER_HOST:
            return layer(request) if layer else wire_answer(
                "s3/range-0-0-partial-content", size="16724", etag="e", http_date="x", request_id="r", host_id="h",
                first_byte="\x1f")
        if "/manifests/" in path:
            if manifest:
                return manifest(request)
            digest = path.rsplit("/", 1)[1].startswith("sha256:")
            return wire_answer("registry/manifest-oci" if digest or not index else "registry/manifest-oci-index",
                               digest="sha256:0", architecture="amd64" if not digest else "x")
        if "/blobs/" in path:
            return http_answer(307, b"", "text/plain", {"Location": location})
        return wire_answer("registry/v2-unauthenticated", account="111122223333", region="us-east-1")
    return respond


@pytest.fixture
def pulling(node, servers, good_tls):
    def start(respond):
        endpoint = servers(RawServer(ENDPOINT_IP, respond, good_tls))
        node.https_port, node.services = endpoint.port, "ecr.api,ecr.dkr,s3"
        node.extra = ["--image", IMAGE]
        return endpoint
    return start


def _layer_requests(endpoint):
    return [r for r in endpoint.requests if r.headers.get("host", "").split(":")[0] == LAYER_HOST and r.path != "/"]


def _no_secrets(outcome):
    for secret in SECRETS:
        assert secret not in outcome.stdout and secret not in outcome.stderr, secret


def _pull(outcome):
    return outcome.report["node_checks"]["image_pull"]["pulls"][0]


def test_a_healthy_pull_reads_one_byte_with_the_token_and_no_secret_shows(node, pulling, monkeypatch):
    endpoint = pulling(registry())
    outcome = node.run()
    pull = _pull(outcome)
    assert pull["outcome"] == "ok", pull
    assert [s["step"] for s in pull["steps"]][0] == "token" and pull["steps"][-1]["http_status"] == 206
    registry_requests = [r for r in endpoint.requests if "/v2/team/app/" in r.path]
    assert registry_requests and all(r.headers.get("authorization") == "Basic " + TOKEN for r in registry_requests)
    assert "application/vnd.oci.image.index.v1+json" in registry_requests[0].headers.get("accept", "")
    layer = _layer_requests(endpoint)
    assert len(layer) == 1 and layer[0].headers.get("range") == "bytes=0-0"
    assert "authorization" not in layer[0].headers  # the presigned query signs it
    assert all("?" not in (s["path"] or "") for s in pull["steps"])
    _no_secrets(outcome)


def test_a_layer_bucket_403_echoing_the_presigned_query_is_the_gateway_policy_and_masked(node, pulling):
    def echo(request):
        body = ("<Error><Code>AccessDenied</Code><Message>Access Denied for %s</Message></Error>" % request.path).encode()
        return http_answer(403, body, "application/xml")
    pulling(registry(layer=echo))
    outcome = node.run()
    assert "layer_bucket_denied" in outcome.codes
    assert _pull(outcome)["steps"][-1]["outcome"] == "access_denied"
    _no_secrets(outcome)


def test_a_registry_denial_echoing_the_authorization_header_is_masked(node, pulling):
    def denied(request):
        message = "denied: %s may not pull (Authorization: %s) because no identity-based policy allows the " \
                  "ecr:BatchGetImage action" % ("arn:aws:sts::111122223333:assumed-role/node/i", request.headers.get(
                      "authorization"))
        return http_answer(403, json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode(),
                           "application/json; charset=utf-8")
    pulling(registry(manifest=denied))
    outcome = node.run()
    assert "image_pull_denied" in outcome.codes
    step = _pull(outcome)["steps"][-1]
    assert step["denied_by"] == "identity-based policy" and "***" in step["message"]
    _no_secrets(outcome)


def test_a_redirect_anywhere_but_the_layer_bucket_is_not_followed(node, pulling):
    endpoint = pulling(registry(location="https://elsewhere.example.com/x?X-Amz-Signature=" + SIGNATURE))
    outcome = node.run()
    pull = _pull(outcome)
    assert pull["outcome"] == "failed" and pull["steps"][-1]["step"] == "blob"
    assert "not followed" in pull["steps"][-1]["message"] and "image_pull_failed" in outcome.codes
    assert not [r for r in endpoint.requests if "elsewhere" in r.headers.get("host", "")]
    _no_secrets(outcome)


def test_a_layer_bucket_that_never_answers_is_bounded_and_named(node, pulling):
    pulling(registry(layer=lambda request: silence(8.0)))
    outcome = node.run()
    step = _pull(outcome)["steps"][-1]
    assert step["step"] == "layer" and step["outcome"] == "timeout", step
    assert "layer_bucket_unreachable" in outcome.codes
    _no_secrets(outcome)


def test_an_index_without_this_platform_fails_at_the_manifest(node, pulling):
    def other_platform(request):
        return wire_answer("registry/manifest-oci-index", digest="sha256:0", architecture="s390x")
    pulling(registry(manifest=other_platform))
    outcome = node.run()
    step = _pull(outcome)["steps"][-1]
    assert step["step"] == "manifest" and "no manifest for linux/" in step["message"]
    assert "image_pull_failed" in outcome.codes


def test_no_api_skips_the_pull(node, pulling):
    endpoint = pulling(registry())
    node.extra = node.extra + ["--no-api"]
    outcome = node.run()
    assert outcome.report["node_checks"]["image_pull"] == {"pulls": [], "note": "--no-api"}
    assert not [r for r in endpoint.requests if "/v2/team/" in r.path or r.method == "POST"]
