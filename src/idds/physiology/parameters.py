"""Every population parameter of the virtual patient, in one place, with its source.

Typical values are for a 70 kg adult. "ref" means docs/references.md
(the project's calibration sheet); "assumption" means the reference gives no figure and the
value is a modelling choice, kept simple and documented in docs/physiology.md; "calibrated"
means the value was tuned so that a test target from the reference is met (the test names it).

Units are in the names: `_per_min` rate constants, `_l` litres, `_ml` millilitres,
`_ng_per_ml` concentrations, `_mg` amounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from idds.physiology.errors import UnknownDrugError


def per_min_from_half_life(half_life_min: float) -> float:
    """First-order rate constant (1/min) from a half-life in minutes."""
    return math.log(2.0) / half_life_min


@dataclass(frozen=True)
class DrugPK:
    """Typical pharmacokinetics of one drug in the seven-compartment structure.

    Compartments: gut depot, plasma, brain effect site, lumbar CSF, spinal effect site,
    rostral (cisternal / intracranial) CSF, brainstem effect site. See `idds.physiology.pk`.
    """

    name: str
    #: Fraction of an oral dose reaching plasma; 0 means no oral route.
    oral_bioavailability: float
    #: Gut absorption rate constant, 1/min.
    ka_per_min: float
    #: Plasma volume of distribution per kg body weight, L/kg.
    v_plasma_l_per_kg: float
    #: Plasma clearance per kg body weight, L/min/kg.
    cl_plasma_l_per_min_per_kg: float
    #: Plasma to brain effect-site equilibration, 1/min.
    ke0_brain_per_min: float
    #: Volume of the lumbar CSF pool the catheter delivers into, mL.
    v_csf_lumbar_ml: float
    #: Total first-order loss from lumbar CSF (to plasma and rostrally), 1/min.
    k_csf_out_per_min: float
    #: Fraction of the loss from lumbar CSF that goes rostrally (toward the brainstem).
    rostral_fraction: float
    #: Volume of the rostral (cisternal and intracranial) CSF pool, mL.
    v_csf_rostral_ml: float
    #: Loss from rostral CSF to plasma, 1/min.
    k_rostral_out_per_min: float
    #: Lumbar CSF to spinal (dorsal horn) effect-site equilibration, 1/min.
    ke0_spinal_per_min: float
    #: Rostral CSF to brainstem effect-site equilibration, 1/min.
    ke0_brainstem_per_min: float
    #: Potency of plasma / brain exposure relative to morphine (morphine = 1; 0 = none).
    systemic_potency_vs_morphine: float
    #: Potency at the spinal site relative to IT morphine (morphine = 1; 0 = not an opioid).
    spinal_potency_vs_morphine: float
    #: True for mu-opioids (tolerance, withdrawal, respiratory depression apply).
    opioid: bool = True


#: Morphine. Systemic: Stanski 1978 (V 3.2 L/kg, CL 14.7 mL/min/kg -> t1/2 2.5 h, ref);
#: oral F 0.24 (Hoskin 1989, ref); ke0 t1/2 4.4 h (Dahan 2004, ref).
#: Lumbar CSF: t1/2 185 min (Nordberg 1984: 175-196 min, ref); V 40 mL calibrated so that
#: CSF is about 10,000 ng/mL 1 h after 0.5 mg (ref), within lumbosacral CSF 28-81 mL (Hogan
#: 1996, ref). Rostral pool 100 mL (150 mL total minus the lumbosacral 50 mL, ref).
#: ka (t1/2 23 min, tmax of immediate-release tablets about 1 h), rostral fraction, rostral
#: clearance, brainstem ke0: assumption; rostral fraction calibrated with
#: `PDParams.brainstem_potency` to Gehling 2009 (ref). Spinal ke0 t1/2 120 min: hydrophilic
#: morphine enters and leaves the dorsal horn slowly; calibrated so that one 0.5 mg IT dose in
#: an opioid-naive patient relieves pain for 12-24 h (label and clinical experience, ref),
#: which the CSF half-life of about 3 h alone cannot give (at 30 min: about 10 h).
MORPHINE = DrugPK(
    name="morphine",
    oral_bioavailability=0.24,
    ka_per_min=per_min_from_half_life(23.0),
    v_plasma_l_per_kg=3.2,
    cl_plasma_l_per_min_per_kg=14.7e-3,
    ke0_brain_per_min=per_min_from_half_life(4.4 * 60.0),
    v_csf_lumbar_ml=40.0,
    k_csf_out_per_min=per_min_from_half_life(185.0),
    rostral_fraction=0.15,
    v_csf_rostral_ml=100.0,
    k_rostral_out_per_min=per_min_from_half_life(180.0),
    ke0_spinal_per_min=per_min_from_half_life(120.0),
    ke0_brainstem_per_min=per_min_from_half_life(60.0),
    systemic_potency_vs_morphine=1.0,
    spinal_potency_vs_morphine=1.0,
)

#: Hydromorphone. The reference gives only lipophilicity (2 vs 1.4 for morphine) and the
#: IT morphine : IT hydromorphone ratio 5-6 : 1 (weak source): spinal potency 5.5. Systemic
#: potency 5 x morphine, V 4 L/kg, CL 20 mL/min/kg (t1/2 2.3 h), oral F 0.24, faster
#: brain equilibration (t1/2 ke0 1.5 h), faster CSF clearance (t1/2 150 min) and less rostral
#: spread (more lipophilic): assumption (commonly cited values, not checked here).
HYDROMORPHONE = DrugPK(
    name="hydromorphone",
    oral_bioavailability=0.24,
    ka_per_min=per_min_from_half_life(23.0),
    v_plasma_l_per_kg=4.0,
    cl_plasma_l_per_min_per_kg=20.0e-3,
    ke0_brain_per_min=per_min_from_half_life(90.0),
    v_csf_lumbar_ml=40.0,
    k_csf_out_per_min=per_min_from_half_life(150.0),
    rostral_fraction=0.10,
    v_csf_rostral_ml=100.0,
    k_rostral_out_per_min=per_min_from_half_life(150.0),
    ke0_spinal_per_min=per_min_from_half_life(20.0),
    ke0_brainstem_per_min=per_min_from_half_life(45.0),
    systemic_potency_vs_morphine=5.0,
    spinal_potency_vs_morphine=5.5,
)

#: Ziconotide (N-type calcium channel blocker, not an opioid). CSF clearance 0.38 mL/min,
#: volume 155 mL, t1/2 4.6 h (Prialt label, ref): the whole CSF is one pool here. No oral
#: route (peptide). Plasma V 0.43 L/kg, CL 3.8 mL/min/kg (t1/2 about 1.3 h): assumption. No
#: supraspinal analgesia from plasma (does not cross the blood-brain barrier).
ZICONOTIDE = DrugPK(
    name="ziconotide",
    oral_bioavailability=0.0,
    ka_per_min=per_min_from_half_life(23.0),
    v_plasma_l_per_kg=0.43,
    cl_plasma_l_per_min_per_kg=3.8e-3,
    ke0_brain_per_min=per_min_from_half_life(60.0),
    v_csf_lumbar_ml=155.0,
    k_csf_out_per_min=0.38 / 155.0,
    rostral_fraction=0.15,
    v_csf_rostral_ml=100.0,
    k_rostral_out_per_min=per_min_from_half_life(180.0),
    ke0_spinal_per_min=per_min_from_half_life(60.0),
    ke0_brainstem_per_min=per_min_from_half_life(60.0),
    systemic_potency_vs_morphine=0.0,
    spinal_potency_vs_morphine=0.0,
    opioid=False,
)

DRUGS: dict[str, DrugPK] = {d.name: d for d in (MORPHINE, HYDROMORPHONE, ZICONOTIDE)}


def drug_pk(name: str) -> DrugPK:
    """The PK parameters of a drug by name; UnknownDrugError names the known drugs."""
    try:
        return DRUGS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(DRUGS))
        raise UnknownDrugError(f"unknown drug {name!r}; known: {known}") from None


@dataclass(frozen=True)
class PDParams:
    """Typical pharmacodynamics in opioid-naive patients, morphine-equivalent concentrations.

    Supraspinal exposure is the brain effect-site concentration (plasma-based, ng/mL) plus
    `brainstem_potency` x the brainstem CSF effect-site concentration (ng/mL CSF). Spinal
    exposure is the spinal effect-site concentration (ng/mL lumbar CSF).
    """

    #: Morphine C50 for analgesia and breathing, shared, ng/mL (Dahan 2004, ref: 32 nM).
    c50_supraspinal_ng_per_ml: float = 9.1
    #: Hill coefficient, analgesia (Dahan 2004, ref).
    hill_analgesia: float = 2.4
    #: Hill coefficient, breathing (Dahan 2004, ref). Respiratory rate = RR0 * C50/(C50 + C).
    hill_breathing: float = 1.0
    #: Spinal C50 of IT morphine, ng/mL lumbar CSF. Calibrated: oral:IT equianalgesic ratio
    #: 100-300 : 1 for a typical tolerant patient (ref, Krames; MASCC).
    c50_spinal_ng_per_ml: float = 1300.0
    #: Plasma-equivalent potency of brainstem CSF morphine, (ng/mL plasma) per (ng/mL CSF).
    #: Calibrated: Gehling 2009 respiratory depression 7/80 at >= 0.3 mg vs 2/247 below (ref).
    brainstem_potency: float = 0.019
    #: Largest fraction of pain intensity analgesia can remove. Assumption.
    max_relief: float = 0.9
    #: Tolerance compartment half-life, min (Ekblom 1993, rat, 26 h, ref).
    tolerance_half_life_min: float = 26.0 * 60.0
    #: Largest relative C50 shift from the dynamic tolerance state (1 = C50 doubles). Assumption.
    tolerance_max_shift: float = 1.0
    #: Respiratory tolerance factor (the Hill-1 part of breathing) = analgesic tolerance
    #: factor ** this. Assumption: tolerance to respiratory depression develops further than to
    #: analgesia. Calibrated (`idds validate`: stable_regimen_breathing and
    #: stable_regimen_lowest_rate) so that
    #: opioid-tolerant patients on their stable prior regimen rarely breathe below 8/min
    #: (< 1 event per 100 patient-days; 1.5 gave 15, which no stable-regimen cohort shows).
    #: No figure in the reference: an assumption of this model.
    respiratory_tolerance_exponent: float = 2.5
    #: Sedation (somnolence, the per-step POSS): C50 as a multiple of the supraspinal analgesic
    #: C50, Hill, and partial tolerance: sedative C50 x TF ** this (the analgesic exponent is
    #: 1, the respiratory one 2.5). Assumption (no human concentration-sedation curve in the
    #: reference; "partial" tolerance to somnolence, ref); calibrated with the somnolence
    #: susceptibility of `SymptomParams` to the point prevalence of sedation or constipation
    #: on opioids in palliative patients, 88% (Glare 2006, ref).
    sedation_c50_multiple: float = 1.5
    hill_sedation: float = 2.0
    sedation_tolerance_exponent: float = 1.3
    #: Hypercapnic respiratory failure at large overdoses: breathing is further multiplied by
    #: 1 - Hill(C_su, C_apnoea, 4), C_apnoea = the larger of `apnoea_naive_multiple` x the
    #: patient's naive breathing C50 and `apnoea_adapted_multiple` x the exposure the patient
    #: is adapted to (C50 x TF x tau / (1 - tau), tau the dynamic tolerance state: at a stable
    #: regimen, the exposure itself). Assumption: Dahan's Hill-1 curve (volunteers, low
    #: concentrations) alone leaves a tolerant patient breathing 12/min after 50 mg IT, where
    #: refill-size amounts in the CSF are life-threatening, tolerant or not (ISMP 2004, ref);
    #: tolerance protects against a few times the exposure a patient is used to, not against
    #: ten times it. Calibrated: 50 mg IT gives a rate below 4/min in the typical tolerant
    #: patient; Gehling 2009 and the rare events on a stable regimen still hold (tests).
    apnoea_naive_multiple: float = 3.0
    apnoea_adapted_multiple: float = 5.0
    hill_apnoea: float = 4.0
    #: Ziconotide spinal C50, ng/mL CSF, and Hill. Assumption (label steady state at
    #: 2.4-19.2 mcg/day is about 4-35 ng/mL CSF; trials show modest relief).
    ziconotide_c50_ng_per_ml: float = 30.0
    hill_ziconotide: float = 1.5
    #: Ziconotide CNS effects (dizziness, confusion) scored as sedation, brainstem C50 ng/mL.
    ziconotide_cns_c50_ng_per_ml: float = 20.0
    #: Respiratory rate that defines a respiratory depression event, breaths/min. Assumption
    #: (a common ward threshold; Gehling 2009 used clinical criteria).
    respiratory_event_threshold_per_min: float = 8.0
    #: Withdrawal score: 10 when supraspinal occupancy is this far below the adapted level.
    withdrawal_full_scale_occupancy: float = 0.5


PD = PDParams()


@dataclass(frozen=True)
class PainParams:
    """Pain process (cancer pain, ref "Cancer pain" table)."""

    #: Background pain of IT candidates on their current therapy, NRS (trial baselines
    #: 7.4-7.8, ref): median and SD of a normal, clipped to [5, 9.8].
    baseline_nrs: float = 7.6
    baseline_nrs_sd: float = 0.6
    #: Disease progression of the background pain drive, NRS per 30 days (van der Velden 2018,
    #: ref: rises over months). Median of a log-normal; the value is an assumption.
    progression_nrs_per_30_days: float = 0.3
    #: Breakthrough onset rate per day, median of a per-patient log-normal. Calibrated so that
    #: the realised cohort median is about 4/day, between Davies 2013 (3/day) and Portenoy 1999
    #: (6/day, range 1-60) (ref); realised < rate because no onset starts during an episode.
    breakthrough_per_day: float = 5.5
    #: Patient types (Davies 2013, ref): incident 44%, spontaneous 41.5%, both 14.5%.
    p_incident: float = 0.44
    p_spontaneous: float = 0.415
    #: Time to peak, min: incident about 5, overall 3-10 (Portenoy 1999; Davies 2013, ref).
    time_to_peak_incident_min: float = 5.0
    time_to_peak_spontaneous_min: float = 7.0
    #: Untreated duration, min: 45-60 (Davies 2013, ref). Median of a log-normal.
    duration_min: float = 52.0
    #: Peak added pain drive of an episode, NRS points. Assumption (episodes are severe).
    breakthrough_amplitude_nrs: float = 2.5
    #: Preferred activity times (min after midnight) of incident pain, and the half-width of
    #: the biweight kernel around each (SD = half-width / sqrt(7), 23 min). Assumption.
    activity_times_min: tuple[float, float, float] = (8.0 * 60.0, 13.0 * 60.0, 19.0 * 60.0)
    activity_half_width_min: float = 60.0
    #: Radiotherapy: fraction responding and median time to response (van der Velden 2018, ref).
    radiotherapy_response_fraction: float = 0.6
    radiotherapy_response_median_days: float = 28.0
    #: Fraction of the background drive removed in a responder. Assumption.
    radiotherapy_relief_fraction: float = 0.5
    #: Fraction of the background drive an optimised co-analgesic (an adjuvant analgesic such
    #: as a gabapentinoid, an NSAID or a corticosteroid, added by a pain specialist) removes.
    #: Assumption: the reference names co-analgesics as part of CMM without an effect size.
    coanalgesic_relief_fraction: float = 0.15


PAIN = PainParams()


@dataclass(frozen=True)
class ReachParams:
    """How much of a patient's pain drive intrathecal (spinal) opioid analgesia can act on
    (`idds.physiology.reach`; docs/screening.md). The share = the opioid-responsive share of
    the pain type x the coverage of the painful dermatomes by drug near the catheter tip.
    The rest of the drive is relieved by the systemic (supraspinal) opioid action, ziconotide
    and co-analgesics as before, not by spinal opioid. Only the catheter-spread facts are
    sourced (Bernards 2006, pig, ref); every other number is an IDDS assumption, chosen from
    mechanism and never tuned to a trial's outcome.
    """

    #: Share of the drive spinal opioid can relieve, by pain type (nociceptive, mixed,
    #: neuropathic). IDDS assumption: spinal mu-opioid analgesia acts mainly on the central
    #: terminals of intact nociceptors in the dorsal horn, so a purely nociceptive drive is
    #: fully responsive (1: the calibrated single-dose and titration targets, all in
    #: nociceptive pain, keep their values) and a neuropathic one largely not (0.3: injured,
    #: lost or sensitised afferents); mixed pain half-way between, rounded up (0.6).
    responsive_share: tuple[float, float, float] = (1.0, 0.6, 0.3)
    #: Share of cancer pain of each type in the sampled cohorts (nociceptive, mixed,
    #: neuropathic). IDDS assumption: the reference gives no shares; most cancer pain is taken
    #: to be nociceptive, a neuropathic component in 4 patients of 10, purely neuropathic in 1.
    p_pain_type: tuple[float, float, float] = (0.6, 0.3, 0.1)
    #: Share of patients whose pain is widespread (several distant regions, diffuse bone
    #: disease) rather than localized to a few adjacent dermatomes. IDDS assumption.
    p_widespread: float = 0.25
    #: Share of a widespread pain that lies in the segments one catheter tip reaches.
    #: IDDS assumption: about half the painful area.
    widespread_coverage: float = 0.5
    #: Distance (cm) from the catheter tip to the spinal segments of the painful dermatomes
    #: within which drug reaches them fully: "drug infused slowly stays within a few cm of the
    #: catheter tip" (Bernards 2006, pig, ref); "a few" taken as 3 cm (IDDS assumption).
    full_reach_cm: float = 3.0
    #: Beyond full_reach_cm the covered share halves every this many cm. IDDS assumption:
    #: rostral spread is slow (hours, Bernards 2006, ref), so segments farther away see little
    #: drug; the same length as the fully reached zone.
    coverage_half_distance_cm: float = 3.0
    #: SD of the log tip-to-dermatome distance between patients (median: the archetype's
    #: `tip_distance_cm`). IDDS assumption: the tip is aimed at the painful segments, with
    #: placement error and anatomy (about 3 in 10 patients beyond full reach at a 2 cm median).
    tip_distance_omega: float = 0.8


REACH = ReachParams()


@dataclass(frozen=True)
class BehaviourParams:
    """Patient behaviour. All assumptions (no figures in the reference)."""

    #: Pain diary times, min after midnight, and reporting noise SD (NRS points).
    diary_times_min: tuple[float, float, float] = (8.0 * 60.0, 14.0 * 60.0, 20.0 * 60.0)
    diary_noise_sd_nrs: float = 0.8
    #: Personal threshold for wanting a bolus / rescue (NRS): normal, clipped to [3, 9].
    press_threshold_nrs: float = 6.0
    press_threshold_sd_nrs: float = 1.0
    #: A patient presses again no sooner than this after the last press, min.
    press_interval_min: float = 30.0
    #: Oral rescue: fraction of the daily oral dose (1/6 is common practice) and interval.
    rescue_fraction_of_daily: float = 1.0 / 6.0
    rescue_interval_min: float = 60.0


BEHAVIOUR = BehaviourParams()


@dataclass(frozen=True)
class SymptomParams:
    """Symptoms of long-term therapy and of the cancer, graded as trials grade them.

    Each symptom has an intensity on the 0-10 scale of the MD Anderson Symptom Inventory
    (MDASI, Cleeland 2000, ref), driven by the exposure that causes it, with its own tolerance
    (ref: none for constipation; days for nausea and vomiting; spinal effects that resolve on
    a steady dose; partial for somnolence). Tolerance that develops over days is an
    adaptation level A that follows the exposure C (first order); the symptom is driven by
    max(C - f A, 0), f the adapted fraction (f = 1: it resolves at a steady dose and returns
    after an increase). Unless a line says otherwise each value is an assumption: the
    reference gives prevalences and tolerance times, not concentration-effect curves.
    """

    # -- grading (NCI CTCAE wording summarised in the reference) --------------------------
    #: Intensity (0-10) at which a symptom is grade 1 (mild), 2 (moderate: limits
    #: instrumental activities, regular treatment) and 3 (severe: limits self-care). The
    #: mild / moderate / severe cut-points 1-4 / 5-6 / 7-10 are the ones commonly used for
    #: 0-10 symptom ratings (Serlin 1995, for pain); assumption for the other symptoms.
    grade1_from: float = 1.0
    grade2_from: float = 5.0
    grade3_from: float = 7.0
    #: Grade 4 (life-threatening) for the symptoms whose CTCAE scale has one (constipation,
    #: somnolence / depressed level of consciousness). Assumption.
    grade4_from: float = 9.5
    #: Respiratory depression counts only below these rates (lowest of the day), breaths/min:
    #: grade 1 below 10, 2 below 8 (the event threshold), 3 below 6 (naloxone in practice),
    #: 4 below 4 (life-threatening). Assumption ("graded by rate and intervention", ref).
    respiratory_grade_below_per_min: tuple[float, float, float, float] = (10.0, 8.0, 6.0, 4.0)
    #: Vomiting graded by episodes a day as CTCAE (ref): 1-2 grade 1, 3-5 grade 2, >= 6 grade 3.
    vomiting_grade_from_episodes: tuple[float, float, float] = (1.0, 3.0, 6.0)

    # -- constipation: plasma and gut, no tolerance (Sykes 1998, ref) ----------------------
    #: C50 of the plasma morphine-equivalent exposure, ng/mL, Hill 1. Low, so that the effect
    #: is near its maximum over the whole oral range (plasma 20-100 ng/mL at 120-600 mg/day):
    #: constipation has weak or no relation to the oral dose (Roeland 2020, r 0.01-0.27, ref).
    constipation_c50_ng_per_ml: float = 5.0
    #: Local enteric exposure of swallowed drug still in the gut, plasma-equivalent ng/mL per
    #: mg in the gut depot. Assumption (about a seventh of the plasma term on oral dosing).
    constipation_gut_ng_per_ml_per_mg: float = 1.0
    #: Per-patient susceptibility: maximal intensity, log-normal median and omega.
    #: Calibrated: 72% of cancer patients on oral morphine are constipated (grade >= 1) under
    #: usual laxatives (Droney 2008, ref).
    constipation_max_median: float = 2.65
    constipation_max_omega: float = 0.9
    #: Share of the intensity that laxatives remove: usual prophylaxis for every patient on
    #: opioids, and intensified treatment (a second agent) once constipation reaches grade 2.
    laxative_relief: float = 0.3
    laxative_intensified_relief: float = 0.5

    # -- nausea and vomiting: supraspinal (area postrema), tolerance in days ----------------
    #: C50 as a multiple of the patient's analgesic supraspinal C50 (x chronic tolerance), and
    #: Hill. The susceptibility below is calibrated: nausea in about 25% of patients starting
    #: oral opioids (Swegle 2006, ref), here opioid-naive patients starting 60 mg/day oral
    #: morphine, nausea on any of the first 3 days.
    nausea_c50_multiple: float = 1.0
    hill_nausea: float = 1.5
    #: Adaptation: half-life 1.5 days, complete (f = 1): nausea resolves within 3-7 days at a
    #: constant dose and returns after increases (Fast Fact #25, ref).
    nausea_adaptation_half_life_days: float = 1.5
    nausea_adapted_fraction: float = 1.0
    nausea_max_median: float = 1.2
    nausea_max_omega: float = 1.0
    #: Antiemetic (given once nausea reaches grade 2): share of the intensity removed.
    antiemetic_relief: float = 0.5
    #: Vomiting episodes a day per intensity point of nausea above this level.
    vomiting_from_nausea: float = 4.0
    vomiting_episodes_per_point: float = 1.0

    # -- somnolence and confusion: supraspinal, partial tolerance ---------------------------
    #: Somnolence intensity = 10 x the odds form of the day's mean sedation s (`PDParams`: Hill
    #: of the supraspinal exposure, partial chronic tolerance, 26 h dynamic tolerance, so it is
    #: worst after dose increases, Glare 2006, ref), odds s / (1 - s) times a log-normal
    #: susceptibility (a C50 shift: deep sedation is 10 in everyone). Calibrated: somnolence
    #: or constipation in 88% of palliative patients on opioids (Glare 2006, ref), on the
    #: refractory cohort's stable prior regimen.
    somnolence_median: float = 3.0
    somnolence_omega: float = 0.5
    #: Psychostimulant (given once somnolence reaches grade 2): share removed.
    psychostimulant_relief: float = 0.3
    #: Confusion ("difficulty remembering"): the somnolence exposure with this multiple of its
    #: C50 (confusion is rarer than drowsiness), Hill 2, and its own susceptibility.
    confusion_c50_multiple: float = 2.0
    confusion_median: float = 1.0
    confusion_omega: float = 0.5

    # -- pruritus and urinary retention: spinal exposure, resolve on a steady dose ----------
    #: C50 of the spinal exposure, ng/mL lumbar CSF, x chronic tolerance factor ** exponent
    #: (cross-tolerance from systemic opioids), Hill. "Pruritus rises with dose" (ref).
    pruritus_c50_ng_per_ml: float = 2500.0
    urinary_retention_c50_ng_per_ml: float = 3500.0
    hill_spinal: float = 1.5
    spinal_tolerance_exponent: float = 1.0
    #: Adaptation of spinal effects: half-life 4 days, 90% adapted ("typically resolve with
    #: time", PACC 2017, ref; one retention resolved within days of a dose cut).
    spinal_adaptation_half_life_days: float = 4.0
    spinal_adapted_fraction: float = 0.9
    #: Susceptibilities (maximal intensity, log-normal). Urinary retention calibrated: mild
    #: retention in about 42% and severe in about 2.6% of patients on an IT pump (case-series
    #: review 2021, ref), here as the share ever at grade >= 1 / >= 2 in the first 4 weeks
    #: of a fixed starting dose (100:1) in the tolerant cohort.
    pruritus_max_median: float = 4.0
    pruritus_max_omega: float = 0.8
    urinary_max_median: float = 3.5
    urinary_max_omega: float = 0.8

    # -- the cancer's own burden, and how opioid effects add to it --------------------------
    #: Fatigue, lack of appetite and disturbed sleep of advanced cancer without opioid
    #: effects or pain: normal (mean, SD) on the 0-10 scale, clipped to [0, 8]. Assumption.
    fatigue_cancer: tuple[float, float] = (3.5, 1.5)
    anorexia_cancer: tuple[float, float] = (3.0, 1.5)
    sleep_cancer: tuple[float, float] = (2.0, 1.5)
    #: Fatigue adds these shares of somnolence and of disturbed sleep.
    fatigue_from_somnolence: float = 0.5
    fatigue_from_sleep: float = 0.2
    #: Lack of appetite adds these shares of nausea and constipation.
    anorexia_from_nausea: float = 0.3
    anorexia_from_constipation: float = 0.2
    #: Disturbed sleep adds this much on a night woken by pain. A night (22:00-06:00) is
    #: woken when pain reaches the patient's own bolus threshold (the pain that would make
    #: them reach for the remote).
    sleep_from_woken_night: float = 5.0
    night_start_min: float = 22.0 * 60.0
    night_end_min: float = 6.0 * 60.0

    # -- eating and weight -------------------------------------------------------------------
    #: Share of usual intake lost per intensity point of lack of appetite and of nausea.
    intake_loss_per_anorexia: float = 0.06
    intake_loss_per_nausea: float = 0.03
    #: Weight change a day: cancer cachexia plus the shortfall of intake, fraction of weight.
    cachexia_per_day: float = 0.0002
    weight_loss_per_day_at_no_intake: float = 0.003

    # -- interference items of the inventory (weights of the core items) -------------------
    #: General activity = weighted mean of pain, fatigue, drowsiness; mood = of pain, fatigue,
    #: disturbed sleep, nausea. Assumption (MDASI interference follows symptom severity).
    activity_weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    mood_weights: tuple[float, float, float, float] = (0.4, 0.2, 0.2, 0.2)

    # -- dependence proxy, detection -------------------------------------------------------
    #: A day with a withdrawal score at or above this (0-10) is a withdrawal episode.
    withdrawal_episode_from: float = 3.0
    #: Plasma opioid below this is undetectable, ng/mL (Brogan 2020 reports < 2 ng/mL, ref).
    detectable_plasma_ng_per_ml: float = 2.0


SYMPTOMS = SymptomParams()


@dataclass(frozen=True)
class SurvivalParams:
    """Survival of late-stage cancer patients referred for IT therapy.

    Each patient has a constant disease hazard (exponential survival) with log-normal
    inter-individual variability; the typical hazard is solved (`idds.physiology.survival`)
    so that the cohort's median survival from day 0 is the archetype's: 103 days for the
    refractory cohort, the median after implant of patients crossed over from CMM (Smith &
    Coyne 2005, ref). Check: about 87% of such a cohort then dies within a year, as in the
    registry where 87% were followed until death (Stearns 2020, ref).

    Pain and symptom burden do not change the hazard (hazard ratio 1.0): whether better pain
    control lengthens life is debated (ref), and the model makes no such claim. With common
    random numbers every patient dies on the same day in every arm; deaths caused by the
    treatment itself are not modelled.
    """

    #: SD of the log hazard between patients. Assumption.
    omega: float = 0.5


SURVIVAL = SurvivalParams()


@dataclass(frozen=True)
class Variability:
    """Inter-individual variability: SD of log-normal random effects (omega). Assumption,
    except oral bioavailability (0.15-0.69 in cancer patients, Sawe 1981, ref) and plasma
    clearance, calibrated: IT morphine above 4.2 mg/day always gave detectable plasma levels
    (>= 2 ng/mL, Brogan 2020, ref), here >= 90% of the cohort at 4.2 mg/day (0.3 gave 88%)."""

    oral_bioavailability: float = 0.4
    ka: float = 0.4
    v_plasma: float = 0.25
    cl_plasma: float = 0.25
    ke0_brain: float = 0.3
    v_csf_lumbar: float = 0.25
    k_csf_out: float = 0.15
    rostral_fraction: float = 0.35
    k_rostral_out: float = 0.2
    ke0_spinal: float = 0.3
    ke0_brainstem: float = 0.3
    c50_analgesia: float = 0.35
    c50_breathing: float = 0.35
    tolerance_factor: float = 0.4
    respiratory_rate_sd_per_min: float = 2.0
    max_relief_sd: float = 0.05
    progression: float = 0.6
    breakthrough_rate: float = 0.6
    time_to_peak: float = 0.35
    duration: float = 0.2
    amplitude: float = 0.3
    activity_shift_sd_min: float = 45.0


VARIABILITY = Variability()
