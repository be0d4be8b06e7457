"""Scale-out: a local Dask cluster on loopback gives the same numbers as the local run."""

from __future__ import annotations

import numpy as np
import pytest

from idds.trial import DaskExecutor, TrialConfig, run_trial

distributed = pytest.importorskip("distributed")


def test_dask_cluster_matches_local_run() -> None:
    config = TrialConfig(patients=10, days=2, arms=("cmm", "it-standard"), seed=9, batch_size=4)
    local = run_trial(config)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        remote = run_trial(config, DaskExecutor(cluster.scheduler_address))
    for arm in config.arms:
        for key, values in local.arms[arm].history.items():
            np.testing.assert_array_equal(values, remote.arms[arm].history[key], err_msg=key)
        assert ({k: e.as_json() for k, e in local.arms[arm].metrics.items()}
                == {k: e.as_json() for k, e in remote.arms[arm].metrics.items()})
