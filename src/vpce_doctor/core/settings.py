"""Settings: flag > environment > /etc/vpce-doctor/config.toml > discovery."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from typing import Any, Collection, Dict, Mapping, Optional, Tuple

from .addresses import AddressError, parse_addr

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
    "state_dir": ("VPCE_DOCTOR_STATE_DIR",),
    "prometheus_dir": ("VPCE_DOCTOR_PROMETHEUS_DIR",),
    "api_interval": ("VPCE_DOCTOR_API_INTERVAL",),
}
_LISTS = {"services", "resolvers", "vpc_cidrs", "allow_net"}
_FLOATS = {"timeout", "deadline", "clock_tolerance"}
_BOOLS = {"no_api", "scan_processes", "all_services"}


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _LISTS:
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split() if v]
            return tuple(str(v) for v in value)
        if name in _FLOATS:
            number = float(value)
            if number <= 0:
                raise ValueError
            return number
        if name == "api_interval":  # 0 is meaningful: every run
            number = float(value)
            if number < 0:
                raise ValueError
            return number
        if name in ("https_port", "history"):
            return int(value)
        if name in _BOOLS:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    except (TypeError, ValueError):
        raise SettingsError("invalid value for %s: %r" % (name, value)) from None
    return str(value) if value is not None else None


def read_config(path: str, required: bool) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if required:
            raise SettingsError("config file not found: %s" % path) from None
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError("cannot read config %s: %s" % (path, exc)) from None
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
    if settings.ca_bundle and not os.path.isfile(settings.ca_bundle):
        raise SettingsError("CA bundle not found: %s" % settings.ca_bundle)
    unknown = sorted(set(settings.services) - set(known_services)) if known_services is not None else []
    if unknown:
        raise SettingsError("unknown service id(s): %s (see `vpce-doctor services`)" % ", ".join(unknown))


