"""Entry points the CLI calls: live (check or demo) and view (a saved report)."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict


def live(run_check: Callable[..., Any]) -> int:
    from .app import VpceDoctorApp

    app = VpceDoctorApp(run_check=run_check)
    app.run()
    report = app.state.report
    return {"ok": 0, "warn": 1, "critical": 2}.get((report or {}).get("status"), 3)


def view(path: str) -> int:
    from .app import VpceDoctorApp

    with open(path, encoding="utf-8") as handle:
        report: Dict[str, Any] = json.load(handle)
    if not isinstance(report, dict):
        raise ValueError("%s is not a vpce-doctor report" % path)
    VpceDoctorApp(report=report).run()
    return 0
