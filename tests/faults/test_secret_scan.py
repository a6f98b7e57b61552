"""The secret scan: markers seeded in every credential source (IMDS role credentials, AWS_*
environment, a shared credentials file, a container credentials endpoint, a proxy URL with a
password in a fake kubelet's environment, an ECR authorization token in an answer), an image pull whose registry echoes the ECR token and whose
layer bucket echoes the presigned URL, an endpoint that
echoes the request's token and signature back in its error messages (with the 400-character cut
falling inside the token) and in every header an error may carry (x-amzn-ErrorType, x-amzn-query-error,
Content-Type), and a scan of every artifact the runs produce: text, JSON, the
Prometheus textfile, the state dir (last.json, history) and the journal lines."""
import json
import os

import pytest

from vpce_doctor.agent import components
from vpce_doctor.demo.components_side import FakesOnThisMachine
from vpce_doctor.demo.world import start_fake_kubelet

from .hostile import (ENDPOINT_IP, RawServer, good_credentials, http_answer, imds_documents, imds_responder,
                      wire_answer)

pytestmark = pytest.mark.integration

MARKERS = {
    "imds": "IMDSMARK", "env": "ENVMARK", "file": "FILEMARK", "container": "CONTMARK", "proxy": "PROXYMARK",
    "ecr": "ECRMARK", "presign": "PRESIGNMARK",
}
REGISTRY = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
LAYER_HOST = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
# the image pull: one image whose layer bucket echoes the presigned URL, one whose registry echoes the token
IMAGES = ("%s/team/app:v1" % REGISTRY, "%s/team/denied:v1" % REGISTRY)
PRESIGNED = ("https://%s/layers/abc?X-Amz-Security-Token=PRESIGNMARK-token&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
             "X-Amz-Credential=ASIAPRESIGNMARK%%2F20261203%%2Fus-east-1%%2Fs3%%2Faws4_request&"
             "X-Amz-Signature=presignmark0123456789abcdef" % LAYER_HOST)
PROXY = "http://ops:PROXYMARK-pa55@proxy-i10.example:3128"


def keys(marker):
    creds = good_credentials(marker)
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"]


def pulling(request):
    """The image pull's registry and layer bucket, echoing what they were sent: the registry's DENIED
    carries the ECR token (bare, and in the request's Authorization header), the layer bucket's
    AccessDenied the presigned path and query and the query's values bare; None for any other request."""
    host, path = request.headers.get("host", "").split(":")[0], request.path
    if host == LAYER_HOST and path != "/":
        # the query's values bare, where no pattern of the report's redactor would find them
        values = " ".join(pair.partition("=")[2] for pair in path.partition("?")[2].split("&"))
        body = "<Error><Code>AccessDenied</Code><Message>Access Denied: %s %s</Message></Error>" % (path, values)
        return http_answer(403, body.encode(), "application/xml")
    if "/v2/team/denied/" in path:
        token = request.headers.get("authorization", "").split(" ")[-1]
        message = "denied: %s is not allowed to pull (Authorization: %s)" % (token, request.headers.get("authorization"))
        return http_answer(403, json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode(),
                           "application/json; charset=utf-8")
    if "/manifests/" in path:
        return wire_answer("registry/manifest-oci", digest="sha256:0")
    if "/blobs/" in path:
        return http_answer(307, b"", "text/plain", {"Location": PRESIGNED})
    return None


def echoing(request, index):
    """ecr.api answers with an authorization token; everything else rejects the credentials and
    echoes the caller's token and Authorization header, the token placed so a 400-character cut
    of the message falls inside it."""
    pulled = pulling(request)
    if pulled is not None:
        return pulled
    target = request.headers.get("x-amz-target", "")
    if target.endswith("GetAuthorizationToken"):
        body = {"authorizationData": [{"authorizationToken": "ECRMARK" + "e" * 200, "expiresAt": 4102444800,
                                       "proxyEndpoint": "https://111122223333.dkr.ecr.us-east-1.amazonaws.com"}]}
        return http_answer(200, json.dumps(body).encode(), "application/x-amz-json-1.1")
    token = request.headers.get("x-amz-security-token", "")
    if target.startswith("Logs_"):
        # the token echoed in every header a server's error may carry: x-amzn-ErrorType (after a coral
        # namespace, so a code reduced to its last part is the token itself) and x-amzn-query-error
        return http_answer(400, b'{"message": "denied"}', "application/x-amz-json-1.1", {
            "x-amzn-ErrorType": "com.amazon.coral.service#%s" % token, "x-amzn-query-error": "%s;Sender" % token})
    if target.startswith("TrentService."):
        return http_answer(500, b"", "text/plain; echo=%s" % token)  # described by its Content-Type
    head = "The security token included in the request is invalid: "
    message = "%s%s %s (Authorization: %s)" % (head, "." * (350 - len(head)), token,
                                               request.headers.get("authorization", ""))
    assert message.index(token or "(") < 400 < message.index(token or "(") + len(token or "")  # the cut falls inside
    body = ("<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>%s</Message></Error></ErrorResponse>"
            % message).encode()
    return http_answer(403, body, "text/xml")


