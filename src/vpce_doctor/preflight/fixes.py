"""Fixes for what only the configuration can tell (the node check's own fixes live in
checks/remediation.py and are reused for the shared codes)."""
from __future__ import annotations

from typing import Optional

from ..checks.remediation import q
from ..core.model import FixAction, Remediation


def vpc_dns_disabled(region: str, vpc_id: str, support: bool, hostnames: bool) -> Remediation:
    off = [name for name, on in (("enableDnsSupport", support), ("enableDnsHostnames", hostnames)) if not on]
    commands = []
    if not support:
        commands.append("aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-support '{\"Value\":true}'"
                        % (q(region), q(vpc_id)))
    if not hostnames:
        commands.append("aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-hostnames '{\"Value\":true}'"
                        % (q(region), q(vpc_id)))
    return Remediation(
        text="VPC %s has %s off: endpoint private DNS only works with both enableDnsSupport and "
             "enableDnsHostnames on. Turn them on." % (vpc_id, " and ".join(off)),
        commands=tuple(commands),
        actions=(FixAction("vpc_dns_attributes", {"region": region, "vpc_id": vpc_id, "enable_dns_support": True,
                                                  "enable_dns_hostnames": True}),))


def endpoint_not_available(region: str, endpoint_id: str, state: str) -> Remediation:
    describe = ("aws ec2 describe-vpc-endpoints --region %s --vpc-endpoint-ids %s "
                "--query 'VpcEndpoints[].[State,LastError]'" % (q(region), q(endpoint_id)))
    if state.lower() == "pendingacceptance":
        text = ("Endpoint %s waits for the endpoint service's owner to accept it (pendingAcceptance); until then "
                "no traffic flows. The owner accepts it (aws ec2 accept-vpc-endpoint-connections), or turn on "
                "auto-acceptance on the service." % endpoint_id)
    elif state.lower() in ("pending", "deleting"):
        text = "Endpoint %s is %s: wait for it to settle, then run preflight again." % (endpoint_id, state)
    else:
        text = ("Endpoint %s is %s: read its LastError, delete it and create it again." % (endpoint_id, state))
    return Remediation(text=text, commands=(describe,))


def resolver_rule_overrides(region: str, vpc_id: str, rule_id: str, domain: str, hostname: str,
                            target_ips: str) -> Remediation:
    return Remediation(
        text="Route 53 Resolver rule %s forwards %s (and so %s) to %s instead of answering it from the VPC, "
             "so the endpoint's private DNS is never used. Add a SYSTEM rule for the service name (a more specific "
             "SYSTEM rule wins over a forwarding rule) and associate it with %s, or make the target resolvers "
             "forward AWS names back to the VPC resolver." % (rule_id, domain, hostname, target_ips, vpc_id),
        commands=(
            "aws route53resolver create-resolver-rule --region %s --rule-type SYSTEM --domain-name %s "
            "--creator-request-id \"vpce-doctor-$(date +%%s)\" --query ResolverRule.Id --output text"
            % (q(region), q(hostname)),
            "aws route53resolver associate-resolver-rule --region %s --resolver-rule-id <NEW-RULE-ID> --vpc-id %s"
            % (q(region), q(vpc_id)),
        ),
        actions=(FixAction("resolver_system_rule", {"region": region, "vpc_id": vpc_id, "domain_name": hostname}),))


def nacl_blocked(region: str, problems, node_cidr: str) -> Remediation:
    return Remediation(
        text="A network ACL drops part of the way between the node subnet (%s) and the endpoint's network "
             "interfaces: %s. NACLs are stateless: allow 443 towards the endpoint and the ephemeral ports "
             "(1024-65535) back, in both subnets' ACLs." % (node_cidr, "; ".join(problems)),
        commands=("aws ec2 describe-network-acls --region %s --filters Name=association.subnet-id,Values=<SUBNET-ID>"
                  % q(region),
                  "aws ec2 create-network-acl-entry --region %s --network-acl-id <ACL-ID> --rule-number <FREE-RULE-NUMBER> "
                  "--protocol tcp --port-range From=1024,To=65535 --cidr-block <PEER-CIDR> --ingress --rule-action allow"
                  % q(region)))


def cluster_endpoint_private_off(region: str, cluster: str, public_cidrs: Optional[list]) -> Remediation:
    return Remediation(
        text="Cluster %s has private endpoint access off (public access from %s): nodes in an isolated subnet "
             "cannot reach the API server. Turn private access on." % (cluster, ", ".join(public_cidrs or []) or "nowhere"),
        commands=("aws eks update-cluster-config --region %s --name %s --resources-vpc-config endpointPrivateAccess=true"
                  % (q(region), q(cluster)),),
        actions=(FixAction("eks_endpoint_access", {"region": region, "cluster_name": cluster,
                                                   "endpoint_private_access": True}),))
