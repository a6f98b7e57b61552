"""Renderers: small functions from the report data (Report.to_dict()) to text.

A registry, so an output format is one function and one line here."""
from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Callable, Dict, Optional

from . import fixes_cli, fixes_cloudformation, fixes_terraform, json_format, npd, prometheus, text

RENDERERS: Dict[str, Callable[[Dict[str, Any]], str]] = {
    "text": text.render,
    "json": json_format.render,
    "prometheus": prometheus.render,
    "npd": npd.render,  # node-problem-detector's plugin line; `check` maps the exit code (render/npd.py)
    # --fix-format: only the fixes, as code
    "fixes-cli": fixes_cli.render,
    "fixes-terraform": fixes_terraform.render,
    "fixes-cloudformation": fixes_cloudformation.render,
}


def write_atomic(path: str, content: str) -> None:
    """Readers (node_exporter, a support script) never see half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vpce-doctor-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def emit(data: Dict[str, Any], fmt: str, output: Optional[str], exit_code: int) -> int:
    """Render to stdout or atomically to `output`; the run's exit code, or 3 with one line when
    the file cannot be written."""
    content = RENDERERS[fmt](data)
    if output:
        try:
            write_atomic(output, content)
        except OSError as exc:
            sys.stderr.write("vpce-doctor: cannot write %s: %s\n" % (output, exc.strerror or exc))
            return 3
    else:
        sys.stdout.write(content)
    return exit_code
