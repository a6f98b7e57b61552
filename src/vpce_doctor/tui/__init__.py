"""The TUI: a thin Textual leaf over the same report data the CLI renders.
Only `vpce-doctor tui`, `view` and a bare `vpce-doctor` on a terminal import this package."""
