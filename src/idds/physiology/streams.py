"""Counter-based random streams: every random number is a pure function of
(seed, patient index, stream, counter).

Why not one `np.random.Generator` per patient: 10,000 generator calls per step would be a
Python loop. Instead each patient gets a 64-bit key derived from `SeedSequence(seed)` and the
patient's global index, and a number is the splitmix64 hash of (key, stream, counter). Results
therefore do not depend on how a cohort is split into batches or workers (docs/design.md, 7), and no
global random state is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from idds.physiology import backend

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: The splitmix64 finaliser's multipliers and shifts (`_mix`; public for the compiled day
#: loop, `idds.trial.daykernel`, which hashes the same way).
MIX_M1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_M2 = np.uint64(0x94D049BB133111EB)
_STREAM_MULT = np.uint64(0xD1B54A32D192ED03)
_MASK = 2**64 - 1
MIX_S11, MIX_S27, MIX_S30, MIX_S31 = (np.uint64(s) for s in (11, 27, 30, 31))


class Stream(IntEnum):
    """Stream identifiers; parameter sampling uses PARAMETER + parameter number, symptom
    traits SYMPTOM_TRAIT + trait number."""

    ONSET = 1
    TIME_TO_PEAK = 2
    DURATION = 3
    AMPLITUDE = 4
    DIARY = 5
    RADIOTHERAPY_RESPONDER = 6
    RADIOTHERAPY_DELAY = 7
    SURVIVAL_HAZARD = 8
    SURVIVAL_TIME = 9
    PAIN_TYPE = 10
    PAIN_DISTRIBUTION = 11
    TIP_DISTANCE = 12
    SYMPTOM_TRAIT = 500
    PARAMETER = 1000


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser (wrapping uint64 arithmetic), a new array."""
    return _mix_inplace(z.copy())


def _mix_inplace(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser applied to z in place where its backend allows (returns the
    result; any array backend, `idds.physiology.backend`)."""
    xp = backend.of(z)
    m1, m2 = ((MIX_M1, MIX_M2) if xp is np
              else (xp.asarray(int(MIX_M1), dtype=xp.uint64),
                    xp.asarray(int(MIX_M2), dtype=xp.uint64)))
    for shift, mult in ((int(MIX_S30), m1), (int(MIX_S27), m2)):
        z ^= z >> shift
        z *= mult
    z ^= z >> int(MIX_S31)
    return z


def patient_keys(seed: int, indices: NDArray[np.int64]) -> NDArray[np.uint64]:
    """One 64-bit key per patient from the cohort seed and the patients' global indices."""
    root = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    idx = np.asarray(indices, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(_mix(idx * _GOLDEN + root[0]) ^ root[1])


def _mix_int(z: int) -> int:
    """`_mix` of one 64-bit number, in Python integers (no array overhead)."""
    z = ((z ^ (z >> 30)) * int(MIX_M1)) & _MASK
    z = ((z ^ (z >> 27)) * int(MIX_M2)) & _MASK
    return z ^ (z >> 31)


def salt(stream: int, counter: int) -> int:
    """The 64-bit salt of a stream and counter: a number is `_mix(key ^ salt)` (its top 53
    bits, centred in (0, 1))."""
    return _mix_int(
        ((stream * 0x632BE59BD9B4E019 + counter * 0x9E3779B97F4A7C15) % 2**64)
        * int(_STREAM_MULT)
        & _MASK
    )


def uniforms(keys: NDArray[np.uint64], streams: Sequence[int], counter: int) -> NDArray[np.float64]:
    """Uniform numbers in (0, 1), shape (len(streams), len(keys)): row s is
    `uniform(keys, streams[s], counter)` (one pass for several streams)."""
    salts = [salt(stream, counter) for stream in streams]
    # uint64 array arithmetic wraps silently (only numpy scalars warn on overflow)
    xp = backend.of(keys)
    z = _mix_inplace(keys[None, :] ^ xp.asarray(salts, dtype=xp.uint64)[:, None])
    out: NDArray[np.float64] = xp.astype(z >> int(MIX_S11), xp.float64)
    out += 0.5
    out *= 1.0 / 2.0**53
    return out


def uniform(keys: NDArray[np.uint64], stream: int, counter: int) -> NDArray[np.float64]:
    """Uniform numbers in (0, 1), one per key, for this stream and counter."""
    out: NDArray[np.float64] = uniforms(keys, (stream,), counter)[0, ...]
    return out


def normal(keys: NDArray[np.uint64], stream: int, counter: int) -> NDArray[np.float64]:
    """Standard normal numbers, one per key (inverse CDF of `uniform`)."""
    out: NDArray[np.float64] = backend.ndtri(uniform(keys, stream, counter))
    return out


def normals(keys: NDArray[np.uint64], streams: Sequence[int], counter: int) -> NDArray[np.float64]:
    """Standard normal numbers, shape (len(streams), len(keys)), as `normal` per stream."""
    out: NDArray[np.float64] = backend.ndtri(uniforms(keys, streams, counter))
    return out
