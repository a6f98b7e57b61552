"""API: the service's cheap signed read-only call, sent where the node's DNS points."""
from __future__ import annotations

import time

from .probes import aws_call
from .probes.inventory import THROTTLE_CODES, backoff_pause


class ApiCheck:
    id = "api"
    scope = "service"
    title = "A signed read-only call through the endpoint"

    def run(self, ctx, service) -> aws_call.ApiResult:
        hostname = ctx.hostnames(service)[0]
        operation = service.probe["operation"]
        if ctx.settings.no_api:
            return aws_call.ApiResult(operation=operation, outcome=aws_call.SKIPPED, hostname=hostname,
                                      message="--no-api")
        addresses = ctx.node_addresses(hostname)
        if not addresses:
            return aws_call.ApiResult(operation=operation, outcome=aws_call.SKIPPED, hostname=hostname,
                                      message="%s does not resolve from the node" % hostname)
        credentials = ctx.credentials() if service.probe["kind"] == "aws" else None
        attempt = 0
        while True:
            result = aws_call.call(service.probe, hostname, addresses[0], ctx.settings.https_port, ctx.facts.region,
                                   credentials, ctx.ssl_context(), ctx.step_timeout(), ctx.guard, ctx.clock)
            # A throttled answer proves the path but says nothing of permissions: ask again after a
            # pause while the deadline allows; the last answer stands otherwise.
            pause = backoff_pause(attempt, ctx.remaining(), ctx.step_timeout()) \
                if (result.error_code or "") in THROTTLE_CODES else None
            if pause is None:
                return result
            time.sleep(pause)
            attempt += 1
