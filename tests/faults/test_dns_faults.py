"""DNS faults: a hostile VPC resolver (or node resolver) on loopback, one fixture per edge case,
one table. Every case: the expected finding, the run within its deadline, no internal error."""
import pytest

from .hostile import HostileDns

pytestmark = pytest.mark.integration

# mode -> (finding codes, the VPC lookup's status for sts's A query)
DNS_CASES = {
    "silence": (["dns_failure"], "timeout"),
    "garbage": (["dns_failure"], "timeout"),         # dnspython waits on past an unparseable datagram
    "truncated_tcp_refused": (["dns_failure"], "error"),
    "truncated_tcp_silent": (["dns_failure"], "timeout"),
    "compression_loop": (["dns_failure"], "timeout"),
    "wrong_id": (["dns_failure"], "timeout"),        # dnspython drops an answer to another query id
    "other_name": (["dns_failure"], "timeout"),      # an answer to another question is not ours
    "refused": (["dns_failure"], "refused"),
    "servfail": (["dns_failure"], "servfail"),
    "late": (["dns_failure"], "timeout"),            # the answer comes after --timeout
    "cname_loop": (["dns_failure"], "error"),        # dnspython's ChainTooLong
    # negative answers read through their SOA: a Route 53 zone for the region shadows the name; a zone for the
    # name itself without its record; an SOA full of escape sequences and shell syntax (never raw in any output)
    "nxdomain_route53_parent": (["private_zone_shadows"], "nxdomain"),
    "nodata_route53_apex": (["dns_record_missing"], "nodata"),
    "nxdomain_hostile_soa": (["dns_record_missing"], "nxdomain"),
}


def _vpc_lookup(outcome, service="sts"):
    return next(d for d in outcome.service(service)["probes"]["dns"]
                if d["resolver_role"] == "vpc" and d["rdtype"] == "A")


@pytest.mark.parametrize("mode", sorted(DNS_CASES))
def test_hostile_vpc_resolver(mode, node, servers):
    codes, status = DNS_CASES[mode]
    hostile = servers(HostileDns("127.77.0.3", mode))
    node.vpc_dns = hostile.addr
    outcome = node.run()
    lookup = _vpc_lookup(outcome)
    assert lookup["status"] == status, lookup
    assert outcome.codes == codes and outcome.report["status"] == "critical" and outcome.returncode == 2
    assert outcome.service("sts")["status"] == "critical"


def test_hundreds_of_records_are_bounded(node, servers):
    """300 A records (over TCP after a truncated UDP answer): the lookup keeps them, the TLS fan-out is
    capped, the run ends in time; the addresses without a server read as blocked, never ok."""
    hostile = servers(HostileDns("127.77.0.3", "many_records"))
    node.vpc_dns = hostile.addr
    outcome = node.run()
    lookup = _vpc_lookup(outcome)
    assert lookup["status"] == "answer" and len(lookup["addresses"]) == 300
    assert len(outcome.service("sts")["probes"]["tls"]) <= 16
    assert "port_blocked" in outcome.codes and outcome.service("sts")["status"] != "ok"


def test_hostile_node_resolver(node, servers):
    """The node's own resolver fails while the VPC resolver answers: dns_failure names the node resolver."""
    hostile = servers(HostileDns("127.77.0.53", "servfail"))
    node.extra = ["--resolver", hostile.addr]
    outcome = node.run()
    assert outcome.codes == ["dns_failure"] and "127.77.0.53" in outcome.report["findings"][0]["message"]


@pytest.mark.parametrize("mode", ["silence", "servfail", "refused"])
def test_same_failing_server_in_both_roles_is_never_ok(mode, node, servers):
    """Bug 1: `--vpc-resolver X --resolver X`. One query serves both roles; each role keeps its own
    evidence, so the failure is judged instead of vanishing with the role it was memoised under."""
    hostile = servers(HostileDns("127.77.0.3", mode))
    node.vpc_dns = hostile.addr
    node.extra = ["--resolver", hostile.addr]
    for _ in range(3):  # the race was random: a few runs
        outcome = node.run()
        roles = sorted(d["resolver_role"] for d in outcome.service("sts")["probes"]["dns"]
                       if d["rdtype"] == "A")
        assert roles == ["node", "vpc"]
        assert outcome.codes == ["dns_failure"] and outcome.report["status"] == "critical"
        assert outcome.service("sts")["status"] == "critical"


def test_same_good_server_in_both_roles_asks_once(node, servers):
    """The resolv.conf that names the VPC resolver itself: ok, and one query per name and type serves both."""
    good = servers(HostileDns("127.77.0.3", "good"))
    node.vpc_dns = good.addr
    node.extra = ["--resolver", good.addr]
    outcome = node.run()
    assert outcome.report["status"] == "ok"
    # each name and type asked once, whichever role needs it (sts: A and AAAA; the runner may also look
    # up the ec2 name ahead of the inventory)
    assert len(good.asked) == len(set(good.asked)) == good.queries, good.asked
    assert {("sts.us-east-1.amazonaws.com", "A"), ("sts.us-east-1.amazonaws.com", "AAAA")} <= set(good.asked)


def test_a_hostile_soa_never_reaches_a_terminal_or_a_shell_raw(node, servers):
    """The SOA of a negative answer is the resolver's words: an escape sequence in its MNAME and shell syntax in
    its RNAME stay escaped text in the report (dnspython's presentation form), and no fix command carries them."""
    hostile = servers(HostileDns("127.77.0.3", "nxdomain_hostile_soa"))
    node.vpc_dns = hostile.addr
    args = node.args()
    args[args.index("json")] = "text"
    outcome = node.run(*args)
    assert outcome.returncode == 2 and "dns_record_missing" in outcome.stdout
    assert "\x1b" not in outcome.stdout and "\\027[31mns.evil" in outcome.stdout
    commands = [line for line in outcome.stdout.splitlines() if line.strip().startswith("$ ")]
    assert commands and not [c for c in commands if "pwned" in c or "evil" in c]
