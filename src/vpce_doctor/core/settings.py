"""Settings: flag > environment > /etc/vpce-doctor/config.toml > discovery."""
from __future__ import annotations

import ipaddress
import math
import os
import sys
from dataclasses import dataclass, fields
from typing import Any, Collection, Dict, Mapping, Optional, Tuple

from .addresses import AddressError, parse_addr
from .files import CONFIG_LIMIT, read_bytes_capped

DEFAULT_CONFIG = "/etc/vpce-doctor/config.toml"


class SettingsError(ValueError):
    """A setting is unusable; the run cannot happen (exit 3)."""


@dataclass(frozen=True)
class Settings:
    region: Optional[str] = None
    account_id: Optional[str] = None
    services: Tuple[str, ...] = ()  # empty: what this node needs (or every one with all_services)
    all_services: bool = False
    vpc_resolver: str = "169.254.169.253"
    resolvers: Tuple[str, ...] = ()  # empty: read /etc/resolv.conf
    imds_endpoint: str = "http://169.254.169.254"
    cluster_endpoint: Optional[str] = None
    ca_bundle: Optional[str] = None
    timeout: float = 3.0
    deadline: Optional[float] = None  # global; default derived from timeout
    no_api: bool = False
    https_port: int = 443
    vpc_cidrs: Tuple[str, ...] = ()  # empty: from IMDS
    endpoint_cidrs: Tuple[str, ...] = ()  # private networks outside the VPC that hold endpoints (a hub VPC)
    allow_net: Tuple[str, ...] = ()
    clock_tolerance: float = 60.0
    state_dir: Optional[str] = None  # timer mode: last.json, history/, journal lines of what changed
    prometheus_dir: Optional[str] = None
    history: int = 96  # reports kept in state_dir/history (a day at one run per 15 minutes)
    # timer mode: signed calls and the inventory at most this often (seconds; 0 = every run), or
    # sooner when the DNS/TLS evidence changed; in between they are carried over (agent/carry.py)
    api_interval: float = 3600.0
    resolv_conf: str = "/etc/resolv.conf"
    scan_processes: bool = True
    pod_identity_endpoints: Tuple[str, ...] = ()  # empty: 169.254.170.23:80, and [fd00:ec2::23]:80 on IPv6 nodes
    images: Tuple[str, ...] = ()  # private ECR images the pull probe pulls one byte of (checks/image_pull.py)
    config_path: Optional[str] = None

    @property
    def global_deadline(self) -> float:
        # discovery + DNS + connect/handshake + API, with slack: one chain, not one per service
        return self.deadline if self.deadline else self.timeout * 4 + 2.0


# setting name -> environment variables, first wins
ENVIRONMENT = {
    "region": ("VPCE_DOCTOR_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    "account_id": ("VPCE_DOCTOR_ACCOUNT_ID",),
    "services": ("VPCE_DOCTOR_SERVICES",),
    "vpc_resolver": ("VPCE_DOCTOR_VPC_RESOLVER",),
    "resolvers": ("VPCE_DOCTOR_RESOLVERS",),
    "imds_endpoint": ("VPCE_DOCTOR_IMDS_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT"),
    "cluster_endpoint": ("VPCE_DOCTOR_CLUSTER_ENDPOINT",),
    "ca_bundle": ("VPCE_DOCTOR_CA_BUNDLE", "AWS_CA_BUNDLE"),
    "timeout": ("VPCE_DOCTOR_TIMEOUT",),
    "no_api": ("VPCE_DOCTOR_NO_API",),
    "allow_net": ("VPCE_DOCTOR_ALLOW_NET",),
    "endpoint_cidrs": ("VPCE_DOCTOR_ENDPOINT_CIDRS",),
    "state_dir": ("VPCE_DOCTOR_STATE_DIR",),
    "prometheus_dir": ("VPCE_DOCTOR_PROMETHEUS_DIR",),
    "pod_identity_endpoints": ("VPCE_DOCTOR_POD_IDENTITY_ENDPOINT",),
    "api_interval": ("VPCE_DOCTOR_API_INTERVAL",),
    "images": ("VPCE_DOCTOR_IMAGES",),
}
_LISTS = {"services", "resolvers", "vpc_cidrs", "allow_net", "pod_identity_endpoints", "endpoint_cidrs", "images"}
_BOOLS = {"no_api", "scan_processes", "all_services"}
# Every number has a range (README, "Settings"): inf, nan, 1e9 or a negative value is one clear
# error line, never a run that does not end or an internal error further down.
RANGES: Dict[str, Tuple[float, float]] = {
    "timeout": (0.05, 60.0),          # seconds per probe step
    "deadline": (0.1, 600.0),         # seconds for the whole run
    "clock_tolerance": (1.0, 86400.0),
    "https_port": (1, 65535),
    "history": (0, 10000),
    "api_interval": (0.0, 7 * 86400.0),  # seconds between signed calls in timer mode; 0: every run
}
_FLOATS = {"timeout", "deadline", "clock_tolerance", "api_interval"}
_INTS = {"https_port", "history"}
_MAX_ITEMS = 256
CA_BUNDLE_LIMIT = 16 << 20  # a list setting longer than this is a mistake (and would fan out probes)


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _LISTS:
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int, float)) for v in value):
                raise TypeError
            if len(value) > _MAX_ITEMS:
                raise SettingsError("too many values for %s: %d (at most %d)" % (name, len(value), _MAX_ITEMS))
            return tuple(str(v) for v in value)
        if name in _FLOATS or name in _INTS:
            return _number(name, value)
        if name in _BOOLS:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if value is not None and not isinstance(value, (str, int, float)):
            raise TypeError  # a table or a list where one word belongs
    except SettingsError:
        raise
    except (TypeError, ValueError, OverflowError):
        raise SettingsError("invalid value for %s: %s" % (name, _shown(value))) from None
    return str(value) if value is not None else None


