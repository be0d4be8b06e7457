"""Linear pharmacokinetics, stepped exactly with the matrix exponential.

State per drug and patient, 7 entries (the compartment order of `Compartment`):
amounts in mg for GUT, PLASMA, LUMBAR (CSF) and ROSTRAL (CSF); concentrations in ng/mL for the
three effect sites BRAIN (plasma-equivalent), SPINAL (lumbar-CSF-equivalent) and BRAINSTEM
(rostral-CSF-equivalent). With x the state and u the input rates in mg/min into
(gut, plasma, lumbar CSF):

    d gut/dt       = u_gut - ka gut                      (a fraction 1 - F is lost to first pass)
    d plasma/dt    = u_iv + F ka gut - k_el plasma + k_lp lumbar + k_rp rostral
    d brain/dt     = ke0_b (1000 plasma / V_plasma_L - brain)
    d lumbar/dt    = u_it - k_out lumbar,   k_out = k_lp + k_lr, k_lr = f_rostral k_out
    d spinal/dt    = ke0_s (1e6 lumbar / V_lumbar_mL - spinal)
    d rostral/dt   = k_lr lumbar - k_rp rostral
    d brainstem/dt = ke0_bs (1e6 rostral / V_rostral_mL - brainstem)

so dx/dt = A x + B u. Over a step of dt minutes with u constant (a dose delivered during a step
is a constant-rate infusion over it), x(t + dt) = Phi x(t) + Gamma u with Phi = exp(A dt) and
Gamma = int_0^dt exp(A s) ds B, both read off exp([[A, B], [0, 0]] dt) (the augmented-matrix
trick). Arrays keep patients on the last axis (state (7, n)). `advance` applies the map as
one product over the full matrix (readable, any array backend); `advance_terms` with a few
multiply-adds over the entries that are not structurally zero (fast; about 25 of 70).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm

from idds.physiology import backend

Array = NDArray[np.float64]


class Compartment(IntEnum):
    """Row of each compartment in a PK state vector."""

    GUT = 0
    PLASMA = 1
    BRAIN = 2
    LUMBAR = 3
    SPINAL = 4
    ROSTRAL = 5
    BRAINSTEM = 6


N_COMPARTMENTS = 7
#: Columns of the input: into gut (oral), plasma (iv), lumbar CSF (intrathecal).
N_INPUTS = 3


@dataclass(frozen=True)
class PatientPK:
    """Per-patient PK parameters of one drug, each an array of shape (n_patients,)."""

    oral_bioavailability: Array
    ka_per_min: Array
    v_plasma_l: Array
    k_el_per_min: Array
    ke0_brain_per_min: Array
    v_csf_lumbar_ml: Array
    k_csf_out_per_min: Array
    rostral_fraction: Array
    v_csf_rostral_ml: Array
    k_rostral_out_per_min: Array
    ke0_spinal_per_min: Array
    ke0_brainstem_per_min: Array

    @property
    def n(self) -> int:
        return int(self.ka_per_min.shape[0])

    def take(self, index: NDArray[np.intp]) -> PatientPK:
        """The parameters of a subset of patients."""
        return PatientPK(**{k: v[index] for k, v in self.__dict__.items()})


def rate_matrix(pk: PatientPK) -> Array:
    """A of dx/dt = A x + B u, shape (n, 7, 7), units 1/min (with mg -> ng/mL factors)."""
    c = Compartment
    a = np.zeros((pk.n, N_COMPARTMENTS, N_COMPARTMENTS))
    k_lr = pk.rostral_fraction * pk.k_csf_out_per_min
    k_lp = pk.k_csf_out_per_min - k_lr
    a[:, c.GUT, c.GUT] = -pk.ka_per_min
    a[:, c.PLASMA, c.GUT] = pk.oral_bioavailability * pk.ka_per_min
    a[:, c.PLASMA, c.PLASMA] = -pk.k_el_per_min
    a[:, c.PLASMA, c.LUMBAR] = k_lp
    a[:, c.PLASMA, c.ROSTRAL] = pk.k_rostral_out_per_min
    a[:, c.BRAIN, c.PLASMA] = pk.ke0_brain_per_min * 1e3 / pk.v_plasma_l
    a[:, c.BRAIN, c.BRAIN] = -pk.ke0_brain_per_min
    a[:, c.LUMBAR, c.LUMBAR] = -pk.k_csf_out_per_min
    a[:, c.SPINAL, c.LUMBAR] = pk.ke0_spinal_per_min * 1e6 / pk.v_csf_lumbar_ml
    a[:, c.SPINAL, c.SPINAL] = -pk.ke0_spinal_per_min
    a[:, c.ROSTRAL, c.LUMBAR] = k_lr
    a[:, c.ROSTRAL, c.ROSTRAL] = -pk.k_rostral_out_per_min
    a[:, c.BRAINSTEM, c.ROSTRAL] = pk.ke0_brainstem_per_min * 1e6 / pk.v_csf_rostral_ml
    a[:, c.BRAINSTEM, c.BRAINSTEM] = -pk.ke0_brainstem_per_min
    return a


def input_matrix(n: int) -> Array:
    """B of dx/dt = A x + B u, shape (n, 7, 3): gut, plasma and lumbar CSF take the inputs."""
    b = np.zeros((n, N_COMPARTMENTS, N_INPUTS))
    b[:, Compartment.GUT, 0] = 1.0
    b[:, Compartment.PLASMA, 1] = 1.0
    b[:, Compartment.LUMBAR, 2] = 1.0
    return b


@dataclass(frozen=True)
class Propagator:
    """Exact one-step maps for a step of `dt_min`: x' = phi x + gamma u (patients last)."""

    dt_min: float
    #: [phi | gamma], shape (7, 10, n): phi = exp(A dt) (7 x 7) and
    #: gamma = int_0^dt exp(A s) ds B (7 x 3, multiplies input rates in mg/min).
    matrix: Array
    #: The same map for `advance_terms`: the diagonal of phi, shape (7, n), and the other
    #: entries that are non-zero for some patient as column blocks (j, i0, i1, matrix[i0:i1, j])
    #: over contiguous rows i0..i1-1 (j: 0-6 state, 7-9 input). All other entries are exactly
    #: zero (see `reachable`).
    diagonal: Array
    column_blocks: tuple[tuple[int, int, int, Array], ...]

    @property
    def phi(self) -> Array:
        return self.matrix[:, :N_COMPARTMENTS]

    @property
    def gamma(self) -> Array:
        return self.matrix[:, N_COMPARTMENTS:]


