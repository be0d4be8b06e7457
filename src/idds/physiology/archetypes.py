"""Named patient archetypes: the typical values a cohort is sampled around.

An archetype sets typical values and multipliers on the population parameters of
`idds.physiology.parameters`; inter-individual variability is added by
`idds.physiology.cohort.sample_cohort`. The typical patient of an archetype (all random effects
zero) is `typical_cohort(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from idds.physiology.errors import UnknownArchetypeError


@dataclass(frozen=True)
class Archetype:
    """Typical values of one kind of patient. Multipliers are relative to the population."""

    name: str
    description: str
    age_years: float = 60.0
    weight_kg: float = 70.0
    #: Chronic (long-term) opioid tolerance: C50 multiplier at all opioid sites (1 = naive).
    #: "Cancer patients on chronic opioids are tolerant: scale C50 upward per patient" (ref).
    tolerance_factor: float = 8.0
    #: Oral morphine equivalent the patient takes before the simulation starts, mg/day.
    prior_oral_morphine_mg_per_day: float = 300.0
    #: Lower bound of the prior oral dose (refractory: >= 200 mg/day OME), mg/day.
    min_prior_oral_morphine_mg_per_day: float = 200.0
    #: Background pain on current therapy, NRS (IT candidates 7.4-7.8, ref), and lower bound.
    baseline_nrs: float = 7.6
    min_baseline_nrs: float = 5.0
    progression_multiplier: float = 1.0
    breakthrough_rate_multiplier: float = 1.0
    #: Forces the breakthrough type: None samples it (Davies 2013 shares); else 0-1 share of
    #: incident episodes.
    incident_fraction: float | None = None
    plasma_clearance_multiplier: float = 1.0
    c50_multiplier: float = 1.0
    respiratory_rate_per_min: float = 16.0
    #: Whether the patient takes oral morphine rescue (1/6 of the prior daily dose).
    oral_rescue: bool = True
    #: Pain type (nociceptive, mixed, neuropathic) and distribution (localized, widespread):
    #: None samples them (`ReachParams` shares; the typical patient: nociceptive, localized).
    pain_type: str | None = None
    pain_distribution: str | None = None
    #: Median distance from the catheter tip to the painful segments, cm (IDDS assumption:
    #: the tip is aimed at them; `idds.physiology.reach`).
    tip_distance_cm: float = 2.0
    #: Median survival of a cohort of such patients from day 0, days; None: no disease
    #: hazard. 103 days: median after implant of patients crossed over from CMM (Smith &
    #: Coyne 2005, ref).
    median_survival_days: float | None = 103.0


ARCHETYPES: dict[str, Archetype] = {
    a.name: a
    for a in (
        Archetype(
            name="typical-tolerant",
            description=(
                "refractory cancer pain: NRS >= 5 despite >= 200 mg/day oral morphine "
                "equivalent (median 300), opioid-tolerant; the default cohort"
            ),
        ),
        Archetype(
            name="opioid-naive",
            description="no prior opioid (e.g. single-dose IT morphine, Gehling 2009)",
            tolerance_factor=1.0,
            prior_oral_morphine_mg_per_day=0.0,
            min_prior_oral_morphine_mg_per_day=0.0,
            baseline_nrs=6.0,
            min_baseline_nrs=3.0,
            oral_rescue=False,
            median_survival_days=None,
            # Gehling 2009's patients had surgical (nociceptive, localized) pain
            pain_type="nociceptive",
            pain_distribution="localized",
        ),
        Archetype(
            name="frail-elderly",
            description="80 years, 55 kg, reduced clearance, more sensitive, tolerant",
            age_years=80.0,
            weight_kg=55.0,
            tolerance_factor=4.0,
            prior_oral_morphine_mg_per_day=120.0,
            min_prior_oral_morphine_mg_per_day=60.0,
            baseline_nrs=7.0,
            plasma_clearance_multiplier=0.6,
            c50_multiplier=0.7,
            respiratory_rate_per_min=14.0,
        ),
        Archetype(
            name="fast-progression",
            description="tolerant, disease and pain progressing four times faster",
            progression_multiplier=4.0,
            breakthrough_rate_multiplier=1.5,
        ),
        Archetype(
            name="seed-case",
            description=(
                "47-year-old man, kidney cancer with lung and bone metastases, severe back pain "
                "despite escalating oral opioids, poor sleep and appetite, weight loss"
            ),
            age_years=47.0,
            weight_kg=62.0,
            tolerance_factor=9.0,
            prior_oral_morphine_mg_per_day=360.0,
            baseline_nrs=8.0,
            progression_multiplier=2.0,
            breakthrough_rate_multiplier=1.2,
            incident_fraction=0.8,
            plasma_clearance_multiplier=0.85,
            # back pain from bone metastases: nociceptive, localized (the seed article)
            pain_type="nociceptive",
            pain_distribution="localized",
        ),
    )
}

DEFAULT_ARCHETYPE = "typical-tolerant"


def archetype(name: str) -> Archetype:
    """An archetype by name; UnknownArchetypeError names the known ones."""
    try:
        return ARCHETYPES[name]
    except KeyError:
        known = ", ".join(ARCHETYPES)
        raise UnknownArchetypeError(f"unknown archetype {name!r}; known: {known}") from None
