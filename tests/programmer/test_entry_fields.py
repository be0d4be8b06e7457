"""The programming form's fields and the therapy they describe, both ways."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from idds.programmer.entry import TherapyFields, fields_of, therapy_of
from idds.protocol.wire import parse_flex
from idds.pump import Continuous, DemandBolus, Therapy
from idds.units import parse_quantity


@given(st.sampled_from(["0.5 mg/day", "12 mg/day", "250 mcg/day"]),
       st.sampled_from([None, ("0.05 mg", "10 min", "2 h", 4), ("25 mcg", "5 min", "1 h", 6)]),
       st.booleans())
def test_entry_fields_read_back_to_the_same_therapy(dose: str, bolus: tuple[str, str, str, int]
                                                    | None, flex: bool) -> None:
    """`fields_of` (what a recommendation fills the programming form with) and `therapy_of`
    (what the form reads) are inverses."""
    basal = parse_flex(f"00:00={dose},08:00=1 mg/day") if flex else Continuous(
        parse_quantity(dose))
    demand = None if bolus is None else DemandBolus(
        parse_quantity(bolus[0]), parse_quantity(bolus[1]), parse_quantity(bolus[2]), bolus[3])
    therapy = Therapy(basal, demand)
    fields = fields_of(therapy)
    count = fields.pop("max_boluses", None)
    assert therapy_of(TherapyFields(**fields, max_boluses=None if count is None else
                                    int(count))) == therapy
