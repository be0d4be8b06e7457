"""The command line is read as strictly as a file: no option slips in as another's value.

Click (under Typer) refuses an unknown option only where it expects an option: in a value's
place it takes anything, so `idds trial --out --bogus` wrote a folder named "--bogus" and
`idds program therapy --override --yes ...` took "--yes" as the reason. Before a command runs,
`check_argv` walks the arguments the way Click will and refuses, as one line:

- a value that is itself an option (`--drug --dose`) or looks like one (`--out --bogus`); a
  negative number ("-3 mg/day") is still a value;
- a number option (`int`, `float`) whose text is not plain ASCII decimal with at most 15
  digits ("nan", "inf", "1e400", "1_000", "1\u06605" are refused), or a whole-number option
  with a decimal point.

Everything else (unknown options, missing ones, bad types) is Click's own refusal, which
`idds.cli.main.main` turns into one line with exit status 2.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from idds.errors import IddsError
from idds.units.numbers import NumberError, check_number_text, shown


class OptionValueError(IddsError):
    """A command-line option given another option, or a bad number, as its value."""


def _number_kind(param: Any) -> type | None:
    """int or float when the option's annotation is (an optional) number, else None."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    choices = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (
        annotation,)
    for choice in choices:
        if choice in (int, float):
            return typing.cast(type, choice)
    return None


def _check_number(option: str, value: str, kind: type) -> None:
    """Plain ASCII decimal (`idds.units.numbers`: at most 15 digits, no exponent, no nan or
    inf), and for a whole-number option no decimal point."""
    try:
        check_number_text(value.strip(), option)
    except NumberError as exc:
        raise OptionValueError(str(exc)) from None
    if kind is int and "." in value:
        raise OptionValueError(f"{option} {shown(value)} is not a whole number")


def _leaf(root: Any, argv: Sequence[str]) -> tuple[Any, list[str]]:
    """The command the arguments name, and the arguments after its name."""
    node, rest = root, list(argv)
    while getattr(node, "commands", None):
        names = [i for i, token in enumerate(rest) if not token.startswith("-")]
        if not names or rest[names[0]] not in node.commands:
            return None, []
        node, rest = node.commands[rest[names[0]]], rest[names[0] + 1:]
    return node, rest


def check_argv(root: Any, argv: Sequence[str]) -> None:
    """Refuse option values that are options, and bad numbers, before the command runs."""
    command, rest = _leaf(root, argv)
    if command is None:
        return
    takes_value: dict[str, Any] = {}
    every: set[str] = {"--help", "-h"}
    for param in getattr(command, "params", []):
        names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
        every.update(names)
        if type(param).__name__.endswith("Option") and not getattr(param, "is_flag", False) \
                and not getattr(param, "count", False):
            takes_value.update(dict.fromkeys(names, param))
    index = 0
    while index < len(rest):
        token = rest[index]
        if token == "--":
            return
        name, equals, inline = token.partition("=")
        if token.startswith("--") and equals and name in takes_value:
            value: str | None = inline
        elif token in takes_value:
            index += 1
            value = rest[index] if index < len(rest) else None
            if value is not None and (value.startswith("--") or value in every):
                raise OptionValueError(f"option {token} needs a value, not the option {value}")
            name = token
        else:
            index += 1
            continue
        kind = _number_kind(takes_value[name])
        if value is not None and kind is not None:
            _check_number(name, value, kind)
        index += 1
