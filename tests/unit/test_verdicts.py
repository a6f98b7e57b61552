"""The verdict table: one row per finding code, plus the healthy and trap cases."""
import pytest

from vpce_doctor.checks import verdicts
from vpce_doctor.checks.probes import aws_call

from vpce_doctor.checks.probes.route_table import Route

from .evidence import (DENIED, NO_INVENTORY, Soa, allow, api, dns, endpoint, gateway, inside, inventory, missing,
                       node, policy, public, remote, route_table, service, tls)
from .test_verdicts_components import COMPONENT_ROWS
from .test_verdicts_pull import PULL_ROWS

S3_HOST = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"
LAYERS = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"
EC2_BARE = "You are not authorized to perform this operation."
STS_IDENTITY = "User: arn:aws:sts::1:assumed-role/r/i is not authorized to perform: sts:GetCallerIdentity because no " \
    "identity-based policy allows the sts:GetCallerIdentity action"


def s3_reached(**kw):
    """The layer bucket's bare 403 to the unsigned path-only probe, through the gateway on the node's table."""
    return service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                   vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)], tls_results=[tls("203.0.113.10")],
                   api_result=api(aws_call.REACHED, "AccessDenied", "HTTP 403 AccessDenied", operation="GetLayerBucket"),
                   iam_action="s3:GetObject", iam_resource=LAYERS, **kw)


def on_node_table(gw):
    return inventory(gw, table=route_table(Route(None, "pl-63a5400a", "vpc-endpoint", "vpce-0gw", "active")))
TIMEOUT = dict(ok=False, phase="connect", kind="timeout", error="TCP connect timed out")

