"""The rooms of the tree and what each may import (docs/architecture.md draws them), checked on
every import statement of every module, function-level imports included; and no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "filters", "classifiers", "trainer", "gristmill")

# room -> the rooms its modules may import (its own always allowed). A module's room is the longest
# prefix of its name listed here.
ROOMS: dict[str, set[str]] = {
    "pipeline": set(),  # the package itself: an empty __init__
    "pipeline.core": set(),
    "filters": {"pipeline.core", "classifiers"},
    "classifiers": {"pipeline.core", "filters"},
    "pipeline.config": {"pipeline.core", "filters", "classifiers"},
    "pipeline.warc": {"pipeline.core", "pipeline.config"},
    "pipeline.extraction": {"pipeline.core", "pipeline.config"},
    "filters.evaluation": {"pipeline.core", "pipeline.config", "filters", "classifiers"},
    "pipeline.fixtures": {"pipeline.core", "pipeline.config", "pipeline.warc", "pipeline.extraction", "filters"},
    "pipeline.accounting": {"pipeline.core", "pipeline.config"},
    "pipeline.stages": {
        "pipeline.core",
        "pipeline.config",
        "pipeline.warc",
        "pipeline.extraction",
        "pipeline.accounting",
        "filters",
        "classifiers",
    },
    "pipeline.graph": {"pipeline.core", "pipeline.config", "pipeline.accounting", "pipeline.stages", "filters"},
    "pipeline.runner": {"pipeline.core", "pipeline.config", "pipeline.accounting", "pipeline.graph"},
    "trainer": {"pipeline.core"},
    "gristmill": {"pipeline", "filters", "classifiers", "trainer"},
}
BEAM_FREE = (
    "pipeline.core",
    "pipeline.config",
    "pipeline.warc",
    "pipeline.extraction",
    "pipeline.fixtures",
    "filters",
    "classifiers",
    "trainer",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module an import statement in `path` names (`from a import b` names a.b when that is a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = {_module_name(p): p for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))}
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}
RAW = {name: _imports(path) for name, path in MODULES.items()}


def room_of(module: str) -> str:
    return max((room for room in ROOMS if module == room or module.startswith(room + ".")), key=len)


def _inside(module: str, rooms: set[str]) -> bool:
    return any(module == room or module.startswith(room + ".") for room in rooms)


def test_every_module_has_a_room():
    assert all(room_of(module) for module in MODULES)


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_rooms_import_only_what_they_may(room):
    allowed = ROOMS[room] | {room}
    wrong = sorted(
        f"{module} -> {target}"
        for module in MODULES
        if room_of(module) == room
        for target in GRAPH[module]
        if not _inside(target, allowed) and room_of(target) not in allowed
    )
    assert not wrong, "imports across the room rules:\n" + "\n".join(wrong)


def test_only_the_graph_and_the_command_line_import_stages():
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.startswith("pipeline.stages.")
        and room_of(module) not in {"pipeline.stages", "pipeline.graph", "gristmill"}
    )
    assert not wrong, wrong


def test_pure_rooms_never_name_beam():
    wrong = sorted(
        f"{module} -> {name}"
        for module, names in RAW.items()
        if _inside(module, set(BEAM_FREE))
        for name in names
        if name == "apache_beam" or name.startswith("apache_beam.")
    )
    assert not wrong, wrong


def test_pure_rooms_do_not_load_beam_when_imported():
    modules = sorted(m for m in MODULES if _inside(m, set(BEAM_FREE)))
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "    assert 'apache_beam' not in sys.modules, m + ' loads apache_beam'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert strongly_connected(GRAPH) == []
