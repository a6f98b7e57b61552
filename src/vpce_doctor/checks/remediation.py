"""Exact fixes: text plus AWS CLI commands filled in with this node's facts.

Anything the node cannot know (a security group to attach, a route table id) is shown
as an <ANGLE-BRACKETED> placeholder, with the command that finds it placed first.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shlex
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ..core.model import FixAction, Remediation


@dataclass(frozen=True)
class Where:
    """The node facts a fix is filled in with."""

    region: str
    vpc_id: str
    subnet_id: str
    vpc_cidrs: Tuple[str, ...]
    instance_id: str = "<INSTANCE-ID>"


_PLACEHOLDER = re.compile(r"^<[A-Z0-9][A-Z0-9+_-]*>$")


def q(value: object) -> str:
    """One value for a shell command line, quoted so that whatever a server or IMDS put in it
    (`;`, `$(...)`, spaces) stays one inert word. <PLACEHOLDERS> stay readable as they are."""
    text = str(value)
    return text if _PLACEHOLDER.match(text) else shlex.quote(text)


def _vpc(where: Where) -> str:
    return where.vpc_id or "<VPC-ID>"


def _subnet(where: Where) -> str:
    return where.subnet_id or "<SUBNET-ID>"


def _cidrs(where: Where) -> Sequence[str]:
    return [c for c in where.vpc_cidrs if ":" not in c] or ["<VPC-CIDR>"]


def vpc_plus_two(where: Where) -> str:
    """The Route 53 Resolver's in-VPC address (VPC base + 2): what a DNS server elsewhere
    in the VPC forwards to. 169.254.169.253 only works from the instance itself."""
    for cidr in where.vpc_cidrs:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if net.version == 4:
            return str(net.network_address + 2)
    return "<VPC-CIDR-BASE+2>"


def _security_group_action(where: Where) -> FixAction:
    return FixAction("create_security_group", {
        "region": where.region, "vpc_id": _vpc(where), "group_name": "vpce-https",
        "description": "HTTPS from the VPC to interface endpoints", "ingress_cidrs": list(_cidrs(where)), "port": 443})


def _security_group_commands(where: Where) -> List[str]:
    commands = [
        "aws ec2 create-security-group --region %s --vpc-id %s --group-name vpce-https "
        "--description 'HTTPS from the VPC to interface endpoints'" % (q(where.region), q(_vpc(where)))
    ]
    commands += [
        "aws ec2 authorize-security-group-ingress --region %s --group-id <SG-ID> --protocol tcp --port 443 --cidr %s"
        % (q(where.region), q(cidr)) for cidr in _cidrs(where)
    ]
    return commands


def _find_route_table(where: Where) -> str:
    return ("aws ec2 describe-route-tables --region %s --filters Name=association.subnet-id,Values=%s "
            "--query 'RouteTables[].RouteTableId' --output text" % (q(where.region), q(_subnet(where))))


def endpoint_missing(where: Where, service_id: str, service_name: str, endpoint_type: str,
                     existing_gateway: Optional[str] = None, route_table_id: Optional[str] = None,
                     subnet_ids: Optional[Sequence[str]] = None) -> Remediation:
    """route_table_id and subnet_ids fill the placeholders when the caller knows them (preflight)."""
    table = route_table_id or "<RTB-ID>"
    if endpoint_type == "Gateway":
        find = () if route_table_id else (_find_route_table(where),)  # a known table needs no look-up
        if existing_gateway:
            return Remediation(
                text="Gateway endpoint %s exists but the route table of subnet %s does not send %s traffic to it. "
                     "Associate the subnet's route table with the endpoint." % (existing_gateway, _subnet(where), service_id),
                commands=find + ("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --add-route-table-ids %s"
                                 % (q(where.region), q(existing_gateway), q(table)),),
                actions=(FixAction("associate_route_table", {"region": where.region, "vpc_endpoint_id": existing_gateway,
                                                             "route_table_id": table}),))
        return Remediation(
            text="Create a gateway endpoint for %s and associate it with the route table of subnet %s "
                 "(gateway endpoints are free and need no DNS change)." % (service_id, _subnet(where)),
            commands=find + ("aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Gateway "
                             "--service-name %s --route-table-ids %s"
                             % (q(where.region), q(_vpc(where)), q(service_name), q(table)),),
            actions=(FixAction("create_gateway_endpoint", {"region": where.region, "vpc_id": _vpc(where), "service_id": service_id,
                                                           "service_name": service_name, "route_table_ids": [table]}),))
    subnets = list(subnet_ids or [_subnet(where)])
    return Remediation(
        text="Create an interface endpoint for %s in this VPC with private DNS enabled, in the node's subnet "
             "(and one subnet per other AZ your nodes use), with a security group that allows TCP 443 from the VPC."
             % service_id,
        commands=tuple(_security_group_commands(where)) + (
            "aws ec2 create-vpc-endpoint --region %s --vpc-id %s --vpc-endpoint-type Interface --service-name %s "
            "--subnet-ids %s --security-group-ids <SG-ID> --private-dns-enabled"
            % (q(where.region), q(_vpc(where)), q(service_name), " ".join(q(s) for s in subnets)),),
        actions=(_security_group_action(where), FixAction("create_interface_endpoint", {
            "region": where.region, "vpc_id": _vpc(where), "service_id": service_id, "service_name": service_name,
            "subnet_ids": subnets, "security_group_ids": ["<SG-ID>"], "private_dns_enabled": True})))


def private_dns_disabled(where: Where, endpoint_id: str, private_dns_enabled: bool) -> Remediation:
    if private_dns_enabled:
        return Remediation(
            text="Endpoint %s has private DNS on, yet the VPC resolver answers with public addresses: "
                 "private DNS needs both enableDnsSupport and enableDnsHostnames on the VPC." % endpoint_id,
            commands=(
                "aws ec2 describe-vpc-attribute --region %s --vpc-id %s --attribute enableDnsHostnames" % (q(where.region), q(_vpc(where))),
                "aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-hostnames '{\"Value\":true}'" % (q(where.region), q(_vpc(where))),
                "aws ec2 modify-vpc-attribute --region %s --vpc-id %s --enable-dns-support '{\"Value\":true}'" % (q(where.region), q(_vpc(where))),
            ),
            actions=(FixAction("vpc_dns_attributes", {"region": where.region, "vpc_id": _vpc(where),
                                                      "enable_dns_support": True, "enable_dns_hostnames": True}),))
    return Remediation(
        text="Turn on private DNS for endpoint %s so the service's own name resolves to the endpoint inside "
             "the VPC (system components cannot be pointed at the vpce- name)." % endpoint_id,
        commands=("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --private-dns-enabled"
                  % (q(where.region), q(endpoint_id)),),
        actions=(FixAction("modify_endpoint", {"region": where.region, "vpc_endpoint_id": endpoint_id,
                                               "private_dns_enabled": True}),))


def custom_dns(where: Where, hostname: str, resolver: str, endpoint_id: Optional[str],
               dns_entries: Sequence[dict], missing_record: bool) -> Remediation:
    change, target, zone = alias_change(hostname, dns_entries)
    what = "has no record for" if missing_record else "does not forward"
    return Remediation(
        text="The node's resolver %s %s %s, while the VPC resolver answers with the endpoint. Either add a "
             "conditional forwarder for %s (or its parent zone %s) to the VPC resolver at %s, "
             "or create a Route 53 private hosted zone for the name, associated with %s, with an alias record "
             "to the endpoint%s." % (resolver, what, hostname, hostname, hostname.split(".", 1)[-1],
                                     vpc_plus_two(where), _vpc(where), " " + endpoint_id if endpoint_id else ""),
        commands=(
            # $(date) is ours: a unique caller reference; every value is quoted
            "aws route53 create-hosted-zone --name %s --vpc VPCRegion=%s,VPCId=%s --caller-reference \"vpce-doctor-$(date +%%s)\" "
            "--hosted-zone-config PrivateZone=true" % (q(hostname), q(where.region), q(_vpc(where))),
            "aws route53 change-resource-record-sets --hosted-zone-id <NEW-ZONE-ID> --change-batch %s" % q(change),
        ),
        actions=(FixAction("private_hosted_zone", {"region": where.region, "vpc_id": _vpc(where), "name": hostname,
                                                   "alias_dns_name": target, "alias_hosted_zone_id": zone}),))


def alias_change(hostname: str, dns_entries: Sequence[dict]) -> Tuple[str, str, str]:
    """(the Route 53 change batch as one JSON word, alias target, its hosted zone id): an A alias from
    the service name to the endpoint's regional name. Built as JSON (a quote in a name stays inside its
    string), then quoted as one shell word by the caller."""
    regional = next((e for e in dns_entries if e.get("dns_name") and not _zonal(e["dns_name"])), None)
    target = regional["dns_name"] if regional else "<ENDPOINT-REGIONAL-DNS-NAME>"
    zone_id = regional["hosted_zone_id"] if regional else "<ENDPOINT-HOSTED-ZONE-ID>"
    change = json.dumps({"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": hostname, "Type": "A",
        "AliasTarget": {"HostedZoneId": zone_id, "DNSName": target, "EvaluateTargetHealth": False}}}]},
        separators=(",", ":"))
    return change, target, zone_id


def _zonal(dns_name: str) -> bool:
    # per-AZ entries look like vpce-...-us-east-1a.ec2.us-east-1.vpce.amazonaws.com
    first = dns_name.split(".", 1)[0]
    return first.count("-") >= 4 and first[-1:].isalpha() and first[-2:-1].isdigit()


def dns_failure(hostname: str, server: str, status: str) -> Remediation:
    host, _, port = server.rpartition(":")
    return Remediation(
        text="Resolver %s gave %s for %s. Check that the resolver runs and that UDP and TCP 53 from this node "
             "reach it (security group, NACL, host firewall)." % (server, status.upper(), hostname),
        commands=("dig %s -p %s %s A +time=2 +tries=1" % (q("@" + host.strip("[]")), q(port), q(hostname)),
                  "dig %s -p %s %s A +tcp +time=2 +tries=1" % (q("@" + host.strip("[]")), q(port), q(hostname))))


def port_blocked(where: Where, service_id: str, addresses: Sequence[str], security_groups: Sequence[str]) -> Remediation:
    groups = list(security_groups) or ["<ENDPOINT-SG-ID>"]
    commands = ["aws ec2 authorize-security-group-ingress --region %s --group-id %s --protocol tcp --port 443 --cidr %s"
                % (q(where.region), q(group), q(cidr)) for group in groups for cidr in _cidrs(where)]
    commands.append("aws ec2 describe-network-acls --region %s --filters Name=association.subnet-id,Values=%s"
                    % (q(where.region), q(_subnet(where))))
    actions = tuple(FixAction("security_group_ingress", {"region": where.region, "security_group_id": group, "cidr": cidr,
                                                         "port": 443}) for group in groups for cidr in _cidrs(where))
    return Remediation(
        text="TCP 443 to the %s endpoint (%s) does not connect. Allow inbound 443 from the VPC CIDRs on the "
             "endpoint's security group, and check the subnet NACLs in both directions (ephemeral ports back)."
             % (service_id, ", ".join(addresses)),
        commands=tuple(commands), actions=actions)


def tls_failure(hostname: str, address: str, port: int, error: str) -> Remediation:
    return Remediation(
        text="TLS to %s at %s fails (%s). A TLS-inspecting proxy or firewall, a wrong CA bundle "
             "(--ca-bundle / AWS_CA_BUNDLE), or something other than the endpoint answering on 443 are the usual causes."
             % (hostname, address, error),
        commands=("openssl s_client -connect %s -servername %s -showcerts </dev/null"
                  % (q("%s:%s" % (address, port)), q(hostname)),))


def policy_denied(where: Where, service_id: str, endpoint_id: Optional[str], operation: str) -> Remediation:
    endpoint = endpoint_id or "<VPCE-ID>"
    return Remediation(
        text="The %s endpoint's policy denies %s. Allow the actions your nodes need (and the node role as principal) "
             "in the endpoint policy." % (service_id, operation),
        commands=(
            "aws ec2 describe-vpc-endpoints --region %s --vpc-endpoint-ids %s --query 'VpcEndpoints[].PolicyDocument' --output text"
            % (q(where.region), q(endpoint)),
            "aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --policy-document file://endpoint-policy.json"
            % (q(where.region), q(endpoint)),
        ))


def iam_denied(where: Where, service_id: str, operation: str) -> Remediation:
    return Remediation(
        text="The endpoint path works, but the node's role may not call %s (%s). Grant it in the node role's "
             "IAM policy if a component on this node needs it." % (operation, service_id),
        commands=("aws ec2 describe-iam-instance-profile-associations --region %s --filters Name=instance-id,Values=%s"
                  % (q(where.region), q(where.instance_id or "<INSTANCE-ID>")),))


def endpoint_az_missing(where: Where, endpoint_id: str, az: str) -> Remediation:
    return Remediation(
        text="Endpoint %s has no network interface in %s, so traffic from this node crosses AZs and fails "
             "when that AZ is impaired. Add a subnet in %s to the endpoint." % (endpoint_id, az, az),
        commands=("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --add-subnet-ids %s"
                  % (q(where.region), q(endpoint_id), q(_subnet(where))),),
        actions=(FixAction("modify_endpoint", {"region": where.region, "vpc_endpoint_id": endpoint_id,
                                               "add_subnet_ids": [_subnet(where)]}),))


def clock_skew(skew: Optional[float]) -> Remediation:
    return Remediation(
        text="The node clock is off%s; SigV4 requests are rejected beyond 5 minutes. Sync it with the Amazon "
             "Time Sync Service (169.254.169.123) through chrony." % (" by %+.0f s" % -skew if skew is not None else ""),
        commands=("chronyc tracking", "chronyc sources -v", "sudo systemctl restart chronyd"))


def no_credentials(where: Where, invalid: bool) -> Remediation:
    text = ("The credentials found were rejected (invalid or expired). " if invalid
            else "No AWS credentials were found (environment, profile or instance role). ")
    return Remediation(
        text=text + "Nodes sign with the instance profile role; check it is attached and IMDS serves it.",
        commands=("aws ec2 describe-iam-instance-profile-associations --region %s --filters Name=instance-id,Values=%s"
                  % (q(where.region), q(where.instance_id or "<INSTANCE-ID>")),
                  "curl -s -H \"X-aws-ec2-metadata-token: $(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
                  "http://169.254.169.254/latest/api/token)\" http://169.254.169.254/latest/meta-data/iam/security-credentials/"))


def proxy_bypass_missing(where: Where, component: str, missing: Sequence[str], no_proxy: Optional[str]) -> Remediation:
    wanted = ",".join(([no_proxy] if no_proxy else []) + list(missing))
    unit = "kubelet" if component == "kubelet" else "containerd"
    return Remediation(
        text="%s sends AWS traffic to its HTTPS proxy because NO_PROXY lacks %s; the VPC endpoints are bypassed. "
             "Add them to NO_PROXY in the %s unit's environment and restart it." % (component, ", ".join(missing), unit),
        # the value goes in as printf's argument, never its format: a % or \\ in it stays literal
        commands=("sudo systemctl show %s --property=Environment" % q(unit),
                  "sudo mkdir -p %s && printf '%%s\\n' '[Service]' %s | sudo tee %s" % (
                      q("/etc/systemd/system/%s.service.d" % unit), q('Environment="NO_PROXY=%s"' % wanted),
                      q("/etc/systemd/system/%s.service.d/no-proxy.conf" % unit)),
                  "sudo systemctl daemon-reload && sudo systemctl restart %s" % q(unit)))


def imds_unreachable(where: Where, turned_off: bool = False) -> Remediation:
    return Remediation(
        text=("IMDS is turned off in this instance's metadata options (HttpEndpoint disabled): the node has no "
              "region, identity or role credentials from it. Turn it on (IMDSv2 only, hop limit 2 for containers)."
              if turned_off else
              "IMDS answered neither v2 nor v1. Check the instance metadata options (endpoint enabled; a hop limit "
              "of 2 where containers need it) and host firewall rules for 169.254.169.254."),
        commands=("aws ec2 describe-instances --region %s --instance-ids %s --query 'Reservations[].Instances[].MetadataOptions'"
                  % (q(where.region), q(where.instance_id or "<INSTANCE-ID>")),
                  "aws ec2 modify-instance-metadata-options --region %s --instance-id %s --http-endpoint enabled "
                  "--http-tokens required --http-put-response-hop-limit 2" % (q(where.region), q(where.instance_id or "<INSTANCE-ID>"))))


def cluster_endpoint_unreachable(where: Where, url: str, reason: str) -> Remediation:
    return Remediation(
        text="The EKS API server %s is not reachable from this node (%s). In an isolated subnet the cluster needs "
             "private endpoint access, and the cluster security group must allow 443 from the nodes." % (url, reason),
        commands=("aws eks describe-cluster --region %s --name <CLUSTER-NAME> --query cluster.resourcesVpcConfig" % q(where.region),
                  "aws eks update-cluster-config --region %s --name <CLUSTER-NAME> "
                  "--resources-vpc-config endpointPrivateAccess=true" % q(where.region)),
        actions=(FixAction("eks_endpoint_access", {"region": where.region, "cluster_name": "<CLUSTER-NAME>",
                                                   "endpoint_private_access": True}),))


def no_privatelink_service(where: Where, api_id: str, component: str) -> Remediation:
    """The workaround is a setting of the component, from no_privatelink.json (its source is in the evidence)."""
    from .no_privatelink import load_apis

    api = next(a for a in load_apis() if a["id"] == api_id)
    return Remediation(
        text="%s No VPC endpoint can serve this name, so creating endpoints will not help." % api["workaround"],
        commands=tuple(c.replace("{region}", q(where.region or "<REGION>")) for c in api.get("commands", ())))


# where a component's environment is set: (kind/name, namespace) for pods, None for a systemd unit
_WORKLOADS = {
    "aws-node": ("daemonset/aws-node", "kube-system"),
    "karpenter": ("deployment/karpenter", "<KARPENTER-NAMESPACE>"),
    "aws-load-balancer-controller": ("deployment/aws-load-balancer-controller", "kube-system"),
    "ebs-csi": ("deployment/ebs-csi-controller", "kube-system"),
    "efs-csi": ("deployment/efs-csi-controller", "kube-system"),
    "eks-pod-identity-agent": ("daemonset/eks-pod-identity-agent", "kube-system"),
    "cluster-autoscaler": ("deployment/cluster-autoscaler", "kube-system"),
}


def sts_global_endpoint(where: Where, component: str, setting: str) -> Remediation:
    region = where.region or "<REGION>"
    if setting.startswith("AWS_ENDPOINT_URL_STS"):
        wanted = "AWS_ENDPOINT_URL_STS=https://sts.%s.amazonaws.com" % region
        change = "point AWS_ENDPOINT_URL_STS at the regional endpoint https://sts.%s.amazonaws.com" % region
    else:
        wanted = "AWS_STS_REGIONAL_ENDPOINTS=regional"
        change = "set AWS_STS_REGIONAL_ENDPOINTS=regional"
    text = ("%s sends its STS calls (AssumeRoleWithWebIdentity for IRSA) to sts.amazonaws.com because of %s. "
            "On that workload, %s (or update it to an AWS SDK that defaults to the regional endpoint); the regional "
            "name resolves to this VPC's sts endpoint." % (component, setting, change))
    if component in ("kubelet", "containerd"):
        return Remediation(text=text, commands=(
            "sudo systemctl show %s --property=Environment" % component,
            "sudo mkdir -p /etc/systemd/system/%s.service.d && printf '[Service]\\nEnvironment=%%s\\n' %s "
            "| sudo tee /etc/systemd/system/%s.service.d/sts-regional.conf" % (component, q(wanted), component),
            "sudo systemctl daemon-reload && sudo systemctl restart %s" % component))
    workload, namespace = _WORKLOADS.get(component, ("<WORKLOAD>", "<NAMESPACE>"))
    return Remediation(text=text, commands=(
        "kubectl -n %s set env %s %s" % (q(namespace), q(workload), q(wanted)),))


def pod_identity_agent_unreachable(where: Where, urls: Sequence[str]) -> Remediation:
    return Remediation(
        text="The EKS Pod Identity agent runs on this node but does not answer on %s. Its init container puts "
             "169.254.170.23 (and fd00:ec2::23) on the pod-id-link0 interface and the agent listens there on port 80 "
             "(hostNetwork): check the agent pod on this node and its logs, that the address is on pod-id-link0, "
             "and that nothing else holds port 80 on the node." % ", ".join(urls),
        commands=(
            "kubectl -n kube-system get pods -l app.kubernetes.io/name=eks-pod-identity-agent -o wide "
            "--field-selector spec.nodeName=<NODE-NAME>",
            "kubectl -n kube-system logs daemonset/eks-pod-identity-agent --all-containers --tail=50",
            "ip addr show dev pod-id-link0",
            "sudo ss -ltnp 'sport = :80'",
        ) + tuple("curl -s -o /dev/null -w '%%{http_code}\\n' --max-time 2 %s/" % q(u) for u in urls))


def endpoint_missing_or_private_dns_off(where: Where, service_id: str, service_name: str) -> Remediation:
    """No inventory: the name answers public either because there is no endpoint or because the
    existing one has private DNS off. The first command tells which; both fixes follow."""
    create = endpoint_missing(where, service_id, service_name, "Interface")
    return Remediation(
        text="Find out whether an endpoint for %s exists in %s (first command; the node role may not run it). "
             "If none: create an interface endpoint with private DNS enabled, in the node's subnet, with a security "
             "group that allows TCP 443 from the VPC. If one exists: turn its private DNS on."
             % (service_name, _vpc(where)),
        commands=("aws ec2 describe-vpc-endpoints --region %s --filters Name=vpc-id,Values=%s "
                  "Name=service-name,Values=%s --query 'VpcEndpoints[].[VpcEndpointId,PrivateDnsEnabled]' --output text"
                  % (q(where.region), q(_vpc(where)), q(service_name)),)
        + create.commands
        + ("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id <VPCE-ID> --private-dns-enabled" % q(where.region),),
        # as code: the likelier fix (an isolated subnet without an inventory usually lacks the endpoint)
        actions=create.actions)


def gateway_route_missing(where: Where, service_id: str, endpoint_id: str, route_table_id: Optional[str]) -> Remediation:
    table = route_table_id or "<RTB-ID>"
    commands = () if route_table_id else (_find_route_table(where),)
    return Remediation(
        text="Gateway endpoint %s exists but subnet %s's route table %s does not send %s traffic to it "
             "(new subnets and route tables are easily forgotten). Add the route table to the endpoint."
             % (endpoint_id, _subnet(where), table, service_id),
        commands=commands + ("aws ec2 modify-vpc-endpoint --region %s --vpc-endpoint-id %s --add-route-table-ids %s"
                             % (q(where.region), q(endpoint_id), q(table)),),
        # the same change as code (--fix-format terraform / cloudformation); <RTB-ID> stays a placeholder
        actions=(FixAction("associate_route_table", {"region": where.region, "vpc_endpoint_id": endpoint_id,
                                                     "route_table_id": table}),))


def remote_port_blocked(where: Where, service_id: str, service_name: str, addresses: Sequence[str], hub_cidr: str,
                        route_table_id: Optional[str], route: Optional[Tuple[str, Optional[str]]]) -> Remediation:
    """Centralised endpoints: the shared private zone answers with the hub's endpoint, 443 does not get there."""
    table = route_table_id or "<RTB-ID>"
    if route is not None:
        kind, target = route
        path = "route table %s sends %s to %s %s" % (table, hub_cidr, kind.replace("-", " "), target)
        route_commands = ["aws ec2 describe-route-tables --region %s --route-table-ids %s" % (q(where.region), q(table))]
        if kind == "transit-gateway":
            route_commands.append("aws ec2 search-transit-gateway-routes --region %s --transit-gateway-route-table-id "
                                  "<TGW-RTB-ID> --filters Name=route-search.exact-match,Values=%s"
                                  % (q(where.region), q(hub_cidr)))
    else:
        path = "route table %s has no transit gateway or peering route for %s" % (table, hub_cidr)
        route_commands = ["aws ec2 create-route --region %s --route-table-id %s --destination-cidr-block %s "
                          "--transit-gateway-id <TGW-ID>" % (q(where.region), q(table), q(hub_cidr))]
    sg_commands = ["aws ec2 describe-vpc-endpoints --region %s --filters Name=service-name,Values=%s "
                   "--query 'VpcEndpoints[].[VpcEndpointId,VpcId,Groups]'   # in the hub account"
                   % (q(where.region), q(service_name))]
    sg_commands += ["aws ec2 authorize-security-group-ingress --region %s --group-id <HUB-ENDPOINT-SG-ID> --protocol tcp "
                    "--port 443 --cidr %s   # in the hub account" % (q(where.region), q(cidr)) for cidr in _cidrs(where)]
    return Remediation(
        text="%s is answered by a hub VPC's endpoint (%s, in %s), but TCP 443 does not get there; creating an "
             "endpoint here is not the fix. Check the path: %s (and the transit gateway route table or the peering's "
             "routes back to %s), then the hub endpoint's security group, which must allow TCP 443 from this VPC, "
             "and the NACLs on both sides." % (service_id, ", ".join(addresses), hub_cidr, path, ", ".join(_cidrs(where))),
        commands=tuple(route_commands + sg_commands))


