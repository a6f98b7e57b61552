"""Entry points the dispatcher (vpce_doctor/cli.py) calls: the live view of a check (`tui`, and
the demo's), and one report shown as it stands (`view`, `preflight` on a terminal)."""
from __future__ import annotations

import argparse
from typing import Any, Callable, Dict


def live(run_check: Callable[..., Any]) -> int:
    from .app import VpceDoctorApp

    app = VpceDoctorApp(run_check=run_check)
    app.run()
    report = app.state.report
    return {"ok": 0, "warn": 1, "critical": 2}.get((report or {}).get("status"), 3)


def live_check(args: argparse.Namespace) -> int:
    """`vpce-doctor tui`: the check on this node, watched as it runs."""
    from ..agent.commands import check_flags, fail
    from ..agent.runner import run
    from ..checks.catalogue import service_ids
    from ..core.settings import SettingsError, resolve_settings

    try:
        settings = resolve_settings(check_flags(args), known_services=service_ids())
    except SettingsError as exc:
        return fail(str(exc))
    return live(lambda observer, on_facts: run(settings, observer=observer, on_facts=on_facts))


def show(report: Dict[str, Any]) -> int:
    """0 when the report was shown and closed; 3 when the app itself failed (Textual prints its
    traceback and would otherwise leave with 0)."""
    from .app import VpceDoctorApp

    app = VpceDoctorApp(report=report)
    app.run()
    return 3 if app.return_code else 0