SERVICE_ROWS = [
    # (name, service evidence, node evidence, expected [(code, severity)])
    ("healthy", service(), node(), []),
    ("endpoint missing, required", service(vpc=public("vpc"), node=[public("node")],
                                           tls_results=[tls("203.0.113.10", **TIMEOUT)]),
     node(inventory()), [("endpoint_missing", "critical")]),
    ("endpoint missing, optional", service(vpc=public("vpc"), node=[public("node")], required=False),
     node(inventory()), [("endpoint_missing", "warning")]),
    ("endpoint missing, no inventory", service(vpc=public("vpc"), node=[public("node")]), node(NO_INVENTORY),
     [("endpoint_missing", "critical")]),
    ("private DNS off", service(vpc=public("vpc"), node=[public("node")]), node(inventory(endpoint(private_dns=False))),
     [("private_dns_disabled", "critical")]),
    ("custom DNS not forwarding", service(node=[public("node")]), node(), [("custom_dns_not_forwarding", "critical")]),
    ("record missing", service(node=[dns("node", status="nxdomain")]), node(), [("dns_record_missing", "critical")]),
    ("record missing (NODATA)", service(node=[dns("node", status="nodata")]), node(), [("dns_record_missing", "critical")]),
    ("VPC resolver timeout", service(vpc=dns("vpc", status="timeout"), node=[]), node(), [("dns_failure", "critical")]),
    ("VPC resolver timeout, the node's resolver answers the endpoint", service(vpc=dns("vpc", status="timeout")),
     node(), [("vpc_resolver_differs", "info")]),
    ("node resolver SERVFAIL", service(node=[dns("node", status="servfail")]), node(), [("dns_failure", "critical")]),
    ("443 blocked everywhere", service(tls_results=[tls(**TIMEOUT), tls("10.0.2.20", **TIMEOUT)],
                                      api_result=api(aws_call.TIMEOUT)), node(), [("port_blocked", "critical")]),
    ("443 blocked in one AZ", service(tls_results=[tls(), tls("10.0.2.20", **TIMEOUT)]), node(),
     [("port_blocked", "warning")]),
    ("TLS verify fails", service(tls_results=[tls(ok=False, phase="verify", kind="certificate", error="bad CA")]),
     node(), [("tls_failure", "critical")]),
    ("endpoint policy denies", service(api_result=api(aws_call.POLICY_DENIED, "AccessDenied", "no VPC endpoint policy")),
     node(), [("policy_denied", "critical")]),
    ("identity policy denies: the path is proven", service(api_result=api(aws_call.IAM_DENIED, "AccessDenied", "identity")),
     node(), [("iam_denied", "info")]),
    ("identity policy denies an action a running component needs",
     service(api_result=api(aws_call.IAM_DENIED, "AccessDenied", "identity"), needed=("kubelet",)),
     node(), [("iam_denied", "warning")]),
    ("an organization's SCP denies", service(api_result=api(aws_call.ORG_DENIED, "AccessDenied", "scp",
                                                          denied_by="service control policy")),
     node(), [("org_policy_denied", "info")]),
    ("denial without a policy type, endpoint policy denies it",
     service(api_result=api(aws_call.ACCESS_DENIED, "UnauthorizedOperation", EC2_BARE)),
     node(inventory(endpoint(policy_document=policy(allow("ec2:DescribeInstances"))))), [("policy_denied", "critical")]),
    ("denial without a policy type, endpoint policy allows it",
     service(api_result=api(aws_call.ACCESS_DENIED, "UnauthorizedOperation", EC2_BARE)),
     node(inventory(endpoint(policy_document=policy(allow("ec2:Describe*"))))), [("access_denied", "info")]),
    ("denial without a policy type, inventory not readable",
     service(api_result=api(aws_call.ACCESS_DENIED, "UnauthorizedOperation", EC2_BARE)), node(DENIED),
     [("access_denied", "warning")]),
    ("GetCallerIdentity denied in identity words: never the identity policy",
     service(id="sts", api_result=api(aws_call.IAM_DENIED, "AccessDenied", STS_IDENTITY, operation="GetCallerIdentity"),
             iam_action="sts:GetCallerIdentity"), node(NO_INVENTORY), [("access_denied", "warning")]),
    ("layer bucket reached, gateway policy allows it", s3_reached(), node(on_node_table(gateway(
        route_tables=("rtb-node",), policy_document=policy(allow("s3:GetObject", LAYERS))))), []),
    ("layer bucket reached, gateway policy leaves it out", s3_reached(), node(on_node_table(gateway(
        route_tables=("rtb-node",), policy_document=policy(allow("s3:GetObject", "arn:aws:s3:::my-bucket/*"))))),
     [("policy_denied", "critical")]),
    ("layer bucket reached, policy not readable", s3_reached(), node(DENIED), [("layer_bucket_unverified", "info")]),
    ("no ENI in the node's AZ", service(), node(inventory(endpoint(azs=("us-east-1b",)))),
     [("endpoint_az_missing", "warning")]),
    ("S3 gateway: public answers are right", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST,
                                                     name="com.amazonaws.us-east-1.s3",
                                                     vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)],
                                                     tls_results=[tls("203.0.113.10")]), node(), []),
    ("S3 gateway missing", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                                   vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)],
                                   tls_results=[tls("203.0.113.10", **TIMEOUT)]), node(), [("endpoint_missing", "critical")]),
    ("aws-cn: cn.com.amazonaws endpoint name matches", service(vpc=public("vpc"), node=[public("node")],
                                                               name="cn.com.amazonaws.cn-north-1.ec2"),
     node(inventory(endpoint(service="cn.com.amazonaws.cn-north-1.ec2", private_dns=False))),
     [("private_dns_disabled", "critical")]),
    ("aws-cn: healthy", service(name="cn.com.amazonaws.cn-north-1.ec2"),
     node(inventory(endpoint(service="cn.com.amazonaws.cn-north-1.ec2"))), []),
    ("node resolver is the VPC resolver", service(node=[]), node(), []),
    # hub and spoke: a shared private zone answers with a hub VPC's endpoint over a TGW / peering
    ("hub endpoint answers and takes TLS", service(vpc=remote("vpc"), node=[remote("node")],
                                                   tls_results=[tls("10.99.1.20"), tls("10.99.2.20")]),
     node(inventory()), []),
    ("hub endpoint, node resolver answers the VPC's own", service(vpc=remote("vpc"), node=[inside("node")]),
     node(inventory()), []),
    ("hub endpoint, node resolver answers public", service(vpc=remote("vpc"), node=[public("node")],
                                                          tls_results=[tls("10.99.1.20")]),
     node(inventory()), [("custom_dns_not_forwarding", "critical")]),
    ("hub endpoint unreachable", service(vpc=remote("vpc"), node=[remote("node")],
                                         tls_results=[tls("10.99.1.20", **TIMEOUT), tls("10.99.2.20", **TIMEOUT)],
                                         api_result=api(aws_call.TIMEOUT)),
     node(inventory()), [("port_blocked", "critical")]),
    ("hub layout, this name answers public", service(vpc=public("vpc"), node=[public("node")]), node(inventory()),
     [("endpoint_missing", "critical")]),
    ("endpoint missing, inventory denied", service(vpc=public("vpc"), node=[public("node")]), node(DENIED),
     [("endpoint_missing", "critical")]),
    # gateway endpoints live in route tables
    ("S3 gateway on another route table", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST,
                                                  name="com.amazonaws.us-east-1.s3", vpc=public("vpc", S3_HOST),
                                                  node=[public("node", S3_HOST)],
                                                  tls_results=[tls("203.0.113.10", **TIMEOUT)]),
     node(inventory(gateway(route_tables=("rtb-main",)), table=route_table(id="rtb-node"))),
     [("gateway_route_missing", "critical")]),
    ("DynamoDB gateway (optional) on another route table",
     service(id="dynamodb", endpoint_type="Gateway", hostname="dynamodb.us-east-1.amazonaws.com", required=False,
             name="com.amazonaws.us-east-1.dynamodb", vpc=public("vpc", "dynamodb.us-east-1.amazonaws.com"),
             node=[public("node", "dynamodb.us-east-1.amazonaws.com")], tls_results=[tls("203.0.113.10", **TIMEOUT)]),
     node(inventory(gateway("com.amazonaws.us-east-1.dynamodb", route_tables=("rtb-main",)),
                    table=route_table(id="rtb-node"))), [("gateway_route_missing", "warning")]),
    ("S3 gateway on the node's route table", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST,
                                                     name="com.amazonaws.us-east-1.s3", vpc=public("vpc", S3_HOST),
                                                     node=[public("node", S3_HOST)], tls_results=[tls("203.0.113.10")]),
     node(inventory(gateway(route_tables=("rtb-node",)),
                    table=route_table(Route(None, "pl-63a5400a", "vpc-endpoint", "vpce-0gw", "active")))), []),
    ("DNS check crashed: not judged", service(), node(), []),
    # the DNS path: what the node's own resolvers answer decides (verdicts_dns.py)
    ("centralised DNS: the node's resolver answers the hub, the VPC resolver public",
     service(vpc=public("vpc"), node=[remote("node")], tls_results=[tls("10.99.1.20"), tls("10.99.2.20")]),
     node(inventory()), [("vpc_resolver_differs", "info")]),
    ("centralised DNS, the hub drops 443", service(vpc=public("vpc"), node=[remote("node")],
                                                   tls_results=[tls("10.99.1.20", **TIMEOUT)],
                                                   api_result=api(aws_call.TIMEOUT)),
     node(inventory()), [("port_blocked", "critical"), ("vpc_resolver_differs", "info")]),
    ("centralised DNS, a second node resolver does not forward",
     service(vpc=public("vpc"), node=[remote("node"), public("node", server="10.0.9.54:53")],
             tls_results=[tls("10.99.1.20")]),
     node(inventory()), [("custom_dns_not_forwarding", "critical"), ("vpc_resolver_differs", "info")]),
    ("centralised DNS, the VPC resolver shadowed too", service(vpc=missing("vpc"), node=[remote("node")],
                                                               tls_results=[tls("10.99.1.20")]),
     node(inventory()), [("vpc_resolver_differs", "info")]),
    ("a region-wide private zone shadows S3", service(id="s3", endpoint_type="Gateway", hostname=S3_HOST,
                                                      name="com.amazonaws.us-east-1.s3", vpc=missing("vpc", S3_HOST),
                                                      node=[missing("node", S3_HOST)], tls_results=[],
                                                      api_result=api(aws_call.SKIPPED)),
     node(inventory(gateway(route_tables=("rtb-node",)))), [("private_zone_shadows", "critical")]),
    ("amazonaws.com as a private zone shadows an optional service",
     service(vpc=missing("vpc", zone="amazonaws.com"), node=[], tls_results=[], api_result=api(aws_call.SKIPPED),
             required=False), node(inventory()), [("private_zone_shadows", "warning")]),
    ("NODATA from the region zone", service(vpc=missing("vpc", status="nodata"), node=[], tls_results=[]),
     node(inventory()), [("private_zone_shadows", "critical")]),
    ("NXDOMAIN without an SOA", service(vpc=missing("vpc", soa=False), node=[], tls_results=[]), node(inventory()),
     [("dns_record_missing", "critical")]),
    ("NXDOMAIN from another DNS server's parent zone",
     service(vpc=missing("vpc", soa=Soa("us-east-1.amazonaws.com", "ns1.corp.example", "hostmaster.corp.example")),
             node=[], tls_results=[]), node(inventory()), [("dns_record_missing", "critical")]),
    ("a per-service zone without its record", service(vpc=missing("vpc", zone="ec2.us-east-1.amazonaws.com"), node=[],
                                                      tls_results=[]), node(inventory()),
     [("dns_record_missing", "critical")]),
    ("S3 gateway: the corporate resolver has no record", service(
        id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3", vpc=public("vpc", S3_HOST),
        node=[missing("node", S3_HOST, soa=False)], tls_results=[], api_result=api(aws_call.SKIPPED)),
     node(inventory(gateway(route_tables=("rtb-node",)))), [("dns_record_missing", "critical")]),
    ("S3 gateway: a hub's region zone shadows S3 through the node's resolver", service(
        id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3", vpc=public("vpc", S3_HOST),
        node=[missing("node", S3_HOST)], tls_results=[], api_result=api(aws_call.SKIPPED)),
     node(inventory(gateway(route_tables=("rtb-node",)))), [("private_zone_shadows", "critical")]),
    ("S3 gateway: the VPC resolver shadowed, the node's resolver answers public", service(
        id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
        vpc=missing("vpc", S3_HOST), node=[public("node", S3_HOST)], tls_results=[tls("203.0.113.10")]),
     node(inventory(gateway(route_tables=("rtb-node",)), table=route_table(
         Route(None, "pl-63a5400a", "vpc-endpoint", "vpce-0gw", "active")))), [("vpc_resolver_differs", "info")]),
    ("the node's resolver shadowed where the VPC resolver answers", service(node=[missing("node")]), node(),
     [("private_zone_shadows", "critical")]),
]


