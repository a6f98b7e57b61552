"""EC2 instance metadata: IMDSv2 (token PUT then GETs), IMDSv1 only if the token call is refused."""
from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from ..core.addresses import NetworkGuard, NetworkNotAllowed

DEFAULT_ENDPOINT = "http://169.254.169.254"
# every read after the token (4, then 6 and a CIDR fallback): enough even for an IMDS that closes
# each connection (HTTP/1.0); one that keeps them alive reuses them and the rest idle until the end
PRECONNECT = 11


@dataclass
class ImdsFacts:
    endpoint: str
    reachable: bool = False
    version: Optional[str] = None  # "v2" | "v1"
    error: Optional[str] = None
    # IMDS answers 403 to everything when the instance's metadata options have HttpEndpoint disabled
    turned_off: bool = False
    identity: Dict[str, str] = field(default_factory=dict)
    vpc_id: Optional[str] = None
    subnet_id: Optional[str] = None
    vpc_cidrs: List[str] = field(default_factory=list)
    local_ipv4: Optional[str] = None
    iam_role: Optional[str] = None
    cluster_name: Optional[str] = None  # the eks:cluster-name instance tag (only with instance tags in IMDS)
    # the instance role's credentials: handed to the signer, never put in a report
    role_credentials: Optional["RoleCredentials"] = field(default=None, repr=False)


class RoleCredentials(NamedTuple):
    """What botocore's SigV4Auth reads: access_key, secret_key, token."""

    access_key: str
    secret_key: str
    token: Optional[str]


class _Refused(Exception):
    def __init__(self, message: str, turned_off: bool = False):
        super().__init__(message)
        self.turned_off = turned_off


class ImdsClient:
    def __init__(self, endpoint: str, timeout: float, guard: NetworkGuard):
        parts = urlsplit(endpoint if "://" in endpoint else "http://" + endpoint)
        self.endpoint = "%s://%s" % (parts.scheme, parts.netloc)
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.timeout = timeout
        self.guard = guard
        self.token: Optional[str] = None
        # Connections dialled ahead (while the token call is in flight) and kept alive between
        # reads: at real latency each TCP handshake to IMDS is a round trip in front of every probe.
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def preconnect(self, count: int) -> None:
        """Dial `count` connections in the background, side by side from one thread (non-blocking
        connects, bounded by the timeout); a read takes one if it is ready."""
        self.guard.check(self.host)
        threading.Thread(target=self._dial, args=(count,), daemon=True).start()

    def _dial(self, count: int) -> None:
        import errno
        import selectors
        import socket
        import time

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        deadline = time.monotonic() + self.timeout
        selector = selectors.DefaultSelector()
        pending = []
        try:
            for _ in range(count):
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                if sock.connect_ex((self.host, self.port)) not in (0, errno.EINPROGRESS):
                    sock.close()
                    continue
                selector.register(sock, selectors.EVENT_WRITE)
                pending.append(sock)
            while pending and time.monotonic() < deadline:
                for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
                    sock = key.fileobj
                    selector.unregister(sock)
                    pending.remove(sock)
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        sock.close()  # refused or unreachable: the reads dial (and report) themselves
                        continue
                    sock.settimeout(self.timeout)
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                    conn.sock = sock
                    with self._lock:
                        if not self._closed:
                            self._idle.append(conn)
                            continue
                    conn.close()  # discovery ended while this one was dialling
        except OSError:
            pass  # no head start: each read dials its own connection, as without one
        finally:
            for sock in pending:
                sock.close()
            selector.close()

    def _take(self) -> Tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout), False

    def _request(self, method: str, path: str, headers: Dict[str, str]) -> Tuple[int, str]:
        self.guard.check(self.host)
        conn, ready = self._take()
        try:
            try:
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):
                if not ready:
                    raise
                conn.close()  # a dialled-ahead connection the server closed meanwhile: dial afresh
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
            answer = response.status, response.read(65536).decode("utf-8", "replace")
            if not response.will_close:
                with self._lock:
                    self._idle.append(conn)
                conn = None
            return answer
        finally:
            if conn is not None:
                conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()

    def get(self, path: str) -> Optional[str]:
        headers = {"X-aws-ec2-metadata-token": self.token} if self.token else {}
        status, body = self._request("GET", path, headers)
        return body if status == 200 else None

    def connect(self) -> str:
        """Returns the IMDS version in use; raises OSError when IMDS cannot be reached at all."""
        status, body = self._request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        if status == 200 and body:
            self.token = body.strip()
            return "v2"
        # The token call was answered but refused: IMDSv1 may still be on.
        v1_status, _ = self._request("GET", "/latest/meta-data/instance-id", {})
        if v1_status == 200:
            return "v1"
        # "If you turn off the IMDS ... you receive a 403 Forbidden" (EC2 User Guide, instance metadata
        # options); IMDSv2-only answers IMDSv1 with 401 instead.
        if status == 403 and v1_status == 403:
            raise _Refused("IMDS is turned off for this instance (HTTP 403 to the IMDSv2 token call and to IMDSv1: "
                           "its metadata options have HttpEndpoint disabled)", turned_off=True)
        raise _Refused("IMDS refused the token call (HTTP %d) and IMDSv1 is off (HTTP %d)" % (status, v1_status))


