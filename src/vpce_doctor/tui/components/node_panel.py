"""Node-level findings (clock, proxy, IMDS, cluster endpoint, credentials) get their own place."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..state import ViewState


class NodePanel(Static):
    def show(self, state: ViewState) -> None:
        text = Text()
        text.append("NODE ", style="bold")
        if state.report is None:
            text.append("IMDS, credentials, clock, proxy, cluster endpoint: checking...")
            self.update(text)
            return
        findings = state.node_findings()
        imds = (state.node or {}).get("imds") or {}
        if not findings:
            text.append("✔ IMDS %s, credentials, clock, proxy and cluster endpoint fine" % (imds.get("version") or "?"))
        for f in findings:
            severity = f.get("severity")
            mark = {"critical": "✖", "info": "ℹ"}.get(severity, "▲")
            text.append("\n%s %s: %s" % (mark, f.get("code"), f.get("message")),
                        style={"critical": "red", "info": "dim"}.get(severity, "yellow"))
        self.update(text)