@pytest.mark.parametrize("name,evidence,node_evidence,expected", SERVICE_ROWS, ids=[r[0] for r in SERVICE_ROWS])
def test_service_rules(name, evidence, node_evidence, expected):
    if name.startswith("DNS check crashed"):
        evidence = evidence.__class__(**dict(evidence.__dict__, dns=None))
    findings = verdicts.service_findings(evidence, node_evidence)
    assert [(f.code, f.severity) for f in findings] == expected
    for f in findings:
        assert f.service == evidence.id and f.message and f.remediation.text


def test_one_root_cause_keeps_its_symptoms_as_evidence():
    evidence = service(vpc=public("vpc"), node=[public("node")],
                       tls_results=[tls("203.0.113.10", **TIMEOUT)], api_result=api(aws_call.TIMEOUT, message="connect timed out"))
    [finding] = verdicts.service_findings(evidence, node(inventory(endpoint(private_dns=False))))
    assert finding.code == "private_dns_disabled"
    assert any("tls 203.0.113.10" in e for e in finding.evidence)
    assert any(e.startswith("api DescribeAvailabilityZones") for e in finding.evidence)
    assert "--vpc-endpoint-id vpce-0123 --private-dns-enabled" in finding.remediation.commands[0]


def test_remediation_is_filled_with_node_facts():
    [finding] = verdicts.service_findings(service(vpc=public("vpc"), node=[public("node")]), node(inventory()))
    commands = "\n".join(finding.remediation.commands)
    assert "--vpc-id vpc-0abc" in commands and "--subnet-ids subnet-0a" in commands
    assert "--service-name com.amazonaws.us-east-1.ec2" in commands and "--cidr 10.0.0.0/16" in commands


