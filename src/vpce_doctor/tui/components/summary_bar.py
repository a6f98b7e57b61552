"""Who and where: region, AZ, VPC, subnet, resolvers, and the overall verdict."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..state import STATUS_LABEL, ViewState

STATUS_STYLE = {"ok": "bold green", "warn": "bold yellow", "critical": "bold red", "unknown": "bold magenta"}


class SummaryBar(Static):
    def show(self, state: ViewState) -> None:
        node = state.node or {}
        resolvers = node.get("resolvers") or {}
        text = Text()
        preflight = state.shown.get("mode") == "preflight"
        if preflight:  # a configuration was read, not a node: say which VPC and subnets
            target = state.shown.get("target") or {}
            subnets = ", ".join(str(t.get("id") or "?") for t in target.get("subnets") or []) or "?"
            text.append("vpce-doctor preflight ", style="bold")
            text.append("%s  %s  subnets %s" % (node.get("region") or "?", target.get("vpc_id") or "?", subnets))
        else:
            text.append("vpce-doctor ", style="bold")
            where = node.get("availability_zone") or node.get("region")
            text.append("  ".join(str(v or "?") for v in (where, node.get("vpc_id"), node.get("subnet_id"))))
        text.append("\n")
        if state.error:
            text.append("run failed: %s" % state.error, style="bold red")
        elif state.report is None:
            text.append("checking %d services... %.1fs" % (len(state.services), state.elapsed()), style="bold")
        else:
            status = state.shown.get("status") or "unknown"
            counts = state.counts()
            text.append(STATUS_LABEL.get(status, status).upper(), style=STATUS_STYLE.get(status, "bold"))
            text.append("  %d critical, %d warning  %.2fs" % (counts.get("critical", 0), counts.get("warning", 0),
                                                           (state.shown.get("duration_ms") or 0) / 1000.0))
        if preflight:
            text.append("\npredicted from the AWS configuration: no node was probed (DNS, TLS and API cells stay -)")
        else:
            text.append("\nresolvers: vpc %s, node %s" % (resolvers.get("vpc", "?"),
                                                         ", ".join(resolvers.get("custom") or []) or "none"))
        if state.notice:
            text.append("\n" + state.notice, style="italic yellow")
        self.update(text)
