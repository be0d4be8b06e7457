"""The architecture holds: layers import downward only, the pump side imports nothing from the
programmer, no import circle anywhere, and no module grows past about 400 lines without a
stated reason (docs/architecture.md)."""

from __future__ import annotations

import ast

from tests.architecture.graph import cycles, imports, layer, modules

#: Each layer's rank: a module may import its own layer and layers of lower rank only.
RANK = {
    "": 0, "errors": 0,
    "units": 1, "tomlfile": 1,
    "drugs": 2,
    "dosing": 3,
    "pump": 4, "link": 4, "physiology": 4,
    "protocol": 5,
    "emulator": 6, "control": 6, "selection": 6,
    "programmer": 7, "trial": 7,
    "validation": 8, "store": 8,
    "interop": 9,
    "api": 10,
    "console": 11,
    "cli": 12, "__main__": 13,
}

#: Modules allowed past the size guideline, and why.
LONG_MODULES = {
    "idds.physiology.parameters": "the table of every cited physiological parameter: one home "
    "for each number and its source",
}
MAX_LINES = 410


def test_every_package_has_a_rank() -> None:
    assert {layer(m) for m in modules()} <= set(RANK)


def test_layers_import_downward_only() -> None:
    upward = [f"{m} imports {d}" for m, deps in imports().items() for d in deps
              if layer(d) != layer(m) and RANK[layer(d)] >= RANK[layer(m)]]
    assert upward == []


def test_the_pump_side_imports_nothing_from_the_programmer() -> None:
    pump_side = {"pump", "emulator", "protocol", "link"}
    wrong = [f"{m} imports {d}" for m, deps in imports().items() for d in deps
             if layer(m) in pump_side and layer(d) in {"programmer", "control", "trial"}]
    assert wrong == []
    programmer = [f"{m} imports {d}" for m, deps in imports().items() for d in deps
                  if layer(m) == "programmer" and layer(d) == "emulator"]
    assert programmer == []


def test_no_import_circle() -> None:
    assert cycles() == []


def test_modules_stay_small_or_say_why() -> None:
    long = {m.name: m.lines for m in modules().values()
            if m.lines > MAX_LINES and m.name not in LONG_MODULES}
    assert long == {}


def test_the_graph_reader_sees_lazy_imports() -> None:
    """A guard on the guard: the reader finds imports inside functions, as a cycle would."""
    assert "idds.pump.rules" in imports()["idds.pump.firmware"]


def test_no_two_classes_share_a_name() -> None:
    """One name, one thing: the pump's `Therapy` and the cohort `Prescription`, the pump's
    `Drug` and the library's `DrugEntry`, the pump's `Limit` and the library's `DrugLimit`."""
    seen: dict[str, list[str]] = {}
    for module in modules().values():
        for node in ast.parse(module.path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(module.name)
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}