def test_custom_dns_fix_names_the_endpoint_alias_target():
    [finding] = verdicts.service_findings(service(node=[public("node")]), node())
    assert "vpce-0123-abcd.ec2.us-east-1.vpce.amazonaws.com" in finding.remediation.commands[1]
    assert "10.0.0.2" in finding.remediation.text  # the VPC+2 resolver a forwarder should use


NODE_ROWS = [
    ("healthy", dict(imds={"reachable": True}, credentials={"present": True}, api_results=[api(skew=1.0)]), []),
    ("clock skew from Date headers", dict(api_results=[api(skew=-600.0)]), ["clock_skew"]),
    ("skew within tolerance", dict(api_results=[api(skew=30.0)]), []),
    ("clock skew from a rejected signature", dict(api_results=[api(aws_call.CLOCK_SKEW, "SignatureDoesNotMatch")]),
     ["clock_skew"]),
    ("no credentials", dict(credentials={"present": False}), ["no_credentials"]),
    ("invalid credentials", dict(credentials={"present": True},
                                 api_results=[api(aws_call.INVALID_CREDENTIALS, "InvalidClientTokenId")]), ["no_credentials"]),
    ("IMDS unreachable", dict(imds={"reachable": False, "endpoint": "http://169.254.169.254", "error": "timeout"}),
     ["imds_unreachable"]),
    ("proxy without bypass", dict(proxy=[{"component": "kubelet", "https_proxy": "http://p:3128", "no_proxy": "localhost",
                                          "missing": [".amazonaws.com"]}]), ["proxy_bypass_missing"]),
    ("proxy with bypass", dict(proxy=[{"component": "kubelet", "https_proxy": "http://p:3128", "missing": []}]), []),
    ("cluster endpoint public", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                              "dns": public("node", "x.eks"), "tls": []}),
     ["cluster_endpoint_unreachable"]),
    ("cluster endpoint no TLS", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                             "dns": inside("node", "x.eks"), "tls": [tls(**TIMEOUT)]}),
     ["cluster_endpoint_unreachable"]),
    ("inventory denied to the node role", dict(inv=DENIED), ["inventory_unavailable"]),
    ("inventory unreadable for another reason", dict(inv=NO_INVENTORY), []),
    ("cluster endpoint fine", dict(cluster={"known": True, "url": "https://x.eks", "hostname": "x.eks",
                                           "dns": inside("node", "x.eks"), "tls": [tls()]}), []),
] + COMPONENT_ROWS


