"""The house reads bottom-up: core <- checks <- preflight <- agent <- tui <- demo <- lab, and on the
roof the command-line dispatcher (vpce_doctor/cli.py, beside __main__.py). A module may import
from its own floor or the floors below, never from above, and no two modules import each other
(nor any longer ring): read statically, so a lazy import inside a function counts too. No module
is exempt."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "vpce_doctor"
FLOORS = ("core", "checks", "preflight", "agent", "tui", "demo", "lab")  # bottom first
ROOF = ("cli", "__main__")  # vpce_doctor/cli.py and __main__.py: they may import any floor


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(dotted: str) -> str:
    """The package module a dotted name lives in (a name imported from a module is not one)."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted


def _imports(name: str):
    """(line, module imported) for every import of the package's own modules in module `name`."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                full = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "vpce_doctor":
                full = node.module
            else:
                continue
            for alias in node.names:  # `from . import x` imports the module x when there is one
                target = full + "." + alias.name if full + "." + alias.name in MODULES else full
                yield node.lineno, _resolve(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "vpce_doctor":
                    yield node.lineno, _resolve(alias.name)


GRAPH = {name: {target for _, target in _imports(name) if target != name} for name in MODULES}


def _floor(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "vpce_doctor"


def test_every_module_stands_on_a_floor_or_the_roof():
    unplaced = [n for n in MODULES if _floor(n) not in FLOORS + ROOF + ("vpce_doctor",)]
    assert not unplaced, "add the new package to FLOORS: %s" % unplaced


@pytest.mark.parametrize("floor", FLOORS)
def test_no_floor_imports_from_above(floor):
    allowed = set(FLOORS[: FLOORS.index(floor) + 1]) | {"vpce_doctor"}
    wrong = ["%s:%d imports %s" % (MODULES[name].relative_to(PACKAGE), line, target)
             for name in MODULES if _floor(name) == floor
             for line, target in _imports(name) if _floor(target) not in allowed]
    assert not wrong, wrong


def test_the_package_itself_imports_none_of_its_modules():
    """vpce_doctor/__init__.py (the version) is ground every floor may stand on: it stands on nothing."""
    assert GRAPH["vpce_doctor"] == set()


def test_only_the_entry_points_import_the_dispatcher():
    importers = sorted(name for name, targets in GRAPH.items() if "vpce_doctor.cli" in targets)
    assert importers == ["vpce_doctor.__main__"], importers
    assert not any("vpce_doctor.__main__" in targets for targets in GRAPH.values())


def _rings(graph=GRAPH):
    """Strongly connected groups of more than one module (Tarjan): each holds an import circle."""
    index, low, stack, on_stack, rings = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            ring = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                ring.append(w)
                if w == v:
                    break
            if len(ring) > 1:
                rings.append(sorted(ring))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return rings


def test_no_import_circles():
    pairs = sorted("%s <-> %s" % (a, b) for a in GRAPH for b in GRAPH[a] if a < b and a in GRAPH[b])
    assert not pairs, pairs
    assert not _rings(), _rings()


def test_the_reader_sees_what_it_must():
    """The graph is read right: known edges of each import form are found, so the tests above cannot
    pass for an empty graph."""
    assert "vpce_doctor.checks.parallel" in GRAPH["vpce_doctor.agent.discovery"]  # from ..x.y import name
    assert "vpce_doctor.agent.render.text_layout" in GRAPH["vpce_doctor.agent.render.text"]  # from .x import name
    assert "vpce_doctor.agent.render.preflight_text" in GRAPH["vpce_doctor.agent.render.text"]  # from . import x (lazy)
    assert "vpce_doctor.agent.commands" in GRAPH["vpce_doctor.cli"]  # from .pkg import module
    assert _floor("vpce_doctor.tui.run") == "tui" and "vpce_doctor.agent.commands" in GRAPH["vpce_doctor.tui.run"]
    ringed = {name: set(targets) for name, targets in GRAPH.items()}  # a circle made on purpose is seen
    ringed["vpce_doctor.core.text"].add("vpce_doctor.core.model")
    ringed["vpce_doctor.core.model"].add("vpce_doctor.core.text")
    assert ["vpce_doctor.core.model", "vpce_doctor.core.text"] in _rings(ringed)
