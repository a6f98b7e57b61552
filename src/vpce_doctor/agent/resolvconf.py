"""The node's own resolvers, as the node's libc sees them."""
from __future__ import annotations

import ipaddress
from typing import List, Optional, Tuple

from ..core.files import RESOLV_CONF_LIMIT, read_text_capped

SYSTEMD_STUB = "127.0.0.53"
SYSTEMD_UPSTREAM_FILE = "/run/systemd/resolve/resolv.conf"
MAX_NAMESERVERS = 8  # glibc uses 3; a file listing hundreds must not fan probes out by hundreds


def nameservers(text: str, notes: Optional[List[str]] = None, source: str = "resolv.conf") -> List[str]:
    """The `nameserver` addresses, in order. A line whose value is not an IP address is skipped
    (glibc ignores it too) with a note, instead of ending the run."""
    servers: List[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields or fields[0] != "nameserver":
            continue
        value = fields[1].split("%", 1)[0] if len(fields) >= 2 else ""  # drop an IPv6 zone id
        try:
            ipaddress.ip_address(value)
        except ValueError:
            _note(notes, "%s line %d: skipped a nameserver that is not an IP address: %r"
                  % (source, number, value[:60] if value else line.strip()[:60]))
            continue
        if value in servers:
            continue
        if len(servers) == MAX_NAMESERVERS:
            _note(notes, "%s: more than %d nameservers; only the first %d are checked" % (source, MAX_NAMESERVERS,
                                                                                         MAX_NAMESERVERS))
            break
        servers.append(value)
    return servers


def _note(notes: Optional[List[str]], text: str) -> None:
    if notes is not None:
        notes.append(text)


def _read(path: str, notes: Optional[List[str]] = None) -> str:
    try:
        return read_text_capped(path, RESOLV_CONF_LIMIT)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        _note(notes, "cannot read %s: %s" % (path, exc.strerror or exc))
        return ""


def node_resolvers(resolv_conf: str = "/etc/resolv.conf", upstream_file: str = SYSTEMD_UPSTREAM_FILE,
                   notes: Optional[List[str]] = None) -> Tuple[List[str], dict]:
    """(resolvers, where each came from). With the systemd-resolved stub (Amazon Linux 2023),
    the stub is kept (it is what libc asks) and the real upstreams are added after it.
    What was skipped or unreadable is appended to `notes` (the report's discovery notes)."""
    servers = nameservers(_read(resolv_conf, notes), notes, resolv_conf)
    sources = {s: resolv_conf for s in servers}
    if SYSTEMD_STUB in servers:
        for upstream in nameservers(_read(upstream_file, notes), notes, upstream_file):
            if upstream not in sources and len(servers) < MAX_NAMESERVERS:
                servers.append(upstream)
                sources[upstream] = "systemd-resolved upstream (%s)" % upstream_file
    return servers, sources
