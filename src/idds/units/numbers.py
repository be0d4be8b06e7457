"""Numbers from text: ASCII digits only, a bounded count of digits, a bounded size.

Python's own readers are too generous for input from a file, the command line or the link:
`int()`, `float()` and `Fraction()` accept any Unicode decimal digit ("1\u06605" is 105),
digit-group underscores ("1_000"), exponents ("1e400") and "inf"/"nan", and a 1,500-digit
number parses into a value that later overflows a float. Every number IDDS reads from text goes
through `parse_decimal` or `parse_whole`, which accept only:

- an optional sign, then the ASCII digits 0-9 with at most one decimal point ("0.5", "-3",
  ".25"); no exponent, no underscores, no other digits;
- at most `MAX_DIGITS` (15) digits, not counting zeros before the first significant digit of
  the whole part, so a value is at most 10^15 and at least 10^-15 when not zero;
- within the range the caller states (quantities: `parse_quantity`'s range).

Refusals are `NumberError` (a `UnitError`, hence an `IddsError`: one line, exit status 2), and
they never echo more than `SHOWN` characters of the text (a refusal must stay one short line,
and a reason sent over the link must fit its message).
"""

from __future__ import annotations

import re
from fractions import Fraction

from idds.units.table import UnitError

#: Most digits a number may be written with (leading zeros of the whole part not counted).
MAX_DIGITS = 15
#: Longest text shown back in a refusal.
SHOWN = 24
#: Longest number text read at all (sign, 15 digits, point, and some leading zeros).
MAX_TEXT = 40

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_WHOLE = re.compile(r"[+-]?[0-9]+")


class NumberError(UnitError):
    """Text that is not a plain, bounded ASCII decimal number."""


def shown(text: str) -> str:
    """`text` quoted for a refusal, cut to `SHOWN` characters."""
    return repr(text) if len(text) <= SHOWN else repr(text[:SHOWN]) + f"... ({len(text)} chars)"


def has_foreign_digit(text: str) -> bool:
    """True if `text` has a decimal digit other than ASCII 0-9 (Arabic-Indic, full-width...)."""
    return any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text)


def digit_count(number: str) -> int:
    """Digits written in a decimal number text, without the whole part's leading zeros."""
    whole, _, fraction = number.lstrip("+-").partition(".")
    return len(whole.lstrip("0")) + len(fraction)


def check_number_text(number: str, what: str) -> None:
    """Refuse number text that is not plain ASCII decimal or has more than MAX_DIGITS digits."""
    if has_foreign_digit(number):
        raise NumberError(f"{what} {shown(number)}: write numbers with the ASCII digits 0-9")
    if not _DECIMAL.fullmatch(number):
        raise NumberError(f"{what} {shown(number)} is not a number written as a plain decimal "
                          "(like 0.5; no exponent, no digit separators)")
    if digit_count(number) > MAX_DIGITS or len(number) > MAX_TEXT:
        raise NumberError(f"{what} {shown(number)} has {digit_count(number)} digits "
                          f"({len(number)} characters); at most {MAX_DIGITS} digits and "
                          f"{MAX_TEXT} characters are accepted")


def parse_decimal(text: str, what: str = "number", *, low: Fraction | int | None = None,
                  high: Fraction | int | None = None) -> Fraction:
    """The exact value of plain ASCII decimal `text`, within [low, high] when they are given."""
    number = text.strip()
    check_number_text(number, what)
    value = Fraction(number)
    if low is not None and value < low:
        raise NumberError(f"{what} {shown(number)} is below the lowest accepted, {low}")
    if high is not None and value > high:
        raise NumberError(f"{what} {shown(number)} is above the highest accepted, {high}")
    return value


def parse_whole(text: str, what: str, low: int, high: int) -> int:
    """A whole number written in ASCII digits ("08", "-3"), within [low, high]."""
    number = text.strip()
    if has_foreign_digit(number):
        raise NumberError(f"{what} {shown(number)}: write numbers with the ASCII digits 0-9")
    if len(number) > MAX_TEXT or not _WHOLE.fullmatch(number) or digit_count(number) > MAX_DIGITS:
        raise NumberError(f"{what} {shown(number)} is not a whole number (ASCII digits, at most "
                          f"{MAX_DIGITS})")
    value = int(number)
    if not low <= value <= high:
        raise NumberError(f"{what} {shown(number)} is outside {low} to {high}")
    return value
