"""The lab's AWS side, run inside the vpc namespace: moto (server mode) with the VPC and
its endpoints, the HTTP backend nginx proxies every endpoint to, and IMDS on
169.254.169.254:80. It writes what it built to facts.json, then serves until SIGTERM.

    python -m vpce_doctor.lab.backend SCENARIO WORKDIR BACKEND_PORT [BIND_ADDRESS]

BIND_ADDRESS defaults to 127.0.0.1; with a hub namespace the hub's nginx reaches it over the
transit-gateway link, so the lab binds it to that link's vpc-side address instead.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from ..demo import dns_zones, registry_side
from ..demo.aws_side import LAB, SimulatedAws
from ..demo.https_endpoint import RoutingHandler
from ..demo.imds_server import ImdsServer
from ..demo.scenarios import SCENARIOS
from ..demo.simulated_account import ACCOUNT


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # nginx opens one upstream connection per request; 5 drops SYNs (1 s stalls)

    def __init__(self, address, aws: SimulatedAws, requests_log: str):
        self.aws, self.requests_log = aws, requests_log
        self.aws_clock = aws.aws_clock
        super().__init__(address, RoutingHandler)

    def endpoint_address(self, headers) -> str:
        return headers.get("X-Endpoint-Address", "")

    def router(self, endpoint_address, method, path, headers, body):
        seen = len(self.aws.requests)
        answer = self.aws.route(endpoint_address, method, path, headers, body)
        if len(self.aws.requests) > seen:  # the read-only test reads this file
            with open(self.requests_log, "a") as log:
                log.write(json.dumps(self.aws.requests[-1]) + "\n")
        return answer


def main(argv) -> int:
    scenario_name, workdir, port = argv[0], argv[1], int(argv[2])
    bind = argv[3] if len(argv) > 3 else "127.0.0.1"
    aws = SimulatedAws(SCENARIOS[scenario_name], LAB)
    aws.make_tls_material(workdir)
    aws.start(warm_in_background=True)  # the lab waits for "warmed" before it probes anything
    for name, cert in (("server", aws.server_cert), ("rogue", aws.rogue_cert)):
        cert.private_key_pem.write_to_path(os.path.join(workdir, "%s-key.pem" % name))
        cert.cert_chain_pems[0].write_to_path(os.path.join(workdir, "%s-cert.pem" % name))
    server = _Server((bind, port), aws, os.path.join(workdir, "requests.log"))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    imds = None
    if aws.scenario.imds != "down":
        imds = ImdsServer(LAB.imds_ip, aws.imds_facts(), mode=aws.scenario.imds, port=80).start()
    facts = {
        "vpc_id": aws.vpc_id, "subnet_ids": aws.subnet_ids, "eni_addresses": aws.eni_addresses,
        "hub_addresses": aws.hub_addresses,
        "vpc_zone": dns_zones.vpc_zone(aws).records, "known_names": list(aws.known_names()),
        "private_zones": dns_zones.vpc_zone(aws).zones, "hub_zone": dns_zones.hub_zone(aws).records,
        "public": {n: aws.public_address(n) for n in aws.known_names()},
        "reachable_public": aws.reachable_public_addresses(), "cluster_host": aws.cluster_host,
        "cluster_url": aws.cluster_url(), "dns_suffix": aws.partition.dns_suffix,
        "api_suffix": aws.partition.api_suffix,
        "secrets": ([imds.credentials[k] for k in ("AccessKeyId", "SecretAccessKey", "Token")] if imds else [])
        + registry_side.secrets(ACCOUNT),
        "hostnames": {s: aws.hostnames(s) for s in aws.scenario.services},
    }
    tmp = os.path.join(workdir, "facts.json.tmp")
    with open(tmp, "w") as handle:
        json.dump(facts, handle)
    os.replace(tmp, os.path.join(workdir, "facts.json"))
    aws.warmed.wait(60)
    open(os.path.join(workdir, "warmed"), "w").close()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait(3600)  # bounded: a lab never outlives an hour even if its owner vanished
    server.shutdown()  # no request is logged half-way
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # What is left is stopping IMDS and moto (their servers' poll intervals) and the interpreter
    # tearing down moto's modules: 1.8 s per lab measured, for nothing, as the process and its
    # namespace go away whole. The request log is written and closed request by request.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
