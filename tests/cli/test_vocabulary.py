"""One vocabulary of options across the CLI (issue 14, What to build 2): the same thing has
the same option name in every command that takes it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_strict_cli import COMMANDS

#: The one name for each thing, and the names it used to have in some commands.
ONE_NAME = {
    "--library": ("--drug-library", "--lib"),
    "--bolus": ("--bolus-dose",),
    "--max-boluses": ("--max-per-day", "--max-per-24h"),
    "--trust-store": ("--trusted-key",),
}


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", ())}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_no_command_uses_another_name_for_the_same_thing(path: tuple[str, ...],
                                                         command: Any) -> None:
    options = _options(command)
    for name, others in ONE_NAME.items():
        assert not options & set(others), (path, name, options & set(others))


def test_every_command_that_reads_the_drug_library_names_it_the_same_way() -> None:
    reading = {" ".join(p) for p, c in COMMANDS if "--library" in _options(c)}
    assert {"convert", "refill", "rate", "pump simulate", "pump serve", "program therapy",
            "program refill", "patient simulate", "library show"} <= reading
    helps = {" ".join(p): next(param.help for param in c.params if "--library" in param.opts)
             for p, c in COMMANDS if "--library" in _options(c)}
    assert all("drug library" in text.lower() for text in helps.values()), helps
