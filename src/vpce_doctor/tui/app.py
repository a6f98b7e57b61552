"""The Textual app. Live mode runs the real check in a worker thread and fills the table
as results arrive; view mode opens a saved report (a customer's export)."""
from __future__ import annotations

import json
import os
import re
import time
from typing import Any, Callable, Dict, Optional

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from ..core.text import printable
from .components.detail_screen import DetailScreen
from .components.help_screen import HelpScreen
from .components.node_panel import NodePanel
from .components.services_table import ServicesTable
from .components.summary_bar import SummaryBar
from .state import ViewState

STATE_DIR = "/var/lib/vpce-doctor"
# run_check(observer, on_facts) -> Report; raises SettingsError when the run cannot happen
RunCheck = Callable[..., Any]


def export_dir() -> str:
    return STATE_DIR if os.path.isdir(STATE_DIR) and os.access(STATE_DIR, os.W_OK) else os.getcwd()


class VpceDoctorApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "vpce-doctor"
    BINDINGS = [
        Binding("r", "rerun", "Re-run"),
        Binding("f", "filter", "Problems only"),
        Binding("e", "export", "Export JSON"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, run_check: Optional[RunCheck] = None, report: Optional[Dict[str, Any]] = None,
                 export_to: Optional[str] = None):
        super().__init__()
        self.run_check = run_check
        self.state = ViewState()
        self.problems_only = False
        self.export_to = export_to
        if report is not None:
            self.state.load(report)

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield ServicesTable(id="services")
        yield NodePanel(id="node")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(0.25, self.refresh_view)
        if self.run_check is not None:
            self.start_run()
        self.refresh_view()
        self.query_one(ServicesTable).focus()

    # --- running ---------------------------------------------------------------------
    def start_run(self) -> None:
        self.state.begin()
        self.run_worker(self._run, thread=True, exclusive=True, group="check")

    def _run(self) -> None:
        from ..core.settings import SettingsError

        def on_facts(facts, specs, hostnames):
            self.call_from_thread(self.state.on_facts, facts, specs, hostnames)

        def observer(result):
            self.call_from_thread(self.state.on_result, result)

        try:
            report = self.run_check(observer=observer, on_facts=on_facts)
        except SettingsError as exc:
            self.call_from_thread(self.state.fail, str(exc))
        except Exception as exc:  # never a traceback on the operator's screen
            self.call_from_thread(self.state.fail, "%s: %s" % (type(exc).__name__, exc))
        else:
            self.call_from_thread(self.state.finish, report.to_dict())
        self.call_from_thread(self.refresh_view)

    def refresh_view(self) -> None:
        from textual.css.query import NoMatches

        try:
            summary, table, panel = self.query_one(SummaryBar), self.query_one(ServicesTable), self.query_one(NodePanel)
        except NoMatches:
            # The 0.25 s timer can fire while the app is closing and its widgets are already gone
            # (seen on a loaded machine): nothing to draw then, and never a traceback.
            return
        summary.show(self.state)
        table.show(self.state, self.problems_only)
        panel.show(self.state)

    # --- actions ---------------------------------------------------------------------
    def action_rerun(self) -> None:
        if self.run_check is None:
            self.notify("viewing a saved report: run vpce-doctor on the node to check again", severity="warning")
        elif self.state.running:
            self.notify("a run is already going")
        else:
            self.start_run()
            self.refresh_view()

    def action_filter(self) -> None:
        self.problems_only = not self.problems_only
        self.notify("showing services with a problem" if self.problems_only else "showing every service")
        self.refresh_view()

    def action_export(self) -> None:
        from ..agent.render import write_atomic

        if self.state.report is None:
            self.notify("the run has not finished yet", severity="warning")
            return
        node = self.state.node or {}
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        # the instance id names the file only when it is one: a saved report's could be "../x"
        instance = node.get("instance_id") or ""
        name = instance if re.fullmatch(r"i-[0-9a-f]{8,17}", instance) else "node"
        path = os.path.join(self.export_to or export_dir(), "vpce-doctor-%s-%s.json" % (name, stamp))
        try:
            write_atomic(path, json.dumps(self.state.report, indent=2) + "\n")
        except (OSError, ValueError) as exc:  # ValueError: a report nested too deep for json.dumps
            self.notify(printable("cannot write %s: %s" % (path, getattr(exc, "strerror", None) or exc)),
                        severity="error", markup=False)
            return
        self.exported = path
        self.notify(printable("report written to %s" % path), markup=False)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        service_id = str(event.row_key.value)
        service = next((s for s in self.state.services if s["id"] == service_id), None)
        if service is not None:
            self.push_screen(DetailScreen(service, self.state.node_findings()))
