"""Route conversion of an opioid's daily dose, with a suggested conservative start.

Two answers, both from the drug library's data (so a hospital's library changes them):
- the equianalgesic dose on the classic ladder oral:IV:epidural:IT = 300:100:10:1 (Krames,
  docs/references.md (pharmacology)), through each drug's `oral_morphine_mg_per_mg` factors;
- a suggested starting dose. Into the intrathecal space from a systemic route, practice starts
  near 100:1 (75-150) from the total daily oral morphine equivalent, 300:1 when switching for
  side effects at low systemic doses (MASCC guidance), and lower for frail or opioid-sensitive
  patients (the library's `frail_reduction_percent`). Other directions have no practice rule in
  the reference: the ladder dose is shown, reduced for frail patients, with that said.
The suggestion is then checked against the library's limits; a breach is reported, never
clamped away.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from idds.drugs import Breach, DrugEntry, DrugLibrary, LibraryError, Proposal, Route, check_therapy
from idds.errors import IddsError
from idds.units import Kind, Quantity, format_number

SYSTEMIC = (Route.ORAL, Route.IV)


class ConversionError(IddsError):
    """The conversion asked for cannot be made (same route, no factors for the drug, ...)."""


@dataclass(frozen=True)
class ConversionResult:
    drug: str
    dose: Quantity
    from_route: Route
    to_route: Route
    oral_morphine_equivalent: Quantity
    equianalgesic: Quantity
    #: None where the library has no practice rule for the direction (only the
    #: equianalgesic dose is shown, for reference).
    suggested_start: Quantity | None
    ratio_used: Fraction | None
    reasons: tuple[str, ...]
    start_range: str
    breaches: tuple[Breach, ...]
    #: The suggested start is below the drug's usual starting range (allowed, but said).
    below_start_range: bool = False


def _factors(drug: DrugEntry, key: str) -> dict[Route, Fraction]:
    if drug.oral_morphine_mg_per_mg is None:
        raise ConversionError(
            f"the library has no route conversion factors for {key}; conversion is "
            "available for: morphine, hydromorphone (drugs with oral_morphine_mg_per_mg)"
        )
    return drug.oral_morphine_mg_per_mg


def _ratio_text(value: Fraction) -> str:
    return format_number(value, 4)


def _pair(value: Fraction) -> str:
    """A dose ratio as "300:1" or "1:300"."""
    return f"{_ratio_text(value)}:1" if value >= 1 else f"1:{_ratio_text(1 / value)}"


def convert(
    library: DrugLibrary,
    drug_key: str,
    dose: Quantity,
    from_route: Route,
    to_route: Route,
    frail: bool = False,
    side_effect_switch: bool = False,
) -> ConversionResult:
    """Convert a daily dose of `drug_key` from one route to another (pure; no I/O)."""
    dose.require(Kind.DOSE_RATE, "dose")
    if not dose.is_positive():
        raise ConversionError(f"dose must be above zero, not {dose}")
    if from_route is to_route:
        raise ConversionError(f"from and to are both {from_route}: nothing to convert")
    key = drug_key.strip().lower()
    drug = library.drug(key)
    factors = _factors(drug, key)
    policy = library.conversion
    unit = drug.dose_unit
    ome = (dose * factors[from_route]).to("mg/day")
    equianalgesic = (dose * factors[from_route] / factors[to_route]).to(unit)
    ladder = factors[to_route] / factors[from_route]
    reasons = [
        f"Total daily dose {dose.display(unit)} {from_route} {key} = "
        f"{ome.display('mg/day')} oral morphine equivalent "
        f"({drug.conversion_source or 'library factors'}).",
        f"Classic equianalgesic ladder oral:IV:epidural:IT = 300:100:10:1 gives "
        f"{equianalgesic.display(unit)} {to_route} ({from_route}:{to_route} = {_pair(ladder)}).",
    ]
    ratio_used: Fraction | None = None
    morphine_it = _morphine_it_factor(library)
    if to_route is Route.INTRATHECAL and from_route in SYSTEMIC:
        if side_effect_switch:
            ratio_used = policy.side_effect_switch_ratio
            reasons.append(
                f"Switching for side effects at a low systemic dose: start at "
                f"{_ratio_text(ratio_used)}:1 ({policy.side_effect_switch_source})."
            )
        else:
            ratio_used = policy.start_ratio_oral_to_intrathecal
            reasons.append(
                f"Practice starts near {_ratio_text(ratio_used)}:1 (range "
                f"{_ratio_text(policy.start_ratio_range_low)}-"
                f"{_ratio_text(policy.start_ratio_range_high)}) from the total daily oral "
                f"morphine equivalent ({policy.start_ratio_source})."
            )
        suggested = (ome / ratio_used * (morphine_it / factors[Route.INTRATHECAL])).to(unit)
        if key != "morphine":
            reasons.append(
                f"Intrathecal morphine {(ome / ratio_used).display('mg/day')} converted to "
                f"{key} by the library's factors (morphine:{key} intrathecal = "
                f"{_ratio_text(factors[Route.INTRATHECAL] / morphine_it)}:1)."
            )
    else:
        suggested = None
        reasons.append(
            f"The library has no practice start rule for {from_route} to {to_route}: no start "
            "is suggested. The equianalgesic dose is for reference only; cross-tolerance is "
            "incomplete, so start well below it and titrate to effect."
        )
    if frail and suggested is not None:
        keep = Fraction(100 - policy.frail_reduction_percent, 100)
        suggested = (suggested * keep).to(unit)
        reasons.append(
            f"Frail or opioid-sensitive: reduced by {policy.frail_reduction_percent}% "
            f"({policy.frail_reduction_source})."
        )
    if ratio_used is not None and ratio_used != morphine_it:
        direction = "more" if ratio_used < morphine_it else "less"
        reasons.append(
            f"Note: {_ratio_text(ratio_used)}:1 gives {direction} intrathecal drug than the "
            f"classic {_ratio_text(morphine_it)}:1; the reference counts it as the usual start "
            "in cancer pain, with systemic opioids tapered, not stopped abruptly (withdrawal)."
        )
    breaches: tuple[Breach, ...] = ()
    start = drug.start_range(tolerant=from_route in SYSTEMIC)
    below = False
    if to_route is Route.INTRATHECAL and suggested is not None:
        reasons.append(policy.monitoring + ".")
        proposal = Proposal(daily_dose=suggested, opioid_tolerant=from_route in SYSTEMIC)
        breaches = check_therapy(drug, proposal).breaches
        for breach in breaches:
            reasons.append(f"Library {breach.kind} limit: {breach.message} ({breach.source}).")
        below = suggested < start.low
        if below:
            reasons.append(
                f"The suggested start {suggested.display(unit)} is below the usual starting "
                f"range {start.low.display(unit)} to {start.high.display(unit)} "
                f"({start.source}): allowed, but check the dose entered.")
    elif to_route is not Route.INTRATHECAL:
        reasons.append(
            f"The drug library's limits are for intrathecal use; none apply to {to_route}."
        )
    return ConversionResult(
        drug=key,
        dose=dose.to(unit),
        from_route=from_route,
        to_route=to_route,
        oral_morphine_equivalent=ome,
        equianalgesic=equianalgesic,
        suggested_start=suggested,
        ratio_used=ratio_used,
        reasons=tuple(reasons),
        start_range=f"{start.low.display(unit)} to {start.high.display(unit)} ({start.source})",
        breaches=breaches,
        below_start_range=below,
    )


def _morphine_it_factor(library: DrugLibrary) -> Fraction:
    try:
        factors = library.drug("morphine").oral_morphine_mg_per_mg
    except LibraryError as exc:
        raise ConversionError("conversion needs morphine in the library as the reference") from exc
    if factors is None:
        raise ConversionError("the library's morphine entry has no route factors")
    return factors[Route.INTRATHECAL]