@pytest.mark.parametrize("name,fields,expected", NODE_ROWS, ids=[r[0] for r in NODE_ROWS])
def test_node_rules(name, fields, expected):
    findings = verdicts.node_findings(node(**fields))
    assert [f.code for f in findings] == expected
    assert all(f.service is None and f.severity in ("critical", "warning", "info") for f in findings)


def test_every_code_has_a_row():
    covered = {c for _, _, _, exp in SERVICE_ROWS + PULL_ROWS for c, _ in exp} | {c for _, _, exp in NODE_ROWS for c in exp}
    assert covered == set(verdicts.CODES)


CLASSIFY = [
    (200, None, "", False, aws_call.SUCCESS),
    (401, None, "", True, aws_call.REACHED),
    (403, "AccessDenied", "Access Denied", True, aws_call.REACHED),
    (403, "AccessDeniedException", "... because no VPC endpoint policy allows the ecr:X action", False, aws_call.POLICY_DENIED),
    (403, "UnauthorizedOperation", "... with an explicit deny in a VPC endpoint policy", False, aws_call.POLICY_DENIED),
    (403, None, "denied because no VPC endpoint policy allows it", True, aws_call.POLICY_DENIED),
    (403, "AccessDenied", "because no identity-based policy allows", False, aws_call.IAM_DENIED),
    (400, "com.amazon.coral.service#AccessDeniedException", "not authorized", False, aws_call.ACCESS_DENIED),
    (403, "RequestTimeTooSkewed", "", False, aws_call.CLOCK_SKEW),
    (403, "SignatureDoesNotMatch", "Signature expired: 20261124T000000Z is now earlier than", False, aws_call.CLOCK_SKEW),
    (400, "InvalidClientTokenId", "The security token included in the request is invalid", False,
     aws_call.INVALID_CREDENTIALS),
    (500, "InternalError", "", False, aws_call.SERVER_ERROR),
]


