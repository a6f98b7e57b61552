from __future__ import annotations

import json
from typing import Any, Dict


def render(report: Dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"