@pytest.fixture
def kubelet():
    with FakesOnThisMachine():  # no other simulated node's fakes beside it, nor ours beside theirs
        proc = start_fake_kubelet({"HTTPS_PROXY": PROXY, "NO_PROXY": "localhost"})
        yield proc
        proc.kill()
        proc.wait(timeout=5)


def _sources(tmp_path, servers):
    """source name -> (environment for the run, the access key id it must sign with)."""
    env_key, env_secret, env_token = keys("ENVMARK")
    file_key, file_secret, file_token = keys("FILEMARK")
    cont_key, cont_secret, cont_token = keys("CONTMARK")
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n"
                      % (file_key, file_secret, file_token))
    container = servers(RawServer("127.77.0.240", lambda request, index: http_answer(200, json.dumps({
        "AccessKeyId": cont_key, "SecretAccessKey": cont_secret, "Token": cont_token,
        "Expiration": "2099-01-01T00:00:00Z"}).encode(), "application/json")))
    return {
        "imds": ({}, keys("IMDSMARK")[0]),
        "env": ({"AWS_ACCESS_KEY_ID": env_key, "AWS_SECRET_ACCESS_KEY": env_secret, "AWS_SESSION_TOKEN": env_token},
                env_key),
        "file": ({"AWS_SHARED_CREDENTIALS_FILE": str(shared)}, file_key),
        "container": ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.77.0.240:%d/v1/credentials" % container.port},
                      cont_key),
    }


def test_no_marker_in_any_artifact(node, servers, good_tls, tmp_path, kubelet):
    imds = servers(RawServer("127.77.0.251", imds_responder(imds_documents(good_credentials("IMDSMARK")))))
    endpoint = servers(RawServer(ENDPOINT_IP, echoing, good_tls))
    node.imds_url = "http://127.77.0.251:%d" % imds.port
    node.https_port, node.services, node.deadline = endpoint.port, "sts,ecr.api,ecr.dkr,s3,ec2,logs,kms", 8.0
    node.extra = [a for image in IMAGES for a in ("--image", image)]
    artifacts = {}
    for name, (env, key) in _sources(tmp_path, servers).items():
        node.env = env
        base = [a for a in node.args() if a != "--no-process-scan"]  # the fake kubelet is found by the scan
        state, prom = tmp_path / name / "state", tmp_path / name / "prom"
        prom.mkdir(parents=True)
        before = len(endpoint.requests)
        text = node.run(*[a if a != "json" else "text" for a in base])
        timer = node.run(*base, "--state-dir", str(state), "--prometheus-dir", str(prom),
                         "--output", str(tmp_path / name / "report.json"))
        signed = [r.headers.get("authorization", "") for r in endpoint.requests[before:]
                  if not r.headers.get("authorization", "").startswith("Basic ")]  # the pull's registry requests
        assert signed and all("Credential=%s/" % key in a for a in signed if a), (name, signed[:1])
        artifacts.update({"%s text stdout" % name: text.stdout, "%s text stderr" % name: text.stderr,
                          "%s journal" % name: timer.stdout, "%s stderr" % name: timer.stderr})
        for path in (tmp_path / name).rglob("*"):
            if path.is_file():
                artifacts[str(path.relative_to(tmp_path))] = path.read_text()
        report = json.loads((tmp_path / name / "report.json").read_text())
        api = {s["id"]: s["probes"]["api"] for s in report["services"]}
        assert api["sts"]["outcome"] == "invalid_credentials" and "***" in api["sts"]["message"]
        assert api["ecr.api"]["outcome"] == "success"
        assert api["logs"]["error_code"] == "***" and api["kms"]["outcome"] == "server_error"
        # both pulls got as far as the answers that echo their secrets (only when the token was read, as in a
        # real pull; the credential sources whose signature the endpoint rejects stop at the token)
        pulls = {p["image"]: p["steps"][-1] for p in report["node_checks"]["image_pull"]["pulls"]}
        assert pulls[IMAGES[0]]["step"] == "layer" and pulls[IMAGES[0]]["http_status"] == 403
        assert pulls[IMAGES[1]]["step"] == "manifest" and "***" in pulls[IMAGES[1]]["message"]
    assert len(artifacts) >= 4 * 7
    leaks = sorted({(where, marker) for where, content in artifacts.items() for marker in MARKERS.values()
                    if marker.lower() in content.lower()})
    assert not leaks, "secret markers in artifacts: %s" % leaks
    # and the facts do carry the (masked) proxy, when the scan found our kubelet
    kubelets = [c for c in report["node"]["components"] if c["name"] == "kubelet" and c["pid"] == kubelet.pid]
    if kubelets:
        assert kubelets[0]["environ"]["proxy"]["HTTPS_PROXY"] == "http://***@proxy-i10.example:3128"


def test_discovery_masks_a_proxy_password_at_the_source(kubelet):
    """What discovery reads from kubelet's environment carries the proxy without its userinfo."""
    found = [c for c in components.running_components() if c.get("pid") == kubelet.pid]
    assert found, "the process scan did not find the test's kubelet"
    read = found[0]["environ"]
    assert read["readable"] and read["proxy"]["HTTPS_PROXY"] == "http://***@proxy-i10.example:3128"
    assert "PROXYMARK" not in json.dumps(found[0])
