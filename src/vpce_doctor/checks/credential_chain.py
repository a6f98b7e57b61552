"""The credentials a run signs with: the botocore chain, bounded to sources that stay inside
--allow-net and the run deadline, else the instance role discovery already read from IMDS.
CheckContext.credentials() calls botocore_credentials once per run (a test hands in its own)."""
from __future__ import annotations

import ipaddress
import os
from typing import Any, List, Optional

from ..core.addresses import NetworkNotAllowed


def botocore_credentials(ctx: Any) -> Any:
    """ctx: a CheckContext (its facts, guard and step_timeout() are read). The order system components use, bounded to sources that cannot reach outside --allow-net
    or the run deadline: the environment (AWS_ACCESS_KEY_ID...), static keys in the shared
    credentials and config files, the container endpoint (ECS, EKS Pod Identity) only at an IP
    address the guard allows, with one attempt under the step timeout; last the instance role,
    which discovery already read from IMDS in the same round trips (asking botocore to fetch it
    again would cost another six).

    Left out on purpose: assume-role profiles, web identity, SSO and credential_process. They call
    STS or an SSO portal through the system resolver, or run a program, on their own clocks and
    outside the guard; the node's components sign with the instance role anyway."""
    credentials_file = _regular_file(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")
    config_file = _regular_file(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    if not credentials_file and not config_file and not any(v in os.environ for v in CHAIN_ENVIRONMENT):
        # A node's usual state: no keys in the environment, no shared files, no container endpoint.
        # Every provider would find nothing, so the answer is the instance role, without the ~90 ms
        # botocore.credentials costs to import.
        return ctx.facts.instance_credentials
    import botocore.credentials as bc

    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    providers: List[Any] = [bc.EnvProvider()]
    if credentials_file:
        providers.append(bc.SharedCredentialProvider(creds_filename=credentials_file, profile_name=profile))
    if config_file:
        providers.append(bc.ConfigProvider(config_filename=config_file, profile_name=profile))
    container = _container_provider(ctx)
    if container is not None:
        providers.append(container)
    credentials = bc.CredentialResolver(providers).load_credentials()
    if credentials is not None:
        return credentials.get_frozen_credentials()
    return ctx.facts.instance_credentials


CREDENTIAL_FILE_LIMIT = 1 << 20


# what botocore's environment and container providers read: any of them set, and the chain is asked
CHAIN_ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def _regular_file(path: str) -> Optional[str]:
    """The path when it names a readable regular file of sane size with something in it (botocore
    would block on a FIFO and read /dev/zero forever; an empty file holds no keys), else None:
    that source is then simply not used."""
    from ..core.files import read_bytes_capped

    path = os.path.expanduser(path)
    try:
        content = read_bytes_capped(path, CREDENTIAL_FILE_LIMIT)
    except OSError:
        return None
    return path if content.strip() else None


def _container_provider(ctx: Any) -> Any:
    """botocore's container provider, pinned to an IP literal the guard allows, one attempt, the
    step timeout. None when no container endpoint is configured or its address is not allowed."""
    import botocore.credentials as bc
    import botocore.httpsession
    import botocore.utils
    from urllib.parse import urlsplit, urlunsplit

    relative = os.environ.get(bc.ContainerProvider.ENV_VAR)
    full = os.environ.get(bc.ContainerProvider.ENV_VAR_FULL)
    if not relative and not full:
        return None
    url = "http://%s%s" % (botocore.utils.ContainerMetadataFetcher.IP_ADDRESS, relative) if relative else full
    try:
        parts = urlsplit(url or "")
        host = "127.0.0.1" if parts.hostname == "localhost" else (parts.hostname or "")
        ipaddress.ip_address(host)
        ctx.guard.check(host)
        netloc = (("[%s]" % host) if ":" in host else host) + (":%d" % parts.port if parts.port else "")
    except (ValueError, NetworkNotAllowed):
        return None  # a name would go through the system resolver; an address outside --allow-net is not ours
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    class _Bounded(botocore.utils.ContainerMetadataFetcher):
        RETRY_ATTEMPTS = 1

    timeout = ctx.step_timeout()
    fetcher = _Bounded(session=botocore.httpsession.URLLib3Session(timeout=timeout), sleep=lambda _: None)
    environ = {k: v for k, v in os.environ.items() if k != bc.ContainerProvider.ENV_VAR}
    environ[bc.ContainerProvider.ENV_VAR_FULL] = pinned
    return bc.ContainerProvider(environ=environ, fetcher=fetcher)
