"""Canonical JSON: one text for one value, so a hash over it recomputes exactly.

Keys sorted, no spaces, UTF-8 kept as text. Floats are refused: a quantity reaches the record
as whole base units, an exact fraction, or text with its unit ("0.5 mg/day"), never as a
binary float that would round differently on another machine or backend."""

from __future__ import annotations

import json

from idds.store.errors import StoreError


def _check(value: object, where: str) -> None:
    if isinstance(value, float):
        raise StoreError(f"{where} is the float {value!r}: store an exact value (whole "
                         "base units, a fraction, or text with its unit)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise StoreError(f"{where} has the key {key!r}: keys must be text")
            _check(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
    elif not isinstance(value, str | int | bool) and value is not None:
        raise StoreError(f"{where} is a {type(value).__name__}, not JSON data")


def canonical_json(value: object, what: str = "value") -> str:
    """The canonical JSON text of `value` (dicts with text keys, lists, text, whole numbers,
    booleans, None)."""
    _check(value, what)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_json(text: str) -> object:
    """The value of a canonical JSON text written by `canonical_json`."""
    return json.loads(text)
