from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """vpce-doctor: VPC endpoints and DNS, seen from this node

  enter  open a service: answers per resolver, TLS per address, API, fixes
  c      (in a service) copy its fix commands to your clipboard (OSC 52)
  r      run every check again
  f      show only services with a problem (again: all)
  e      export the report as JSON (/var/lib/vpce-doctor if writable, else here)
  ?      this help          q  quit

Columns: VPC DNS / NODE DNS: in-vpc, public (outside the VPC), NXDOMAIN,
timeout...; TLS: addresses that completed a handshake; API: the signed
read-only call. Node-level findings are listed under the table.
Status words: ok, warn, crit, unkn (a check could not run).
"""


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP)