def reachable(a: Array, b: Array) -> NDArray[np.bool_]:
    """Structure of [exp(A dt) | int exp(A s) ds B], shape (n, 7, 10): True where an entry
    can be non-zero, i.e. compartment i is reachable from compartment (or input) j along
    non-zero rates of A (a: (n, 7, 7), b: (n, 7, 3)). Elsewhere the exact value is 0."""
    closure = (a != 0) | np.eye(N_COMPARTMENTS, dtype=bool)
    for k in range(N_COMPARTMENTS):  # Warshall: paths through compartments 0..k
        closure = closure | (closure[:, :, k : k + 1] & closure[:, k : k + 1, :])
    gamma = (closure[:, :, :, None] & (b != 0)[:, None, :, :]).any(axis=2)
    out: NDArray[np.bool_] = np.concatenate([closure, gamma], axis=2)
    return out


def propagator(pk: PatientPK, dt_min: float) -> Propagator:
    """Compute Phi and Gamma for every patient (batched expm of the augmented matrix).

    Entries that are structurally zero (`reachable`) are set to exactly 0: expm's Pade solve
    leaves round-off there (below 1e-17); A is a Metzler matrix, so exp(A dt) >= 0 and
    round-off below zero is clipped too.
    """
    n = pk.n
    size = N_COMPARTMENTS + N_INPUTS
    a, b = rate_matrix(pk), input_matrix(n)
    aug = np.zeros((n, size, size))
    aug[:, :N_COMPARTMENTS, :N_COMPARTMENTS] = a
    aug[:, :N_COMPARTMENTS, N_COMPARTMENTS:] = b
    e = expm(aug * dt_min)[:, :N_COMPARTMENTS, :]
    structure = reachable(a, b)
    matrix = np.where(structure, np.maximum(e, 0.0), 0.0).transpose(1, 2, 0)
    return Propagator(
        dt_min=dt_min,
        matrix=np.ascontiguousarray(matrix),
        diagonal=np.ascontiguousarray(matrix[range(N_COMPARTMENTS), range(N_COMPARTMENTS)]),
        column_blocks=_column_blocks(matrix),
    )


