"""The array-backend seam of the virtual-patient step: the readable step
(`idds.physiology.model.reference_step`) computes with whatever array library its arrays come
from (the Python array API standard: each array names its namespace), so the same code runs on
numpy (the default, and in CI), on a GPU through CuPy or JAX, or on `array-api-strict` (a
numpy wrapper that refuses anything outside the standard: the test that the step stays
portable).

`namespace(name)` imports a backend ("numpy", "cupy", "jax", "array-api-strict"; JAX with 64-bit
numbers on, which the random streams' uint64 hash and float64 results need) or says plainly
that it is not installed; `to_backend` moves a cohort, a state or any dataclass of arrays onto
it, and `to_numpy` brings them back. The fast step (`model.step`), the compiled day loop and the
trial engine stay numpy. `tests/physiology/test_backend.py` keeps a step on each installed
backend equal to numpy.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, TypeVar

import numpy as np
from scipy import special

from idds.physiology.errors import PhysiologyError

T = TypeVar("T")

#: Backends by name, with the package that provides each (`pip install` hints).
BACKENDS = {
    "numpy": "numpy",
    "cupy": "cupy-cuda12x (pip install 'idds[gpu]')",
    "jax": "jax (pip install 'idds[jax]'; jax[cuda12] for a GPU)",
    "array-api-strict": "array-api-strict (in the test extra)",
}


class BackendError(PhysiologyError):
    """An array backend that is unknown or not installed."""


def namespace(name: str) -> Any:
    """The array namespace of backend `name` (see `BACKENDS`)."""
    if name not in BACKENDS:
        raise BackendError(f"unknown array backend {name!r}; one of: {', '.join(BACKENDS)}")
    module = {"jax": "jax.numpy", "array-api-strict": "array_api_strict"}.get(name, name)
    try:
        if name == "jax":
            importlib.import_module("jax").config.update("jax_enable_x64", True)
        return importlib.import_module(module)
    except ImportError as exc:  # a missing package, or a GPU package without its driver
        raise BackendError(f"array backend {name!r} is not available here ({exc}); "
                           f"it needs {BACKENDS[name]}") from None


def of(x: Any) -> Any:
    """The array namespace an array belongs to (numpy for Python numbers)."""
    return x.__array_namespace__() if hasattr(x, "__array_namespace__") else np


def ndtri(p: Any) -> Any:
    """The inverse of the standard normal CDF, on the backend of `p`: scipy's for numpy,
    the backend's own where it has one (CuPy, JAX), else scipy's on a copy brought to the
    host (array-api-strict)."""
    xp = of(p)
    if xp is np:
        return special.ndtri(p)
    name = xp.__name__
    if name.startswith("cupy"):
        return importlib.import_module("cupyx.scipy.special").ndtri(p)
    if name.startswith("jax"):
        return importlib.import_module("jax.scipy.special").ndtri(p)
    return xp.asarray(special.ndtri(np.asarray(p)))


def _convert(value: Any, array: Any) -> Any:
    if isinstance(value, np.ndarray) or (hasattr(value, "__array_namespace__")
                                         and not isinstance(value, np.generic)):
        return array(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _convert(getattr(value, f.name), array)
                   for f in dataclasses.fields(value) if f.init and f.compare}
        # fields left out of comparison are caches (Cohort's): a moved value starts its own
        return dataclasses.replace(value, **changes, **{
            f.name: f.default_factory() for f in dataclasses.fields(value)
            if f.init and not f.compare and f.default_factory is not dataclasses.MISSING})
    if isinstance(value, tuple):
        items = [_convert(v, array) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def to_backend(value: T, xp: Any) -> T:
    """`value` (an array, or a dataclass or tuple of them, nested) with every numpy array
    copied onto the backend `xp`; other fields as they are."""
    return _convert(value, lambda a: xp.asarray(np.asarray(a)))  # type: ignore[no-any-return]


def host(a: Any) -> np.ndarray:
    """One backend array as a numpy array on the host."""
    if hasattr(a, "get") and not isinstance(a, np.ndarray):  # CuPy: a copy from the device
        return np.asarray(a.get())
    return np.asarray(a)


def to_numpy(value: T) -> T:
    """`value` with every backend array brought back to the host as numpy (`to_backend`'s
    inverse)."""
    return _convert(value, host)  # type: ignore[no-any-return]
