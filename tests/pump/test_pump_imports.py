"""The pump package's imports: no circle between its modules, nothing from higher layers.

Every import statement counts: module level, inside functions (lazy) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import idds.pump

PUMP = Path(idds.pump.__file__).parent
#: Layers above the pump (docs/design.md): the pump never imports them.
HIGHER = ("idds.protocol", "idds.link", "idds.emulator", "idds.programmer", "idds.physiology",
          "idds.control", "idds.trial", "idds.cli", "idds.validation")


def imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from idds.pump import x` names x too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def pump_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PUMP.glob("*.py")} - {"__init__"}
    graph = {}
    for name in modules:
        graph[name] = {m.split(".")[2] for m in imports(PUMP / f"{name}.py")
                       if m.startswith("idds.pump.") and m.split(".")[2] in modules}
    return graph


def test_the_pump_modules_import_each_other_without_a_circle() -> None:
    graph = pump_graph()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import circle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
    assert "telemetry" not in graph["firmware"] and "snapshot" not in graph["firmware"]


def test_the_pump_imports_no_higher_layer() -> None:
    for path in PUMP.glob("*.py"):
        bad = {m for m in imports(path) if m.startswith(HIGHER)}
        assert not bad, f"{path.name} imports {sorted(bad)}"