@pytest.mark.parametrize("status,code,message,path_only,outcome", CLASSIFY)
def test_api_outcome_classification(status, code, message, path_only, outcome):
    assert aws_call.classify(status, code, message, path_only) == outcome


def test_hub_port_blocked_fix_names_the_route_and_the_hub_security_group():
    tgw = Route("10.99.0.0/16", None, "transit-gateway", "tgw-0hub", "active")
    evidence = service(vpc=remote("vpc"), node=[remote("node")],
                       tls_results=[tls("10.99.1.20", **TIMEOUT), tls("10.99.2.20", **TIMEOUT)])
    [finding] = verdicts.service_findings(evidence, node(inventory(table=route_table(tgw))))
    text = finding.remediation.text + "\n".join(finding.remediation.commands)
    assert "10.99.0.0/16" in text and "tgw-0hub" in text and "rtb-node" in text and "<HUB-ENDPOINT-SG-ID>" in text
    assert "create-vpc-endpoint" not in text
    # no route to the hub in the table: the fix is the route, to the CIDR the operator named
    [finding] = verdicts.service_findings(evidence, node(inventory(table=route_table()), endpoint_cidrs=("10.99.0.0/16",)))
    assert any("create-route --region us-east-1 --route-table-id rtb-node --destination-cidr-block 10.99.0.0/16" in c
               for c in finding.remediation.commands)


def test_endpoint_missing_without_inventory_gives_both_fixes():
    [finding] = verdicts.service_findings(service(vpc=public("vpc"), node=[public("node")]), node(DENIED))
    commands = "\n".join(finding.remediation.commands)
    assert "cannot be told apart" in finding.message
    assert "create-vpc-endpoint" in commands and "--private-dns-enabled" in commands
    assert "modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id <VPCE-ID> --private-dns-enabled" in commands


def test_gateway_route_missing_fix_is_filled_in():
    evidence = service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                       vpc=public("vpc", S3_HOST), node=[public("node", S3_HOST)],
                       tls_results=[tls("203.0.113.10", **TIMEOUT)])
    [finding] = verdicts.service_findings(evidence, node(inventory(gateway(route_tables=("rtb-main",)),
                                                                   table=route_table(id="rtb-node"))))
    assert finding.remediation.commands == (
        "aws ec2 modify-vpc-endpoint --region us-east-1 --vpc-endpoint-id vpce-0gw --add-route-table-ids rtb-node",)


def test_inventory_unavailable_holds_the_iam_statement_and_changes_no_status():
    from vpce_doctor.core.model import severity_status

    [finding] = verdicts.node_findings(node(DENIED, iam_role="eks-node-role"))
    assert finding.severity == "info" and severity_status(finding.severity) == "ok"
    command = finding.remediation.commands[0]
    assert command.startswith("aws iam put-role-policy --role-name eks-node-role ")
    for action in ("ec2:DescribeVpcEndpoints", "ec2:DescribeVpcEndpointServices", "ec2:DescribeNetworkInterfaces"):
        assert action in command and action in finding.remediation.text


def test_address_scopes():
    from vpce_doctor.core.addresses import address_scope

    vpc = ("10.0.0.0/16", "198.19.0.0/16", "2600:1f18:abcd::/56")
    assert address_scope("198.19.4.5", vpc) == "vpc"  # a secondary block
    assert address_scope("2600:1f18:abcd::20", vpc) == "vpc"
    assert address_scope("10.99.1.20", vpc) == "remote"
    assert address_scope("172.31.0.5", vpc) == "remote" and address_scope("100.100.1.1", vpc) == "remote"
    assert address_scope("fd12::1", vpc) == "remote"
    assert address_scope("52.94.1.1", vpc) == "public"
    assert address_scope("127.172.1.20", vpc, ("127.172.0.0/16",)) == "remote"  # --endpoint-cidr


