"""API: the service's cheap signed read-only call, sent where the node's DNS points."""
from __future__ import annotations

from .probes import aws_call


class ApiCheck:
    id = "api"
    scope = "service"
    title = "A signed read-only call through the endpoint"

    def run(self, ctx, service) -> aws_call.ApiResult:
        hostname = ctx.hostnames(service)[0]
        operation = service.probe_for({"instance_id": ctx.facts.instance_id,
                                       "cluster_name": ctx.facts.cluster_name})["operation"]
        if ctx.settings.no_api:
            return aws_call.ApiResult(operation=operation, outcome=aws_call.SKIPPED, hostname=hostname,
                                      message="--no-api")
        addresses = ctx.node_addresses(hostname)
        if not addresses:
            return aws_call.ApiResult(operation=operation, outcome=aws_call.SKIPPED, hostname=hostname,
                                      message="%s does not resolve from the node" % hostname)
        credentials = ctx.credentials() if service.probe["kind"] == "aws" else None
        # the node's own instance and cluster: what the AWS-managed node policies let it describe
        probe = service.probe_for({"instance_id": ctx.facts.instance_id, "cluster_name": ctx.facts.cluster_name})
        return aws_call.call(probe, hostname, addresses[0], ctx.settings.https_port, ctx.facts.region,
                             credentials, ctx.ssl_context(), ctx.step_timeout(), ctx.guard, ctx.clock,
                             deadline=ctx.deadline)
