"""What both ends of the link speak: the pump side (`idds.emulator`) and the programmer side
(`idds.programmer`) import this package and nothing of each other.

- `wire`: the command vocabulary as JSON (therapies with quantities as text and unit).
- `pagedlog`: the pump's event log in pages that fit one link message, verified on arrival.
- `checks`: the drug-library checks of a therapy, the same on both ends.

It sits above `idds.pump`, `idds.drugs` and `idds.link` and below the programmer and emulator.
"""

from idds.protocol.wire import WireError, parse_flex, therapy_from_json, therapy_to_json

__all__ = ["WireError", "parse_flex", "therapy_from_json", "therapy_to_json"]
