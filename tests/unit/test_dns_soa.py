"""Negative answers keep the SOA of their authority section: the demo's DNS responder (a real server on
loopback) plays a VPC resolver with a Route 53 private zone for the region, and the probe reads which zone
said the name is not there."""
import pytest

from vpce_doctor.checks.probes import dns as dns_probe
from vpce_doctor.core.addresses import NetworkGuard
from vpce_doctor.demo.dns_server import ROUTE53_PRIVATE_SOA, DnsResponder, ZoneData

REGION_ZONE = "us-east-1.amazonaws.com"


@pytest.fixture
def resolver():
    zone = ZoneData(records={"ec2.us-east-1.amazonaws.com": ["127.10.1.20"]}, public_domains=("amazonaws.com",),
                    public_answer=lambda name: "127.203.0.9",
                    zones={REGION_ZONE: ROUTE53_PRIVATE_SOA, "kms.us-east-1.amazonaws.com": ROUTE53_PRIVATE_SOA})
    server = DnsResponder("127.10.0.99", zone).start()
    yield ("127.10.0.99", server.port)
    server.stop()


def ask(resolver, name, rdtype="A"):
    return dns_probe.lookup(name, rdtype, resolver, "vpc", 1.0, ("127.10.0.0/16",), NetworkGuard(("127.0.0.0/8",)))


def test_a_name_the_zone_lacks_is_nxdomain_with_the_zones_soa(resolver):
    lookup = ask(resolver, "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com")
    assert lookup.status == dns_probe.NXDOMAIN and not lookup.addresses
    assert lookup.soa == dns_probe.Soa(REGION_ZONE, "ns-1536.awsdns-00.co.uk", "awsdns-hostmaster.amazon.com")
    assert lookup.soa.route53


def test_a_zones_apex_without_a_record_is_nodata_with_its_soa(resolver):
    lookup = ask(resolver, "kms.us-east-1.amazonaws.com")
    assert lookup.status == dns_probe.NODATA and lookup.soa.zone == "kms.us-east-1.amazonaws.com"


def test_answers_carry_no_soa_and_names_outside_the_zones_answer_public(resolver):
    held = ask(resolver, "ec2.us-east-1.amazonaws.com")
    assert [a.address for a in held.addresses] == ["127.10.1.20"] and held.soa is None
    assert ask(resolver, "ec2.us-east-1.amazonaws.com", "AAAA").soa.zone == REGION_ZONE  # NODATA, in the zone
    outside = ask(resolver, "sts.eu-west-1.amazonaws.com")
    assert outside.status == dns_probe.ANSWER and outside.soa is None


def test_a_soa_not_of_route53_is_kept_but_not_taken_for_route53():
    soa = dns_probe.Soa("corp.example", "ns1.corp.example", "hostmaster.corp.example")
    assert not soa.route53
