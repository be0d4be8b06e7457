"""A researcher's own controller, loaded by name: `module:factory`, `path/to/file.py:factory`,
or the name of an installed entry point in the group `idds.controllers`.

The factory has the signature of the built-in ones (`idds.control.registry.Factory`)::

    def build(settings: ControllerSettings, max_increase_per_day: float,
              prior_oral_mg_per_day: numpy.ndarray | None) -> Controller

and returns an object with `name`, `initial(therapy)` and `recommend(state, obs, therapy)`
(`idds.control.controller.Controller`). Its recommendations pass the same safety supervisor
as every other controller's; a plug-in cannot talk past the library's limits. The loaded
object is checked before any patient is simulated, so a typo is one clear line, not a
traceback in a worker. docs/controllers.md shows a worked example.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation
from idds.errors import IddsError

ENTRY_POINT_GROUP = "idds.controllers"
REQUIRED = ("name", "initial", "recommend")


class PluginError(IddsError):
    """A controller plug-in that cannot be loaded or is not a controller factory."""


def is_plugin(name: str) -> bool:
    """True for a `module:factory` or `file.py:factory` spec."""
    return ":" in name


def _module(where: str, spec: str) -> Any:
    if where.endswith(".py"):
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise PluginError(f"controller plug-in {spec!r}: no file {path}")
        name = f"idds_plugin_{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
        if name in sys.modules:
            return sys.modules[name]
        found = importlib.util.spec_from_file_location(name, path)
        if found is None or found.loader is None:
            raise PluginError(f"controller plug-in {spec!r}: {path} is not a Python module")
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module
        try:
            found.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise PluginError(f"controller plug-in {spec!r}: importing {path} failed: "
                              f"{type(exc).__name__}: {exc}") from None
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise PluginError(f"controller plug-in {spec!r}: cannot import {where!r} ({exc})"
                          ) from None


def _entry_point(name: str) -> Callable[..., Any] | None:
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name == name:
            loaded: Callable[..., Any] = point.load()
            return loaded
    return None


def entry_point_names() -> tuple[str, ...]:
    """Installed controller plug-ins (entry points in the group `idds.controllers`)."""
    return tuple(sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP)))


def load_factory(spec: str) -> Callable[..., Any]:
    """The factory named by `spec`; `PluginError` with the reason if there is none."""
    if not is_plugin(spec):
        found = _entry_point(spec)
        if found is None:
            raise PluginError(f"no controller plug-in named {spec!r}")
        return found
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute.isidentifier():
        raise PluginError(f"controller plug-in {spec!r}: write module:factory or "
                          "path/to/file.py:factory")
    factory = getattr(_module(where, spec), attribute, None)
    if not callable(factory):
        raise PluginError(f"controller plug-in {spec!r}: {where} has no callable "
                          f"{attribute!r}")
    return factory  # type: ignore[no-any-return]


def check_interface(controller: object, spec: str) -> None:
    """Refuse an object that lacks the controller interface."""
    missing = [name for name in REQUIRED if not hasattr(controller, name)]
    if missing:
        raise PluginError(f"controller plug-in {spec!r} returned {type(controller).__name__}, "
                          f"which has no {', '.join(missing)}: see idds.control.controller")


class GuardedController:
    """A plug-in controller with its failures made plain: any exception it raises, or an
    answer that is not a `Recommendation` for the same patients, becomes a `PluginError`
    naming the plug-in and the day (one line at the CLI, not a traceback from a worker)."""

    def __init__(self, inner: Any, spec: str) -> None:
        self.inner = inner
        self.spec = spec

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def initial(self, therapy: Prescription) -> Any:
        try:
            return self.inner.initial(therapy)
        except Exception as exc:
            raise self._failed("initial", exc) from None

    def recommend(self, state: Any, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, Any]:
        try:
            answer = self.inner.recommend(state, obs, therapy)
        except Exception as exc:
            raise self._failed(f"recommend on day {obs.day}", exc) from None
        if not (isinstance(answer, tuple) and len(answer) == 2
                and isinstance(answer[0], Recommendation)
                and answer[0].therapy.n == therapy.n
                and np.shape(answer[0].reasons) == (therapy.n,)):
            raise PluginError(f"controller plug-in {self.spec!r}: recommend must return "
                              f"(Recommendation for {therapy.n} patients, state), not "
                              f"{type(answer).__name__}")
        return answer[0], answer[1]

    def _failed(self, where: str, exc: Exception) -> PluginError:
        return PluginError(f"controller plug-in {self.spec!r} failed in {where}: "
                           f"{type(exc).__name__}: {exc}")


def build_plugin(factory: Callable[..., Any], spec: str, *args: Any) -> GuardedController:
    """Call a plug-in's factory and guard what it returns."""
    try:
        controller = factory(*args)
    except Exception as exc:
        raise PluginError(f"controller plug-in {spec!r}: its factory failed: "
                          f"{type(exc).__name__}: {exc}") from None
    check_interface(controller, spec)
    return GuardedController(controller, spec)
