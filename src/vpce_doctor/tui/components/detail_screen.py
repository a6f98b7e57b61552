"""A service's evidence (answers per resolver, each address's TLS result, the API outcome)
and its fixes, with the commands copyable."""
from __future__ import annotations

from typing import Any, Dict, List

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...agent.render.text import address_scope

SCOPE_NOTE = {"remote": " (remote: a hub VPC's endpoint)", "public": " (outside VPC)"}


def describe(service: Dict[str, Any], node_findings: List[Dict[str, Any]]) -> Text:
    text = Text()
    text.append("%s  %s\n" % (service.get("id"), service.get("status") or "running"), style="bold")
    text.append("%s  (%s endpoint %s)\n" % (service.get("hostname"), service.get("endpoint_type", "?"),
                                           service.get("endpoint_service", "?")))
    findings = service.get("findings") or []
    for f in findings:
        severity = f.get("severity")
        text.append("\n%s %s\n" % ({"critical": "✖", "info": "ℹ"}.get(severity, "▲"), f.get("code")),
                    style="bold" if severity == "info" else "bold red")
        text.append("%s\n" % f.get("message", ""))
        remedy = f.get("remediation") or {}
        text.append("fix: %s\n" % remedy.get("text", ""), style="green")
        for command in remedy.get("commands") or []:
            text.append("  $ %s\n" % command, style="cyan")
        for item in f.get("evidence") or []:
            text.append("  evidence: %s\n" % item, style="dim")
    if not findings and service.get("status") == "ok":
        text.append("\n✔ no finding: DNS, TLS and the API all reach the endpoint\n", style="green")
    probes = service.get("probes") or {}
    text.append("\nDNS\n", style="bold underline")
    for d in probes.get("dns") or []:
        addresses = ", ".join("%s%s" % (a.get("address"), SCOPE_NOTE.get(address_scope(a), ""))
                              for a in d.get("addresses") or []) or (d.get("status") or "?").upper()
        if not d.get("addresses") and (d.get("soa") or {}).get("zone"):
            addresses += " (zone %s)" % d["soa"]["zone"]  # which zone said the name is not there
        text.append("  %-4s %-5s %-22s %-48s %s  %.0f ms\n" % (d.get("resolver_role"), d.get("rdtype"), d.get("server"),
                                                              d.get("hostname"), addresses, d.get("ms") or 0))
    text.append("\nTLS on 443\n", style="bold underline")
    for t in probes.get("tls") or []:
        outcome = "%s %s" % (t.get("tls_version"), t.get("issuer") or "") if t.get("ok") else \
            "failed at %s: %s" % (t.get("phase"), t.get("error"))
        text.append("  %-16s %-9s %-11s %s  %.0f ms\n" % (t.get("address"), t.get("source"), t.get("availability_zone") or "",
                                                       outcome, t.get("ms") or 0), style=None if t.get("ok") else "red")
    if not probes.get("tls"):
        text.append("  (no address to try)\n", style="dim")
    route = probes.get("route")
    if route:  # a gateway endpoint is a route in the node subnet's table
        text.append("\nRoute table %s%s\n" % (route.get("route_table_id"), " (main)" if route.get("main") else ""),
                    style="bold underline")
        for r in route.get("gateway_routes") or []:
            text.append("  %s -> %s  %s\n" % (r.get("prefix_list_id"), r.get("endpoint_id"), r.get("state") or ""))
        if not route.get("gateway_routes"):
            text.append("  no gateway endpoint route\n", style="red")
    api = probes.get("api") or {}
    text.append("\nAPI\n", style="bold underline")
    if api:
        text.append("  %s via %s: %s" % (api.get("operation"), api.get("address") or "-", api.get("outcome")))
        if api.get("http_status"):
            text.append("  HTTP %s %s" % (api.get("http_status"), api.get("error_code") or ""))
        if api.get("skew_seconds") is not None:
            text.append("  clock skew %+.0f s" % api["skew_seconds"])
        if api.get("message"):
            text.append("\n  %s" % api["message"], style="dim")
        text.append("\n")
    for check in service.get("checks") or []:
        if check.get("state") != "done":
            text.append("\ncheck %s %s: %s\n" % (check.get("check"), check.get("state"), check.get("error")), style="magenta")
    if node_findings:
        text.append("\nNode-level findings also affect this service: %s\n" % ", ".join(f.get("code") for f in node_findings),
                    style="yellow")
    return text


class DetailScreen(Screen):
    BINDINGS = [Binding("escape,q,backspace", "app.pop_screen", "Back"), Binding("c", "copy", "Copy commands")]

    def __init__(self, service: Dict[str, Any], node_findings: List[Dict[str, Any]]):
        super().__init__()
        self.service, self.node_findings = service, node_findings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(describe(self.service, self.node_findings), id="detail-text")
        yield Footer()

    def commands(self) -> str:
        return "\n".join(c for f in self.service.get("findings") or [] for c in (f.get("remediation") or {}).get("commands") or [])

    def action_copy(self) -> None:
        commands = self.commands()
        if not commands:
            self.notify("no commands to copy for %s" % self.service.get("id"), markup=False)
            return
        self.app.copy_to_clipboard(commands)  # OSC 52: reaches the local clipboard over SSH where the terminal allows
        self.notify("copied %d command(s) (OSC 52; also shown above to select by hand)" % len(commands.splitlines()))
