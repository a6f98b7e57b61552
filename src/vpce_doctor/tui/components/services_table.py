"""One row per service; cells fill in as probes finish."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from ..state import COMPACT_COLUMNS, WIDE_COLUMNS, ViewState

COMPACT_BELOW = 110  # terminal columns
# colour only repeats what the symbols and words already say (NO_COLOR loses nothing)
STATUS_STYLE = {"ok": "green", "warn": "yellow", "critical": "bold red", "unknown": "magenta"}


def _styled(cells, status):
    # Text, never str: DataTable reads a str cell as markup, and "[" in a value is not ours to style
    return [Text(cells[0], style=STATUS_STYLE.get(status, ""))] + [Text(c) for c in cells[1:]]


class ServicesTable(DataTable):
    compact = None

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False

    def _layout(self, compact: bool) -> None:
        self.compact = compact
        self.clear(columns=True)
        for label in (COMPACT_COLUMNS if compact else WIDE_COLUMNS):
            self.add_column(label, key=label)

    def show(self, state: ViewState, problems_only: bool) -> None:
        compact = self.app.size.width < COMPACT_BELOW
        columns = COMPACT_COLUMNS if compact else WIDE_COLUMNS
        if compact != self.compact:
            self._layout(compact)
        wanted = [s["id"] for s in state.visible(problems_only)]
        current = [str(key.value) for key in self.rows]
        if current != wanted:
            selected = current[self.cursor_row] if current and 0 <= self.cursor_row < len(current) else None
            self.clear()
            for service in state.visible(problems_only):
                self.add_row(*_styled(state.cells(service, compact), service.get("status")), key=service["id"])
            if selected in wanted:
                self.move_cursor(row=wanted.index(selected))
            return
        for service in state.visible(problems_only):
            for label, value in zip(columns, _styled(state.cells(service, compact), service.get("status"))):
                if str(self.get_cell(service["id"], label)) != str(value):
                    self.update_cell(service["id"], label, value, update_width=True)

    def selected_service(self):
        if not self.rows or self.cursor_row < 0:
            return None
        return str(list(self.rows)[self.cursor_row].value)
