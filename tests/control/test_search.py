"""The coarse-to-fine dose search (`idds.control.search`): the whole grid's pick wherever the
utility has one peak (property), the higher of two peaks found where a single refinement
misses it, the breathing cap kept, and on the intelligent controller's own days the pick of
scoring all 90 candidates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.control import intelligent
from idds.control.intelligent import CANDIDATES_MG
from idds.control.search import capped, coarse_to_fine
from idds.trial import LocalExecutor, TrialConfig, run_trial


def _table(values: np.ndarray):  # type: ignore[no-untyped-def]
    """A score reading rows of a table (n, size), counting the candidates it scores."""
    scored = []

    def score(idx: np.ndarray) -> np.ndarray:
        scored.append(idx.shape[1])
        out: np.ndarray = np.take_along_axis(values, idx, axis=1)
        return out

    return score, scored


def _plain(scores: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return scores


steps = st.lists(st.floats(0.001, 10.0), min_size=0, max_size=60)


@settings(max_examples=200, deadline=None)
@given(up=steps, down=steps, every=st.integers(2, 4))
def test_one_peak_gives_the_whole_grids_pick(up: list[float], down: list[float],
                                             every: int) -> None:
    """Any sequence that rises to one peak and falls: the same index as argmax of it all."""
    values = np.concatenate([[0.0], np.cumsum(up)])
    values = np.concatenate([values, values[-1] - np.cumsum(down)])[None, :]
    score, scored = _table(values)
    (pick,) = coarse_to_fine(score, 1, values.shape[1], [_plain], every=every)
    assert pick[0] == np.argmax(values[0])
    assert len(scored) == 2


def test_the_higher_of_two_peaks_is_found() -> None:
    """A broad peak on the coarse grid and a higher narrow one between coarse points (a
    posterior split between two kinds of responder): refining one coarse peak misses the
    higher, refining the two highest finds it."""
    i = np.arange(90, dtype=float)
    broad = 1.0 - ((i - 20.0) / 15.0) ** 2
    narrow = 1.5 - np.abs(i - 64.0)
    values = np.maximum(broad, narrow)[None, :]
    assert np.argmax(values[0]) == 64 and 64 % 3 != 0
    score, _ = _table(values)
    (one,) = coarse_to_fine(score, 1, 90, [_plain], peaks=1)
    (two,) = coarse_to_fine(score, 1, 90, [_plain], peaks=2)
    assert one[0] == 20 and two[0] == 64


def test_candidates_above_the_cap_are_never_picked() -> None:
    """Utility rising with dose, caps per row: the pick is the highest candidate within the
    cap, and the lowest candidate where the cap is below all of them."""
    values = np.tile(np.arange(90, dtype=float), (3, 1))
    cap = np.array([CANDIDATES_MG[40], CANDIDATES_MG[0] / 2, 100.0])
    score, scored = _table(values)
    (pick,) = coarse_to_fine(score, 3, 90, [capped(CANDIDATES_MG, cap, 0.0)])
    assert pick.tolist() == [40, 0, 89]
    assert sum(scored) < 90


@pytest.fixture(scope="module")
def controller_days() -> tuple[int, int, float]:
    """it-intelligent, 80 patients x 30 days: on each decision, the search's picks (best and
    keep) against argmax over all 90 candidates of the same scores. Returns picks compared,
    picks that differ, and the largest loss of objective value from a different pick."""
    tally = {"picks": 0, "differ": 0, "loss": 0.0}

    def compared(score, n, size, objectives):  # type: ignore[no-untyped-def]
        picks = coarse_to_fine(score, n, size, objectives)
        whole_idx = np.tile(np.arange(size), (n, 1))
        whole = score(whole_idx)
        rows = np.arange(n)
        for pick, objective in zip(picks, objectives, strict=True):
            value = objective(whole, whole_idx)
            best = np.argmax(value, axis=1)
            tally["picks"] += n
            tally["differ"] += int(np.sum(value[rows, pick] < value[rows, best]))
            tally["loss"] = max(tally["loss"], float(np.max(value[rows, best]
                                                            - value[rows, pick])))
        return picks

    mp = pytest.MonkeyPatch()
    mp.setattr(intelligent, "coarse_to_fine", compared)
    try:
        run_trial(TrialConfig(patients=80, days=30, arms=("it-intelligent",), seed=3,
                              batch_size=80), LocalExecutor(1))
    finally:
        mp.undo()
    return int(tally["picks"]), int(tally["differ"]), float(tally["loss"])


def test_on_controller_days_the_search_picks_what_the_whole_grid_picks(
        controller_days: tuple[int, int, float]) -> None:
    """Measured on 400 patients x 90 days, seeds 0-2: 3 of 216,000 picks differed, losing at
    most 0.00016 of a day in target; here: at most one in a thousand, losing under 0.001."""
    picks, differ, loss = controller_days
    assert picks >= 80 * 30 * 2
    assert differ <= picks // 1000
    assert loss < 1e-3
