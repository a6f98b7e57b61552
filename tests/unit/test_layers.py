"""The house reads bottom-up: core <- checks <- agent <- tui/demo/lab. A module may import
from its own floor or the floors below, never from above (read statically, so a lazy
import inside a function counts too)."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "vpce_doctor"
# floor -> the floors it may stand on
ALLOWED = {
    "core": {"core"},
    "checks": {"core", "checks"},
    "agent": {"core", "checks", "agent"},
    "preflight": {"core", "checks", "preflight"},
}


def _imported_floors(path: pathlib.Path):
    floor_parts = path.relative_to(PACKAGE).parts
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(floor_parts[:-1])[: len(floor_parts) - node.level]
                target = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    target += [alias.name for alias in node.names][:1]
            elif node.module and node.module.startswith("vpce_doctor."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                yield node.lineno, target[0]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("vpce_doctor."):
                    yield node.lineno, alias.name.split(".")[1]


@pytest.mark.parametrize("floor", sorted(ALLOWED))
def test_no_floor_imports_from_above(floor):
    wrong = []
    for path in sorted((PACKAGE / floor).rglob("*.py")):
        if path == PACKAGE / "agent" / "cli.py":
            continue  # the dispatcher is the roof: it imports each subcommand (tui, demo); none imports it back
        for lineno, target in _imported_floors(path):
            if target in {"core", "checks", "agent", "preflight", "tui", "demo", "lab"} and target not in ALLOWED[floor]:
                wrong.append("%s:%d imports %s" % (path.relative_to(PACKAGE), lineno, target))
    assert not wrong, wrong


def test_only_the_entry_point_imports_the_dispatcher():
    importers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if path.name != "__main__.py" and ("agent.cli import" in text or "from .cli import" in text and path.parent.name == "agent"):
            importers.append(str(path.relative_to(PACKAGE)))
    assert not importers, importers
