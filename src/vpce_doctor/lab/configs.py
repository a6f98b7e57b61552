"""Configuration files for the lab's real servers, rendered from the scenario's facts."""
from __future__ import annotations

from typing import Dict, Iterable, List, Tuple


def unbound_conf(workdir: str, interfaces: Iterable[str], records: Dict[str, List[str]],
                 zones: Iterable[str]) -> str:
    """The VPC resolver: authoritative static zones for the partition's AWS domains."""
    lines = ["server:"]
    lines += ["  interface: %s" % i for i in interfaces]
    lines += ["  port: 53", "  access-control: 0.0.0.0/0 allow", '  username: ""', '  chroot: ""',
              '  directory: "%s"' % workdir, '  pidfile: ""', "  use-syslog: no", '  logfile: ""', "  verbosity: 0",
              "  do-daemonize: no", "  do-ip6: no", "  num-threads: 1", "  so-reuseport: no",
              '  module-config: "iterator"', "  cache-max-ttl: 0", "  cache-max-negative-ttl: 0"]
    lines += ['  local-zone: "%s." static' % z for z in zones]
    for name, addresses in sorted(records.items()):
        lines += ['  local-data: "%s. 60 IN A %s"' % (name, a) for a in addresses]
    lines += ["remote-control:", "  control-enable: no"]
    return "\n".join(lines) + "\n"


def nginx_conf(workdir: str, backend_port: int, servers: List[Tuple[str, str]]) -> str:
    """servers: (listen address, "server" | "rogue" certificate). Every endpoint ENI proxies
    to the lab backend, which answers like AWS (moto, or a canned answer)."""
    blocks = []
    for address, cert in servers:
        blocks.append("""    server {
        listen %(address)s:443 ssl;
        ssl_certificate %(workdir)s/%(cert)s-cert.pem;
        ssl_certificate_key %(workdir)s/%(cert)s-key.pem;
        location / {
            proxy_pass http://127.0.0.1:%(port)d;
            proxy_set_header Host $host;
            proxy_set_header X-Endpoint-Address $server_addr;
            proxy_pass_header Date;
            proxy_pass_header Server;
        }
    }""" % {"address": address, "workdir": workdir, "cert": cert, "port": backend_port})
    return """user root;
worker_processes 1;
daemon off;
pid %(workdir)s/nginx.pid;
error_log %(workdir)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(workdir)s/nginx-body;
    proxy_temp_path %(workdir)s/nginx-proxy;
    fastcgi_temp_path %(workdir)s/nginx-fastcgi;
    uwsgi_temp_path %(workdir)s/nginx-uwsgi;
    scgi_temp_path %(workdir)s/nginx-scgi;
    proxy_http_version 1.1;
    proxy_read_timeout 10s;
    client_max_body_size 1m;
%(blocks)s
}
""" % {"workdir": workdir, "blocks": "\n".join(blocks)}