IDENTITY_FIELDS = ("region", "availabilityZone", "instanceId", "accountId", "privateIp")


def parse_identity(document: str) -> Tuple[Dict[str, str], Optional[str]]:
    """(the identity fields that are strings, what was wrong). A field of another type (a number, a
    list, null) is left out with a note rather than turned into text or a crash further down."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        return {}, "the identity document is not JSON"
    if not isinstance(data, dict):
        return {}, "the identity document is not a JSON object (%s)" % type(data).__name__
    # Kept as sent (not stripped): whether a value is a valid region or id is judged where facts are checked.
    identity = {k: data[k] for k in IDENTITY_FIELDS if isinstance(data.get(k), str) and data[k]}
    wrong = [k for k in IDENTITY_FIELDS if k in data and data[k] is not None and not isinstance(data[k], str)]
    return identity, ("identity document field(s) of the wrong type ignored: %s" % ", ".join(
        "%s (%s)" % (k, type(data[k]).__name__) for k in wrong) if wrong else None)


def parse_role_credentials(document: str) -> Tuple[Optional[RoleCredentials], Optional[str]]:
    """(credentials, what was wrong). Usable only with AccessKeyId and SecretAccessKey as non-empty
    strings and Token a string or absent; anything else (a number, a list) means no credentials,
    with the reason, never a crash in the signer or the redactor."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        return None, "the role credentials document is not JSON"
    if not isinstance(data, dict):
        return None, "the role credentials document is not a JSON object (%s)" % type(data).__name__
    if data.get("Code", "Success") != "Success":
        return None, "IMDS role credentials Code is %s" % (data["Code"] if isinstance(data["Code"], str) else
                                                            type(data["Code"]).__name__)[:60]
    key, secret, token = data.get("AccessKeyId"), data.get("SecretAccessKey"), data.get("Token")
    wrong = [name for name, value in (("AccessKeyId", key), ("SecretAccessKey", secret))
             if not isinstance(value, str) or not value]
    if token is not None and not isinstance(token, str):
        wrong.append("Token")
    if wrong:
        return None, "the role credentials are unusable: %s missing or of the wrong type" % ", ".join(wrong)
    return RoleCredentials(key, secret, token or None), None


def _lines(text: Optional[str]) -> List[str]:
    return [line.strip() for line in (text or "").split() if line.strip()]


def discover(endpoint: str, timeout: float, guard: NetworkGuard,
             on_identity: Optional[Callable[[Dict[str, str]], None]] = None) -> ImdsFacts:
    """Token, then two rounds of reads side by side: a round trip to IMDS costs the same
    as a round trip to AWS, and discovery sits in front of every probe. on_identity is handed the
    identity document's fields as soon as the first round has them (the runner starts DNS then);
    it must return at once, and what it raises is ignored."""
    client = ImdsClient(endpoint, timeout, guard)
    facts = ImdsFacts(endpoint=client.endpoint)
    try:
        client.preconnect(PRECONNECT)
        facts.version = client.connect()
    except (OSError, http.client.HTTPException, _Refused, NetworkNotAllowed) as exc:
        facts.error = "%s: %s" % (type(exc).__name__, exc)
        facts.turned_off = getattr(exc, "turned_off", False)
        client.close()
        return facts
    try:
        return _read(client, facts, timeout, on_identity)
    finally:
        client.close()


