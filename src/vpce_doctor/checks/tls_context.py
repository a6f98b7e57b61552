"""The TLS context every HTTPS probe of a run shares: the system CA store, or --ca-bundle.
Loading a CA store costs ~20 ms of CPU, so the runner builds it during the DNS head start
(checks/dns_prefetch.py) and CheckContext builds one only when that did not happen."""
from __future__ import annotations

import ssl

from ..core.settings import Settings


def make_ssl_context(settings: Settings) -> ssl.SSLContext:
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    return ssl.create_default_context()
