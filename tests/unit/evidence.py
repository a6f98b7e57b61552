"""Builders for synthetic evidence: the verdict rules are tested without a network."""
from vpce_doctor.checks import verdicts
from vpce_doctor.checks.probes import aws_call
from vpce_doctor.checks.probes.dns import DnsLookup, ResolvedAddress, Soa
from vpce_doctor.checks.probes.inventory import Endpoint, EndpointEni, Inventory
from vpce_doctor.checks.probes.route_table import Route, RouteTable
from vpce_doctor.checks.probes.tls import TlsResult
from vpce_doctor.checks.remediation import Where

VPC = "10.0.0.2:53"
CORP = "10.0.9.53:53"
WHERE = Where(region="us-east-1", vpc_id="vpc-0abc", subnet_id="subnet-0a", vpc_cidrs=("10.0.0.0/16",),
              instance_id="i-0123")


def dns(role, status="answer", addresses=(), in_vpc=True, hostname="ec2.us-east-1.amazonaws.com", scope="",
        server=None, soa=None):
    server = server or (VPC if role == "vpc" else CORP)
    return DnsLookup(hostname=hostname, rdtype="A", resolver_role=role, server=server, status=status,
                     addresses=tuple(ResolvedAddress(a, in_vpc, scope) for a in addresses), soa=soa)


# A Route 53 private hosted zone's SOA, as awsdocs/amazon-ecs-developer-guide create-service-discovery.md shows it
def route53_soa(zone="us-east-1.amazonaws.com"):
    return Soa(zone=zone, mname="ns-1536.awsdns-00.co.uk", rname="awsdns-hostmaster.amazon.com")


def missing(role, hostname="ec2.us-east-1.amazonaws.com", zone="us-east-1.amazonaws.com", status="nxdomain",
            soa=True, server=None):
    """NXDOMAIN / NODATA, with the answering zone's SOA (Route 53's unless soa is a Soa or False)."""
    record = route53_soa(zone) if soa is True else (soa or None)
    return dns(role, status=status, hostname=hostname, server=server, soa=record)


def remote(role, hostname="ec2.us-east-1.amazonaws.com", addresses=("10.99.1.20", "10.99.2.20")):
    """A hub VPC's endpoint, answered through a shared private zone."""
    return dns(role, addresses=addresses, in_vpc=False, hostname=hostname, scope="remote")


def inside(role, hostname="ec2.us-east-1.amazonaws.com"):
    return dns(role, addresses=("10.0.1.20", "10.0.2.20"), hostname=hostname)


def public(role, hostname="ec2.us-east-1.amazonaws.com", server=None):
    return dns(role, addresses=("203.0.113.10",), in_vpc=False, hostname=hostname, server=server)


def tls(address="10.0.1.20", ok=True, phase="done", kind=None, error=None):
    return TlsResult(address=address, port=443, sni="ec2.us-east-1.amazonaws.com", source="dns",
                     availability_zone=None, ok=ok, phase=phase, error_kind=kind, error=error)


def api(outcome=aws_call.SUCCESS, code=None, message=None, skew=None, operation="DescribeAvailabilityZones",
        denied_by=None):
    return aws_call.ApiResult(operation=operation, outcome=outcome, error_code=code, message=message,
                              skew_seconds=skew, server_date="x" if skew is not None else None, denied_by=denied_by)


def policy(*statements):
    """An endpoint PolicyDocument as DescribeVpcEndpoints returns it: JSON text."""
    import json

    return json.dumps({"Version": "2008-10-17", "Statement": list(statements)})


def allow(actions, resources="*"):
    return {"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": resources}


def endpoint(service="com.amazonaws.us-east-1.ec2", private_dns=True, azs=("us-east-1a", "us-east-1b"),
             policy_document=None):
    enis = tuple(EndpointEni("eni-%d" % i, "10.0.%d.20" % (i + 1), az, "subnet-%d" % i) for i, az in enumerate(azs))
    return Endpoint(id="vpce-0123", service_name=service, type="Interface", state="available",
                    private_dns_enabled=private_dns, subnet_ids=(), security_group_ids=("sg-0e",), route_table_ids=(),
                    dns_entries=({"dns_name": "vpce-0123-abcd.ec2.us-east-1.vpce.amazonaws.com", "hosted_zone_id": "Z7"},),
                    enis=enis, policy_document=policy_document)


def gateway(service="com.amazonaws.us-east-1.s3", route_tables=("rtb-main",), policy_document=None):
    return Endpoint(id="vpce-0gw", service_name=service, type="Gateway", state="available", private_dns_enabled=False,
                    subnet_ids=(), security_group_ids=(), route_table_ids=tuple(route_tables), dns_entries=(),
                    policy_document=policy_document)


def route_table(*routes, id="rtb-node", main=False):
    local = Route("10.0.0.0/16", None, "local", "local", "active")
    return RouteTable(available=True, id=id, main=main, routes=(local,) + tuple(routes))


def inventory(*endpoints, table=None):
    return Inventory(available=True, endpoints=tuple(endpoints), route_table=table)


NO_INVENTORY = Inventory(available=False, reason="no credentials")
DENIED = Inventory(available=False, denied=True,
                   reason="DescribeVpcEndpoints failed (iam_denied): UnauthorizedOperation: You are not authorized")


def service(vpc=None, node=None, tls_results=None, api_result=None, id="ec2", endpoint_type="Interface",
            required=True, name="com.amazonaws.us-east-1.ec2", hostname="ec2.us-east-1.amazonaws.com", needed=(),
            iam_action="ec2:DescribeAvailabilityZones", iam_resource=None):
    lookups = [vpc if vpc is not None else inside("vpc", hostname)] + list(node if node is not None else [inside("node", hostname)])
    return verdicts.ServiceEvidence(id=id, endpoint_type=endpoint_type, endpoint_service_name=name, hostname=hostname,
                                    required=required, dns=lookups,
                                    tls=tls_results if tls_results is not None else [tls(), tls("10.0.2.20")],
                                    api=api_result if api_result is not None else api(), action_needed_by=needed,
                                    iam_action=iam_action, iam_resource=iam_resource)


def node(inv=None, az="us-east-1a", **kw):
    return verdicts.NodeEvidence(where=WHERE, availability_zone=az, vpc_resolver=VPC,
                                 inventory=inv if inv is not None else inventory(endpoint()), **kw)