def _read(client: ImdsClient, facts: ImdsFacts, timeout: float,
          on_identity: Optional[Callable[[Dict[str, str]], None]] = None) -> ImdsFacts:
    from ..checks.parallel import run_parallel

    facts.reachable = True
    remaining = lambda: timeout + 0.5  # noqa: E731 - each read has its own socket timeout too
    document, mac, local_ipv4, roles = run_parallel([
        lambda: client.get("/latest/dynamic/instance-identity/document"),
        lambda: client.get("/latest/meta-data/mac"),
        lambda: client.get("/latest/meta-data/local-ipv4"),
        lambda: client.get("/latest/meta-data/iam/security-credentials/"),
    ], remaining)
    errors = [r for r in (document, mac, local_ipv4, roles) if isinstance(r, BaseException)]
    document = None if isinstance(document, BaseException) else document
    mac = (mac or "").strip() if not isinstance(mac, BaseException) else ""
    roles = _lines(roles) if not isinstance(roles, BaseException) else []
    facts.iam_role = roles[0] if roles else None
    if on_identity is not None and document:
        try:
            on_identity(parse_identity(document)[0])
        except Exception:
            pass  # a head start, never a reason for discovery to fail
    base = "/latest/meta-data/network/interfaces/macs/%s/" % mac
    second = run_parallel([
        (lambda: client.get(base + "vpc-id")) if mac else (lambda: None),
        (lambda: client.get(base + "subnet-id")) if mac else (lambda: None),
        (lambda: client.get(base + "vpc-ipv4-cidr-blocks") or client.get(base + "vpc-ipv4-cidr-block")) if mac
        else (lambda: None),
        (lambda: client.get(base + "vpc-ipv6-cidr-blocks")) if mac else (lambda: None),
        (lambda: client.get("/latest/meta-data/iam/security-credentials/" + facts.iam_role)) if facts.iam_role
        else (lambda: None),
        # 404 unless the instance allows tags in metadata; managed node groups tag eks:cluster-name
        lambda: client.get("/latest/meta-data/tags/instance/eks:cluster-name"),
    ], remaining)
    errors += [r for r in second[:-1] if isinstance(r, BaseException)]  # the cluster tag is optional (404)
    vpc_id, subnet_id, cidrs, ipv6, role_credentials, cluster = [None if isinstance(r, BaseException) else r
                                                                 for r in second]
    facts.cluster_name = cluster.strip() if isinstance(cluster, str) and cluster.strip() else None
    if document:
        facts.identity, problem = parse_identity(document)
        if problem:
            errors.append(ValueError(problem))
    if role_credentials:
        facts.role_credentials, problem = parse_role_credentials(role_credentials)
        if problem:
            errors.append(ValueError(problem))
    facts.vpc_id = (vpc_id or "").strip() or None
    facts.subnet_id = (subnet_id or "").strip() or None
    facts.vpc_cidrs = _lines(cidrs) + _lines(ipv6)
    facts.local_ipv4 = (local_ipv4 or "").strip() if not isinstance(local_ipv4, BaseException) else None
    facts.local_ipv4 = facts.local_ipv4 or facts.identity.get("privateIp")
    if errors:
        facts.error = "IMDS answered the token call but a later read failed: %s: %s" % (
            type(errors[0]).__name__, errors[0])
    return facts


class Background:
    """IMDS discovery in a daemon thread, started as soon as the settings are known: `check` starts
    it before importing the rest of the check path, so at real latency IMDS's round trips cover that
    import time instead of following it. Every read has the timeout, and there are three rounds."""

    def __init__(self, endpoint: str, timeout: float, guard: NetworkGuard):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._identity: Optional[Dict[str, str]] = None
        self._listeners: List[Callable[[Dict[str, str]], None]] = []
        self._box: List[Any] = []
        self._thread = threading.Thread(target=self._fetch, args=(endpoint, timeout, guard), daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, settings: Any) -> "Background":
        """For a core.settings.Settings: its IMDS endpoint, timeout and --allow-net."""
        return cls(settings.imds_endpoint, settings.timeout, NetworkGuard(settings.allow_net))

    def _fetch(self, endpoint: str, timeout: float, guard: NetworkGuard) -> None:
        try:
            self._box.append(discover(endpoint, timeout, guard, self._identity_known))
        except BaseException as exc:  # handed to discovery, which reports it as IMDS unreachable
            self._box.append(exc)

    def _identity_known(self, identity: Dict[str, str]) -> None:
        with self._lock:
            self._identity, listeners = identity, list(self._listeners)
        for listener in listeners:
            listener(identity)

    def on_identity(self, listener: Callable[[Dict[str, str]], None]) -> None:
        """listener(identity document fields) once the first round has them: now, if it already has.
        It must return at once; what it raises is ignored (a head start, never a reason to fail)."""
        with self._lock:
            identity = self._identity
            if identity is None:
                self._listeners.append(listener)
        if identity is not None:
            try:
                listener(identity)
            except Exception:
                pass

    def result(self) -> "ImdsFacts":
        """Waits for the read (bounded) and returns or raises what it did."""
        limit = self.timeout * 3 + 1.0
        self._thread.join(limit)
        if not self._box:
            raise TimeoutError("IMDS discovery did not finish within %.1fs" % limit)
        if isinstance(self._box[0], BaseException):
            raise self._box[0]
        return self._box[0]