def _column_blocks(matrix: Array) -> tuple[tuple[int, int, int, Array], ...]:
    """Off-diagonal entries non-zero for some patient, grouped into runs of rows per column."""
    used = (matrix != 0).any(axis=2)
    used[range(N_COMPARTMENTS), range(N_COMPARTMENTS)] = False
    blocks = []
    for j in range(used.shape[1]):
        rows = np.flatnonzero(used[:, j])
        for run in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1):
            if run.size:
                i0, i1 = int(run[0]), int(run[-1]) + 1
                blocks.append((j, i0, i1, np.ascontiguousarray(matrix[i0:i1, j])))
    return tuple(blocks)


def advance(x: Array, prop: Propagator, delivered_mg: Array) -> Array:
    """State after one step. x: (7, n); delivered_mg: (3, n) mg into gut, plasma, CSF.

    The readable form (the full matrix times [state | input rates], on any array backend:
    `idds.physiology.backend`); `advance_terms` is the fast one.
    """
    xp = backend.of(x)
    xu = xp.concat([x, delivered_mg * (1.0 / prop.dt_min)], axis=0)
    out: Array = xp.sum(prop.matrix * xu[None, :, :], axis=1)
    return out


def advance_terms(
    x: Array, prop: Propagator, rates: Sequence[Array | float | None], out: Array
) -> Array:
    """`advance` by multiply-adds over the non-zero entries only, written to out (7, n):
    the diagonal times the state, plus each column block times its state or input row.

    rates: input rates in mg/min into gut, plasma and lumbar CSF (array (n,), scalar, or None
    for no input). Terms of absent inputs are skipped (adding exact zeros changes nothing).
    """
    np.multiply(prop.diagonal, x, out=out)
    tmp = np.empty_like(out)
    for j, i0, i1, coef in prop.column_blocks:
        col = x[j] if j < N_COMPARTMENTS else rates[j - N_COMPARTMENTS]
        if col is None:
            continue
        part = np.multiply(coef, col, out=tmp[i0:i1])
        out[i0:i1] += part
    return out


def steady_state(pk: PatientPK, rate_mg_per_min: Array) -> Array:
    """State (7, n) at steady state under constant input rates (3, n) in mg/min."""
    a = rate_matrix(pk)
    b = input_matrix(pk.n)
    rhs = -np.einsum("pij,jp->pi", b, rate_mg_per_min)
    x = np.linalg.solve(a, rhs[..., None])[..., 0]
    out: Array = np.maximum(x.T, 0.0)
    return out


def plasma_ng_per_ml(x: Array, pk: PatientPK) -> Array:
    """Plasma concentration, ng/mL, from a state (7, n)."""
    out: Array = x[Compartment.PLASMA, ...] * 1e3 / pk.v_plasma_l
    return out


def csf_ng_per_ml(x: Array, pk: PatientPK) -> Array:
    """Lumbar CSF concentration, ng/mL, from a state (7, n)."""
    out: Array = x[Compartment.LUMBAR, ...] * 1e6 / pk.v_csf_lumbar_ml
    return out