def check_number(name: str, value: Any) -> Any:
    """A number setting within its documented range (RANGES), or SettingsError with one line."""
    try:
        return _number(name, value)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError("invalid value for %s: %s" % (name, _shown(value))) from None


def _number(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError
    low, high = RANGES[name]
    number = float(value) if name in _FLOATS else int(value)
    if name in _INTS and isinstance(value, float) and not value.is_integer():
        raise ValueError
    if not math.isfinite(number) or not low <= number <= high:
        raise SettingsError("%s must be between %g and %g, got %s" % (name, low, high, _shown(value)))
    return number


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_config(path: str, required: bool) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        data = tomllib.loads(read_bytes_capped(path, CONFIG_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        if required:
            raise SettingsError("config file not found: %s" % path) from None
        return {}
    except OSError as exc:
        raise SettingsError("cannot read config %s: %s" % (path, exc.strerror or exc)) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise SettingsError("cannot read config %s: %s" % (path, str(exc).splitlines()[0] if str(exc) else exc)) from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError("unknown key(s) in %s: %s" % (path, ", ".join(unknown)))
    return data


def resolve_settings(flags: Mapping[str, Any], environ: Mapping[str, str] = os.environ,
                     known_services: Optional[Collection[str]] = None) -> Settings:
    """known_services: the catalogue's ids (the caller passes them: core/ stands below checks/)."""
    """flags: only what the user passed (None means not given)."""
    config_path = flags.get("config_path")
    config = read_config(config_path or DEFAULT_CONFIG, required=bool(config_path))
    values: Dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "config_path":
            continue
        chosen = flags.get(f.name)
        if chosen is None or chosen == ():
            chosen = next((environ[v] for v in ENVIRONMENT.get(f.name, ()) if environ.get(v)), None)
        if chosen is None and f.name in config:
            chosen = config[f.name]
        if chosen is not None:
            values[f.name] = _coerce(f.name, chosen)
    settings = Settings(config_path=config_path, **values)
    validate(settings, known_services)
    return settings


def validate(settings: Settings, known_services: Optional[Collection[str]] = None) -> None:
    try:
        for addr in (settings.vpc_resolver,) + settings.resolvers:
            parse_addr(addr, 53)
    except AddressError as exc:
        raise SettingsError(str(exc)) from None
    for url in settings.pod_identity_endpoints:
        _check_http_url(url)
    for name, cidrs in (("--vpc-cidr", settings.vpc_cidrs), ("--allow-net", settings.allow_net),
                        ("--endpoint-cidr", settings.endpoint_cidrs)):
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise SettingsError("%s: not a CIDR: %s (expected e.g. 10.0.0.0/16)" % (name, _shown(cidr))) from None
    if settings.ca_bundle:
        try:
            read_bytes_capped(settings.ca_bundle, CA_BUNDLE_LIMIT)  # a FIFO would block the TLS context's load
        except FileNotFoundError:
            raise SettingsError("CA bundle not found: %s" % settings.ca_bundle) from None
        except OSError as exc:
            raise SettingsError("cannot read CA bundle %s: %s" % (settings.ca_bundle, exc.strerror or exc)) from None
    unknown = sorted(set(settings.services) - set(known_services)) if known_services is not None else []
    if unknown:
        raise SettingsError("unknown service id(s): %s (see `vpce-doctor services`)" % ", ".join(unknown))


def _check_http_url(url: str) -> None:
    """http://IP[:PORT]: the Pod Identity agent is probed by address, never by a name to resolve."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
        parse_addr(parts.hostname or "", port or 80)
    except (ValueError, AddressError):
        raise SettingsError("invalid endpoint %r (expected http://IP[:PORT] or http://[IPv6][:PORT])" % url) from None
    if parts.scheme != "http":  # the agent serves plain HTTP on a link-local address
        raise SettingsError("invalid endpoint %r (expected http://IP[:PORT] or http://[IPv6][:PORT])" % url)