def test_route_table_remote_networks_leave_out_default_routes():
    table = route_table(Route("0.0.0.0/0", None, "transit-gateway", "tgw-1", "active"),
                        Route("52.94.0.0/22", None, "peering", "pcx-1", "active"),
                        Route("10.99.0.0/16", None, "transit-gateway", "tgw-1", "active"))
    assert table.remote_networks() == ("52.94.0.0/22", "10.99.0.0/16")


def test_inventory_denied_by_the_ec2_endpoint_policy_points_at_that_policy():
    from vpce_doctor.checks.probes.inventory import Inventory

    denied = Inventory(available=False, denied=True, denied_by_endpoint_policy=True,
                       reason="DescribeVpcEndpoints failed (policy_denied): ... no VPC endpoint policy allows ...")
    [finding] = verdicts.node_findings(node(denied))
    assert finding.code == "inventory_unavailable" and "endpoint's policy" in finding.remediation.text
    assert "put-role-policy" not in "\n".join(finding.remediation.commands)


def test_a_shadowing_zone_is_named_with_its_fix():
    from .evidence import missing

    s3 = service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                 vpc=missing("vpc", S3_HOST), node=[], tls_results=[], api_result=api(aws_call.SKIPPED))
    [finding] = verdicts.service_findings(s3, node(inventory(gateway(route_tables=("rtb-node",)))))
    assert "Route 53 zone us-east-1.amazonaws.com" in finding.message and "no private zone may cover" in finding.message
    commands = "\n".join(finding.remediation.commands)
    assert "list-hosted-zones-by-vpc" in commands and "us-east-1.amazonaws.com." in commands
    assert "disassociate-vpc-from-hosted-zone" in commands and "VPCId=vpc-0abc" in commands
    assert any("SOA us-east-1.amazonaws.com (ns-1536.awsdns-00.co.uk awsdns-hostmaster.amazon.com)" in e
               for e in finding.evidence)
    ec2 = service(vpc=missing("vpc"), node=[], tls_results=[], api_result=api(aws_call.SKIPPED))
    [finding] = verdicts.service_findings(ec2, node(inventory(endpoint(private_dns=False))))
    assert finding.code == "private_zone_shadows"
    change = finding.remediation.commands[1]
    assert "change-resource-record-sets" in change and "vpce-0123-abcd.ec2.us-east-1.vpce.amazonaws.com" in change
    assert [a.kind for a in finding.remediation.actions] == ["private_hosted_zone"]


def test_the_vpc_resolvers_view_is_context_at_info():
    evidence = service(vpc=public("vpc"), node=[remote("node")], tls_results=[tls("10.99.1.20")])
    [finding] = verdicts.service_findings(evidence, node(inventory()))
    assert finding.severity == "info" and "a hub's endpoint" in finding.message
    assert "a workload that asks it directly gets public addresses" in finding.message
    assert "Nothing to fix for the node's components" in finding.remediation.text


def test_a_zone_only_the_nodes_resolver_sees_is_not_said_to_be_on_this_vpc():
    """A hub's region-wide zone, reached through the corporate resolver: the fix cannot name its VPC."""
    from .evidence import missing

    s3 = service(id="s3", endpoint_type="Gateway", hostname=S3_HOST, name="com.amazonaws.us-east-1.s3",
                 vpc=public("vpc", S3_HOST), node=[missing("node", S3_HOST)], tls_results=[],
                 api_result=api(aws_call.SKIPPED))
    [finding] = verdicts.service_findings(s3, node(inventory(gateway(route_tables=("rtb-node",)))))
    assert finding.code == "private_zone_shadows" and finding.message.startswith("node resolver 10.0.9.53:53")
    commands = "\n".join(finding.remediation.commands)
    assert "VPCId=<ZONE-VPC-ID>" in commands and "vpc-0abc" not in commands
