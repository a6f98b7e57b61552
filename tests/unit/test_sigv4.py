"""The agent's own SigV4 signer against botocore's SigV4Auth: every request the catalogue and the
inventory build, and paths, queries, ports and headers that exercise each rule, header for header."""
import calendar
import time
from collections import namedtuple
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vpce_doctor.checks.catalogue import load_catalogue
from vpce_doctor.checks.probes import aws_call, sigv4
from vpce_doctor.checks.probes.inventory import EC2_VERSION

Keys = namedtuple("Keys", "access_key secret_key token")  # the shape the agent's own credentials have
SESSION = Keys("ASIAQWERTYUIOPASDFGH", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjEXAMPLE" * 8)
STATIC = Keys("AKIAQWERTYUIOPASDFGH", "static+secret/with=odd chars", None)


def both(method, url, headers, body, keys, service, region):
    """(botocore's headers, ours), ours signed at the second botocore stamped."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(keys.access_key, keys.secret_key, keys.token), service, region).add_auth(request)
    theirs = dict(request.headers.items())
    now = calendar.timegm(time.strptime(theirs["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    ours = sigv4.sign(method, url, dict(headers), body, credentials=keys, service=service, region=region, now=now)
    return theirs, ours


def catalogue_requests():
    facts = {"instance_id": "i-0123456789abcdef0", "cluster_name": "prod-blue"}
    for region in ("us-east-1", "cn-north-1"):
        for spec in load_catalogue():
            for probe in (spec.probe_for({}), spec.probe_for(facts)):
                if probe["kind"] != "aws":
                    continue
                method, path, headers, body = aws_call.build_request(probe, region)
                host = spec.hostnames(region, _suffix(region), "123456789012")[0]
                yield spec.id, method, "https://%s%s" % (host, path), headers, body, probe["signing_name"], region


def _suffix(region):
    from vpce_doctor.checks.catalogue import partition_for_region
    return partition_for_region(region)


def inventory_requests():
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    bodies = [{"Action": "DescribeVpcEndpoints", "Filter.1.Name": "vpc-id", "Filter.1.Value.1": "vpc-0abc",
               "MaxResults": "1000", "NextToken": "eyJ2IjoiMiJ9+/=="},
              {"Action": "DescribeNetworkInterfaces", **{"NetworkInterfaceId.%d" % i: "eni-%017x" % i for i in range(1, 40)}},
              {"Action": "DescribeRouteTables", "Filter.1.Name": "association.subnet-id", "Filter.1.Value.1": "subnet-1"}]
    for params in bodies:
        body = urlencode(dict(params, Version=EC2_VERSION)).encode()
        yield "ec2", "POST", "https://ec2.us-east-1.amazonaws.com/", form, body, "ec2", "us-east-1"


@pytest.mark.parametrize("keys", [SESSION, STATIC], ids=["session-token", "static-keys"])
def test_every_request_the_agent_signs_matches_botocore(keys):
    requests = list(catalogue_requests()) + list(inventory_requests())
    assert len({r[0] for r in requests}) >= 15  # the whole catalogue, not a corner of it
    for name, method, url, headers, body, service, region in requests:
        theirs, ours = both(method, url, headers, body, keys, service, region)
        assert ours == theirs, name


@pytest.mark.parametrize("url", [
    "https://logs.eu-west-1.amazonaws.com",                          # no path at all
    "https://EKS.eu-west-1.amazonaws.com:8443/clusters/a%20b/",       # port kept, case folded, quoting
    "https://eks.eu-west-1.amazonaws.com:443//clusters//./x/../y/",   # default port dropped, dots and double slashes
    "https://eks.eu-west-1.amazonaws.com/a/b/../../..",               # climbing above the root
    "https://eks.eu-west-1.amazonaws.com/clusters?b=2&a=1&a=0&flag",  # query pairs sorted, a bare key
    "https://eks.eu-west-1.amazonaws.com/ünïcode/päth?q=ä",           # non-ASCII path and query
    "https://[fd00:ec2::23]:8443/v1/x",                               # an IPv6 literal host
    "http://127.0.0.1:8080/",                                         # plain HTTP, odd port
])
def test_paths_queries_hosts_and_ports_match_botocore(url):
    headers = {"Content-Type": "application/json", "X-Amz-Target": "  spaced   value\t here ",
               "User-Agent": "never-signed", "X-Amzn-Trace-Id": "Root=1", "Authorization": "stale",
               "X-Amz-Date": "19990101T000000Z"}
    for body in (b"", b'{"maxResults": 1}'):
        theirs, ours = both("get" if not body else "POST", url, headers, body, SESSION, "eks", "eu-west-1")
        assert ours == theirs


def test_a_wrong_key_changes_the_signature():
    url = "https://sts.us-east-1.amazonaws.com/"
    first = sigv4.sign("POST", url, {}, b"Action=GetCallerIdentity", credentials=SESSION, service="sts",
                       region="us-east-1", now=1.8e9)
    other = sigv4.sign("POST", url, {}, b"Action=GetCallerIdentity", credentials=SESSION._replace(secret_key="x" * 40),
                       service="sts", region="us-east-1", now=1.8e9)
    assert first["X-Amz-Date"] == "20270115T080000Z" and first["X-Amz-Security-Token"] == SESSION.token
    assert first["Authorization"] != other["Authorization"]
    assert first["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=%s/20270115/us-east-1/sts/aws4_request, "
                                             "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
                                             % SESSION.access_key)
