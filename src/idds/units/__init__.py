"""Units are types: exact quantities of mass, volume, time and their ratios.

Parse text with `parse_quantity`; build from numbers with `Quantity.of`; show with `str(q)` or
`q.display()`. See `idds.units.table` for the allow-list.
"""

from idds.units.parse import parse_quantity
from idds.units.quantity import Quantity, exact, format_number, terminates
from idds.units.table import ACCEPTED, Dimension, Kind, Unit, UnitError, parse_unit

__all__ = [
    "ACCEPTED",
    "Dimension",
    "Kind",
    "Quantity",
    "Unit",
    "UnitError",
    "exact",
    "format_number",
    "parse_quantity",
    "parse_unit",
    "terminates",
]
