"""The import graph of `idds`, read from the source (every import, lazy ones inside functions
and TYPE_CHECKING blocks included), for the architecture tests."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    lines: int


@cache
def modules() -> dict[str, Module]:
    out = {}
    for path in sorted((SRC / "idds").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = Module(name, path, len(path.read_text().splitlines()))
    return out


def _target(base: str, name: str) -> str:
    """`from base import name`: the submodule when `name` is one, else the module `base`."""
    sub = f"{base}.{name}"
    return sub if sub in modules() else base


@cache
def imports() -> dict[str, frozenset[str]]:
    """Module -> the idds modules it imports."""
    known = modules()
    graph = {}
    for name, module in known.items():
        deps: set[str] = set()
        package = name if module.path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(module.path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                if base in known:
                    deps.update(_target(base, a.name) for a in node.names)
        deps.discard(name)
        graph[name] = frozenset(deps)
    return graph


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    graph = imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> str:
    """The top-level package of an idds module ("pump", "control", ...)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""
