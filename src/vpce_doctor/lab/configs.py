"""Configuration files for the lab's real servers, rendered from the scenario's facts."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple


def unbound_conf(workdir: str, interfaces: Iterable[str], records: Dict[str, List[str]],
                 zones: Iterable[str], private_zones: Optional[Dict[str, str]] = None) -> str:
    """The VPC resolver: authoritative static zones for the partition's AWS domains, and the VPC's
    private hosted zones (name -> SOA rdata): unbound answers a name under one without a record NXDOMAIN
    (its apex NODATA) with that SOA in the authority section, as Route 53 does."""
    lines = ["server:"]
    lines += ["  interface: %s" % i for i in interfaces]
    lines += ["  port: 53", "  access-control: 0.0.0.0/0 allow", '  username: ""', '  chroot: ""',
              '  directory: "%s"' % workdir, '  pidfile: ""', "  use-syslog: no", '  logfile: ""', "  verbosity: 0",
              "  do-daemonize: no", "  do-ip6: no", "  num-threads: 1", "  so-reuseport: no",
              '  module-config: "iterator"', "  cache-max-ttl: 0", "  cache-max-negative-ttl: 0"]
    lines += ['  local-zone: "%s." static' % z for z in zones]
    for zone, soa in sorted((private_zones or {}).items()):
        lines += ['  local-zone: "%s." static' % zone, '  local-data: "%s. 900 IN SOA %s"' % (zone, soa)]
    for name, addresses in sorted(records.items()):
        lines += ['  local-data: "%s. 60 IN A %s"' % (name, a) for a in addresses]
    lines += ["remote-control:", "  control-enable: no"]
    return "\n".join(lines) + "\n"


def nginx_conf(workdir: str, backend_port: int, servers: List[Tuple[str, str]], backend_host: str = "127.0.0.1",
               name: str = "nginx") -> str:
    """servers: (listen address, "server" | "rogue" certificate). Every endpoint ENI proxies
    to the lab backend, which answers like AWS (moto, or a canned answer). `name` keeps a second
    nginx (the hub's) apart: its own pid file, log and temp directories."""
    blocks = []
    for address, cert in servers:
        blocks.append("""    server {
        listen %(address)s:443 ssl;
        ssl_certificate %(workdir)s/%(cert)s-cert.pem;
        ssl_certificate_key %(workdir)s/%(cert)s-key.pem;
        location / {
            proxy_pass http://%(backend)s:%(port)d;
            proxy_set_header Host $host;
            proxy_set_header X-Endpoint-Address $server_addr;
            proxy_pass_header Date;
            proxy_pass_header Server;
        }
    }""" % {"address": address, "workdir": workdir, "cert": cert, "port": backend_port, "backend": backend_host})
    return """user root;
worker_processes 1;
daemon off;
pid %(workdir)s/%(name)s.pid;
error_log %(workdir)s/%(name)s-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(workdir)s/%(name)s-body;
    proxy_temp_path %(workdir)s/%(name)s-proxy;
    fastcgi_temp_path %(workdir)s/%(name)s-fastcgi;
    uwsgi_temp_path %(workdir)s/%(name)s-uwsgi;
    scgi_temp_path %(workdir)s/%(name)s-scgi;
    proxy_http_version 1.1;
    proxy_read_timeout 10s;
    client_max_body_size 1m;
%(blocks)s
}
""" % {"workdir": workdir, "blocks": "\n".join(blocks), "name": name}
