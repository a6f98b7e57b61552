"""Read-only AWS calls through botocore, concurrently, paginated and under one deadline.

botocore alone (no boto3): a Session honours the SDKs' standard settings by itself
(AWS_PROFILE and profiles, AWS_REGION, AWS_CA_BUNDLE, AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_<SERVICE>, credentials chain). Every call is checked against the same
Describe/Get/List rule as the catalogue before it is sent; a call that fails or overruns
is an explicit Call with its error, never a missing key.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ..checks.catalogue import READ_ONLY_OPERATION

MAX_PAGES = 10  # bounded pagination: 10 pages of 1000 is more than any VPC holds
MAX_WORKERS = 12


class NotReadOnly(ValueError):
    pass


@dataclass(frozen=True)
class Call:
    """One API call's outcome: data when ok, else the error (code and message) or a timeout."""

    service: str
    operation: str
    ok: bool
    data: Any = None
    error: Optional[str] = None
    state: str = "done"  # done | error | timeout
    ms: float = 0.0

    @property
    def name(self) -> str:
        return "%s:%s" % (self.service, self.operation)


@dataclass(frozen=True)
class Request:
    key: str
    service: str
    operation: str  # PascalCase API name, e.g. DescribeVpcEndpoints
    params: Tuple[Tuple[str, Any], ...] = ()
    result_key: Optional[str] = None  # the list to gather across pages


def request(key: str, service: str, operation: str, result_key: Optional[str] = None, **params: Any) -> Request:
    if not READ_ONLY_OPERATION.match(operation):
        raise NotReadOnly("preflight only reads: %s:%s is not a Describe/Get/List call" % (service, operation))
    return Request(key, service, operation, tuple(sorted(params.items())), result_key)


class Reader:
    """Builds one client per service (clients are thread-safe) and runs batches of requests."""

    def __init__(self, region: Optional[str], profile: Optional[str] = None, timeout: float = 3.0,
                 deadline: float = 20.0):
        import botocore.session
        from botocore.config import Config

        self.session = botocore.session.Session(profile=profile)
        self.region = region or self.session.get_config_variable("region")
        self.timeout = timeout
        self.ends_at = time.monotonic() + deadline
        self.config = Config(connect_timeout=timeout, read_timeout=timeout, max_pool_connections=MAX_WORKERS,
                             retries={"max_attempts": 2, "mode": "standard"})
        self._clients: Dict[str, Any] = {}
        self.calls: List[Call] = []
        self._pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="preflight")

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.create_client(service, region_name=self.region, config=self.config)
        return self._clients[service]

    def run(self, requests: List[Request]) -> Dict[str, Call]:
        """Run a batch concurrently; whatever has not answered by the run's deadline is a timeout."""
        for r in requests:
            self.client(r.service)  # client creation is not thread-safe in botocore: build them here
        futures = {self._pool.submit(self._one, r): r for r in requests}
        done, _ = wait(futures, timeout=max(0.0, self.ends_at - time.monotonic()))
        results = {}
        for future, r in futures.items():
            if future in done:
                results[r.key] = future.result()
            else:
                future.cancel()
                results[r.key] = Call(r.service, r.operation, False, error="no answer before the deadline",
                                      state="timeout")
        self.calls.extend(results.values())
        return results

    def _one(self, r: Request) -> Call:
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        client = self.client(r.service)
        method = xform_name(r.operation)
        params = dict(r.params)
        try:
            if r.result_key and client.can_paginate(method):
                items: List[Any] = []
                pages = client.get_paginator(method).paginate(**params)
                for number, page in enumerate(pages):
                    items.extend(page.get(r.result_key) or [])
                    if number + 1 >= MAX_PAGES:
                        break
                data: Any = {r.result_key: items}
            else:
                data = getattr(client, method)(**params)
                data.pop("ResponseMetadata", None)
            return Call(r.service, r.operation, True, data=data, ms=(time.monotonic() - started) * 1000)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return Call(r.service, r.operation, False, error="%s: %s" % (error.get("Code"), error.get("Message")),
                        state="error", ms=(time.monotonic() - started) * 1000)
        except (BotoCoreError, OSError, ValueError) as exc:
            return Call(r.service, r.operation, False, error="%s: %s" % (type(exc).__name__, exc), state="error",
                        ms=(time.monotonic() - started) * 1000)
