"""Entry points the CLI calls: live (check or demo) and view (a saved report)."""
from __future__ import annotations

from typing import Any, Callable, Dict


def live(run_check: Callable[..., Any]) -> int:
    from .app import VpceDoctorApp

    app = VpceDoctorApp(run_check=run_check)
    app.run()
    report = app.state.report
    return {"ok": 0, "warn": 1, "critical": 2}.get((report or {}).get("status"), 3)


def view(path: str, transform: Callable[[Dict[str, Any]], Dict[str, Any]] = lambda report: report) -> int:
    """0 when the report was shown and closed; ReportFileError (a ValueError) with one reason when
    the file is no report; 3 when the app itself failed (Textual prints its traceback and would
    otherwise leave with 0)."""
    from ..agent.report_file import read_report
    from .app import VpceDoctorApp

    report = transform(read_report(path))
    app = VpceDoctorApp(report=report)
    app.run()
    return 3 if app.return_code else 0