def inventory_unavailable(where: Where, role: Optional[str], route_tables_denied: bool,
                          by_endpoint_policy: bool = False) -> Remediation:
    actions = ["ec2:DescribeVpcEndpoints", "ec2:DescribeVpcEndpointServices", "ec2:DescribeNetworkInterfaces"]
    if route_tables_denied:
        actions.append("ec2:DescribeRouteTables")
    statement = ('{"Version":"2012-10-17","Statement":[{"Sid":"VpceDoctorInventory","Effect":"Allow","Action":[%s],'
                 '"Resource":"*"}]}' % ",".join('"%s"' % a for a in actions))
    if by_endpoint_policy:
        return Remediation(
            text="The ec2 endpoint's policy denies %s. To let vpce-doctor name endpoints, their AZs and security "
                 "groups, allow these read-only actions for the node role in that endpoint's policy." % ", ".join(actions),
            commands=("aws ec2 describe-vpc-endpoints --region %s --filters Name=vpc-id,Values=%s "
                      "Name=service-name,Values=<EC2-ENDPOINT-SERVICE-NAME> --query 'VpcEndpoints[].PolicyDocument'"
                      % (q(where.region), q(_vpc(where))),))
    return Remediation(
        text="The AWS-managed node policies do not grant %s. To let vpce-doctor name endpoints, their AZs and "
             "security groups, add this read-only statement to the node role (or run vpce-doctor with a role "
             "that has it): %s" % (", ".join(actions), statement),
        commands=("aws iam put-role-policy --role-name %s --policy-name vpce-doctor-inventory --policy-document %s"
                  % (q(role or "<NODE-ROLE-NAME>"), q(statement)),))
