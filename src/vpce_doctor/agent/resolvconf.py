"""The node's own resolvers, as the node's libc sees them."""
from __future__ import annotations

from typing import List, Tuple

SYSTEMD_STUB = "127.0.0.53"
SYSTEMD_UPSTREAM_FILE = "/run/systemd/resolve/resolv.conf"


def nameservers(text: str) -> List[str]:
    servers = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            servers.append(fields[1].split("%", 1)[0])  # drop an IPv6 zone id
    return servers


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def node_resolvers(resolv_conf: str = "/etc/resolv.conf",
                   upstream_file: str = SYSTEMD_UPSTREAM_FILE) -> Tuple[List[str], dict]:
    """(resolvers, where each came from). With the systemd-resolved stub (Amazon Linux 2023),
    the stub is kept (it is what libc asks) and the real upstreams are added after it."""
    servers = nameservers(_read(resolv_conf))
    sources = {s: resolv_conf for s in servers}
    if SYSTEMD_STUB in servers:
        for upstream in nameservers(_read(upstream_file)):
            if upstream not in sources:
                servers.append(upstream)
                sources[upstream] = "systemd-resolved upstream (%s)" % upstream_file
    return servers, sources
