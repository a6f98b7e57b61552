"""Reading a saved report (a customer's export, a fleet's S3 sync) that may be anything: truncated,
binary, huge, a FIFO, a symlink loop, nested ten thousand deep, of another schema version, or
with keys missing or of the wrong type. `read_report` refuses what is not a report with one
reason; `normalize` turns whatever JSON object it got into the shape the viewers read, every
known field present with its type (None where missing or wrong), so a renderer never meets a
surprise. Unknown fields are dropped from the normalized copy (the raw one is kept for export).
"""
from __future__ import annotations

import errno
import json
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..core.files import FileRefused, read_bytes_capped

SUPPORTED_SCHEMA = 1
MAX_REPORT_BYTES = 32 * 1024 * 1024  # a real report is tens of KiB; a fleet reads hundreds


class ReportFileError(ValueError):
    """One line: why this file is not a report we can read."""


def read_text_capped(path: str, limit: int = MAX_REPORT_BYTES) -> str:
    """The file's text (core/files.py: regular files only, never more than `limit` bytes, a FIFO
    refused without blocking), or ReportFileError with the reason in a reader's words."""
    try:
        raw = read_bytes_capped(path, limit)
    except FileRefused as exc:
        if exc.errno == errno.EFBIG:
            raise ReportFileError("too large (a report is at most %d bytes)" % limit) from None
        raise ReportFileError(exc.strerror or str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReportFileError("symlink loop") from None
        raise ReportFileError(exc.strerror or str(exc)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportFileError("not UTF-8 text (binary?)") from None


def read_report(path: str, limit: int = MAX_REPORT_BYTES, loads: Callable[[str], Any] = json.loads) -> Dict[str, Any]:
    """The parsed JSON object in `path`, or ReportFileError with the reason. `loads` may parse less
    than the whole text (fleet skips the probe details it never reads)."""
    text = read_text_capped(path, limit)
    try:
        data = loads(text)
    except RecursionError:
        raise ReportFileError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ReportFileError("not JSON (%s)" % str(exc).split(":")[0]) from None
    if not isinstance(data, dict):
        raise ReportFileError("not a vpce-doctor report (a JSON %s, not an object)" % type(data).__name__)
    if "node" not in data and "services" not in data:
        raise ReportFileError("not a vpce-doctor report (no node and no services)")
    return data


def schema_notice(data: Dict[str, Any]) -> Optional[str]:
    version = data.get("schema_version")
    if version == SUPPORTED_SCHEMA:
        return None
    return ("report schema version %s; this vpce-doctor reads version %d: fields it does not know are ignored, "
            "missing ones shown as ?" % (str(version)[:20] if version is not None else "missing", SUPPORTED_SCHEMA))


# --- normalizing ------------------------------------------------------------------------
def _str(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _num(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 1e15:
        return value
    return None


def _bool(value: Any) -> Optional[bool]:
    return value if isinstance(value, bool) else None


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> List[str]:
    return [s for s in (_str(v) for v in _list(value)) if s is not None]


def _short(value: Any) -> str:
    """Evidence items are free-form; a nested one is shown as (bounded) text."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)[:400] if _shallow(value) else "(nested)"
    return text


def _shallow(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, dict):
        return all(_shallow(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_shallow(v, depth + 1) for v in value)
    return True


def _fields(source: Dict[str, Any], strings=(), numbers=(), booleans=()) -> Dict[str, Any]:
    out: Dict[str, Any] = {k: _str(source.get(k)) for k in strings}
    out.update({k: _num(source.get(k)) for k in numbers})
    out.update({k: _bool(source.get(k)) for k in booleans})
    return out


def _finding(raw: Any) -> Dict[str, Any]:
    f = _dict(raw)
    out = _fields(f, strings=("code", "severity", "service", "message", "subnet"))
    remedy = _dict(f.get("remediation"))
    out["remediation"] = {"text": _str(remedy.get("text")) or "", "commands": _strs(remedy.get("commands"))}
    out["evidence"] = [_short(e) for e in _list(f.get("evidence"))]
    out["code"] = out["code"] or "?"
    return out


def _dns(raw: Any) -> Dict[str, Any]:
    d = _dict(raw)
    out = _fields(d, strings=("hostname", "rdtype", "resolver_role", "server", "status", "error"), numbers=("ms",))
    out["status"] = out["status"] or "?"
    out["addresses"] = [dict(_fields(_dict(a), strings=("address", "scope"), booleans=("in_vpc",)))
                        for a in _list(d.get("addresses")) if isinstance(a, dict)]
    return out


def _tls(raw: Any) -> Dict[str, Any]:
    t = _dict(raw)
    out = _fields(t, strings=("address", "source", "availability_zone", "tls_version", "issuer", "error", "error_kind",
                              "phase"), numbers=("ms",), booleans=("ok",))
    out["ok"] = bool(out["ok"])
    return out


def _api(raw: Any) -> Dict[str, Any]:
    a = _dict(raw)
    if not a:
        return {}
    return _fields(a, strings=("operation", "address", "outcome", "phase", "error_code", "message", "http_status"),
                   numbers=("skew_seconds",))


def _config(config: Dict[str, Any]) -> Dict[str, Any]:
    endpoint, record = _dict(config.get("endpoint")), _dict(config.get("private_zone_record"))
    out: Dict[str, Any] = {"endpoint": None, "private_zone_record": None, "cannot_tell": _strs(config.get("cannot_tell"))}
    if endpoint:
        out["endpoint"] = _fields(endpoint, strings=("id", "type", "state"), booleans=("private_dns_enabled",))
        out["endpoint"]["id"] = out["endpoint"]["id"] or "?"
    if record:
        out["private_zone_record"] = _fields(record, strings=("zone_id", "name", "class"))
        out["private_zone_record"]["zone_id"] = out["private_zone_record"]["zone_id"] or "?"
    return out


def _service(raw: Dict[str, Any]) -> Dict[str, Any]:
    out = _fields(raw, strings=("id", "hostname", "endpoint_type", "endpoint_service", "status", "vpc_dns_scope"),
                  booleans=("required",))
    out["id"] = out["id"] or "?"
    probes = _dict(raw.get("probes"))
    out["probes"] = {"dns": [_dns(d) for d in _list(probes.get("dns"))],
                     "tls": [_tls(t) for t in _list(probes.get("tls"))],
                     "api": _api(probes.get("api"))}
    config = _dict(probes.get("config"))
    if config:  # preflight: what the configuration says (agent/render/preflight_text.py)
        out["probes"]["config"] = _config(config)
    route = _dict(probes.get("route"))
    if route:  # a gateway service's route table (see agent/runner.py)
        out["probes"]["route"] = dict(_fields(route, strings=("route_table_id",), booleans=("main",)), gateway_routes=[
            _fields(_dict(r), strings=("prefix_list_id", "endpoint_id", "state")) for r in _list(route.get("gateway_routes"))])
    out["findings"] = [_finding(f) for f in _list(raw.get("findings")) if isinstance(f, dict)]
    out["checks"] = [_fields(_dict(c), strings=("check", "state", "error")) for c in _list(raw.get("checks"))]
    return out


def normalize(data: Dict[str, Any]) -> Dict[str, Any]:
    """The report in the exact shape the viewers read; see the module docstring."""
    node = _dict(data.get("node"))
    resolvers = _dict(node.get("resolvers"))
    imds = _dict(node.get("imds"))
    services, seen = [], set()
    for raw in _list(data.get("services")):
        if not isinstance(raw, dict):
            continue
        service = _service(raw)
        while service["id"] in seen:  # rows are keyed by id: a duplicate would crash the table
            service["id"] += "'"
        seen.add(service["id"])
        services.append(service)
    out = _fields(data, strings=("generated_at", "status", "mode"), numbers=("duration_ms", "schema_version"))
    out["mode"] = out["mode"] or "check"
    target = _dict(data.get("target"))
    if target:  # preflight: what was examined in place of a node
        cluster = _dict(target.get("cluster"))
        out["target"] = {"vpc_id": _str(target.get("vpc_id")), "vpc_cidrs": _strs(target.get("vpc_cidrs")),
                         "cluster": _fields(cluster, strings=("name",)) if cluster else None,
                         "dns_support": _bool(target.get("dns_support")),
                         "dns_hostnames": _bool(target.get("dns_hostnames")),
                         "subnets": [_fields(_dict(t), strings=("id", "availability_zone", "cidr", "route_table_id",
                                                                "network_acl_id"))
                                     for t in _list(target.get("subnets"))]}
    out["status"] = out["status"] or "unknown"
    out["duration_ms"] = out["duration_ms"] or 0
    out["tool"] = {"version": _str(_dict(data.get("tool")).get("version")) or "?"}
    out["node"] = _fields(node, strings=("region", "availability_zone", "instance_id", "account_id", "vpc_id",
                                         "subnet_id", "local_ipv4", "cluster_endpoint", "cluster_name"))
    out["node"].update({
        "vpc_cidrs": _strs(node.get("vpc_cidrs")),
        "endpoint_cidrs": _strs(node.get("endpoint_cidrs")),
        "resolvers": {"vpc": _str(resolvers.get("vpc")) or "?", "custom": _strs(resolvers.get("custom"))},
        "imds": _fields(imds, strings=("version", "endpoint", "error", "iam_role"), booleans=("reachable", "turned_off")),
        "notes": _strs(node.get("notes")),
    })
    out["services"] = services
    out["findings"] = [_finding(f) for f in _list(data.get("findings")) if isinstance(f, dict)]
    out["checks"] = [_fields(_dict(c), strings=("check", "state", "error")) for c in _list(data.get("checks"))]
    return out


def summarize(data: Dict[str, Any]) -> Dict[str, Any]:
    """What `fleet` reads of a report, with normalize()'s promise (every field of the right type,
    or None / "?") at a fraction of its cost: 10,000 reports are mostly this loop. Each service
    keeps its raw dict under "raw" for the few checks that look deeper (a hub's answers)."""
    node = _dict(data.get("node"))
    services = []
    for raw in _list(data.get("services")):
        if isinstance(raw, dict):
            services.append({"id": _str(raw.get("id")) or "?", "status": _str(raw.get("status")),
                             "findings": [_str(f.get("code")) or "?" for f in _list(raw.get("findings"))
                                          if isinstance(f, dict)], "raw": raw})
    return {
        "node": _fields(node, strings=("region", "availability_zone", "instance_id", "vpc_id", "subnet_id")),
        "generated_at": _str(data.get("generated_at")),
        "status": _str(data.get("status")) or "unknown",
        # remediation as written: fleet_fixes.py reads its parts with their types checked
        "findings": [{"code": _str(f.get("code")) or "?", "service": _str(f.get("service")),
                      "severity": _str(f.get("severity")), "remediation": _dict(f.get("remediation"))}
                     for f in _list(data.get("findings")) if isinstance(f, dict)],
        "services": services,
    }


def load_report(path: str) -> Tuple[Dict[str, Any], Dict[str, Any], Optional[str]]:
    """(raw report, normalized report, schema notice or None); ReportFileError when unreadable."""
    raw = read_report(path)
    return raw, normalize(raw), schema_notice(raw)
