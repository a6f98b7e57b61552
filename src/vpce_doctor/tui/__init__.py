"""The TUI: a thin Textual leaf over the same report data the CLI renders.
Only `vpce-doctor tui`, `view` and a bare `vpce-doctor` on a terminal import this package."""


def tui_available() -> bool:
    """Whether textual is installed, without importing it."""
    import importlib.util

    return importlib.util.find_spec("textual") is not None
