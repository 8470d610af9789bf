"""Out-of-core EM on Dask equals the in-memory fit.

A ``distributed.LocalCluster`` of two single-threaded worker processes,
listening on the loopback only, runs every map-reduce pass; the fitted worker
parameters, the objective's history, the number of iterations and the items'
posteriors must equal those of the in-memory fit of the same crowd to 1e-6.
"""

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

from skcrowd.aggregation import (  # noqa: E402
    GLAD,
    IBCC,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
)
from skcrowd.datasets import make_crowd_classification  # noqa: E402
from skcrowd.utils import crowd_matrix_from_long, crowd_matrix_to_long  # noqa: E402

TOL = 1e-6
WORKER_PARAMS = {
    "DawidSkene": ("confusion_", "class_prior_"),
    "OneCoinDawidSkene": ("skill_", "class_prior_"),
    "GLAD": ("alphas_", "skill_", "class_prior_"),
    "MajorityVote": (),
}
# a loose tolerance (each EM iteration is a pass over the cluster, ~0.1 s of
# latency on a busy 2-core machine): the equality holds for any tolerance
METHODS = {
    "DawidSkene": lambda: DawidSkene(tol=1e-5),
    "OneCoinDawidSkene": lambda: OneCoinDawidSkene(tol=1e-5),
    # few iterations: each L-BFGS-B evaluation is a pass too
    "GLAD": lambda: GLAD(max_iter=3, m_step_max_iter=4),
    "MajorityVote": lambda: MajorityVote(random_state=0),
}


@pytest.fixture(scope="module")
def long_crowd():
    """A 3-class crowd as a long table with string ids, sorted by task."""
    _, Y, _ = make_crowd_classification(
        n_samples=240, n_classes=3, n_workers=10, random_state=0
    )
    Y = Y.astype(float)
    Y[np.random.default_rng(0).random(Y.shape) < 0.4] = np.nan
    df = crowd_matrix_to_long(Y)
    df["task"] = [f"t{t:04d}" for t in df["task"]]
    df["worker"] = [f"w{w:02d}" for w in df["worker"]]
    return df.sort_values(["task", "worker"]).reset_index(drop=True)


def _in_memory(df, est):
    Y, tasks, workers, classes = crowd_matrix_from_long(df)
    return est.fit(Y), tasks, workers, Y


def _assert_equal_fits(a, b, tasks, workers):
    name = type(a).__name__
    np.testing.assert_array_equal(b.classes_, a.classes_)
    np.testing.assert_array_equal(b.workers_, workers)
    proba = b.proba_.compute()
    assert isinstance(proba, pd.DataFrame) and proba.index.name == "task"
    assert proba.index.is_unique and set(proba.index) == set(tasks)
    np.testing.assert_allclose(proba.loc[tasks].to_numpy(), a.proba_, rtol=0, atol=TOL)
    for attr in WORKER_PARAMS[name]:
        np.testing.assert_allclose(
            getattr(b, attr), getattr(a, attr), rtol=TOL, atol=TOL, err_msg=attr
        )
    if hasattr(a, "n_iter_"):
        assert b.n_iter_ == a.n_iter_
        np.testing.assert_allclose(b.log_likelihood_, a.log_likelihood_, rtol=1e-9)
        labels = b.labels_.compute().loc[tasks].to_numpy()
        np.testing.assert_array_equal(labels, a.labels_)
        np.testing.assert_allclose(b._agreement_, a._agreement_, rtol=TOL)
    np.testing.assert_array_equal(b._n_labels_, a._n_labels_)
    if name == "GLAD":
        betas = b.betas_.compute().loc[tasks].to_numpy()
        np.testing.assert_allclose(betas, a.betas_, rtol=TOL)


@pytest.mark.parametrize("name", list(METHODS))
def test_dask_em_equals_in_memory(client, long_crowd, name):
    a, tasks, workers, _ = _in_memory(long_crowd, METHODS[name]())
    # task as the index: known divisions, partitions aligned on tasks
    ddf = dd.from_pandas(long_crowd.set_index("task"), npartitions=3)
    assert ddf.known_divisions
    b = METHODS[name]().fit(ddf)
    _assert_equal_fits(a, b, tasks, workers)
    if name == "MajorityVote":
        # vote fractions are equal; tie-breaks are drawn per partition
        tied = np.sort(a.proba_, axis=1)[:, -1] == np.sort(a.proba_, axis=1)[:, -2]
        labels = b.labels_.compute().loc[tasks].to_numpy()
        np.testing.assert_array_equal(labels[~tied], a.labels_[~tied])
        assert tied.any()


@pytest.mark.parametrize("name", ["DawidSkene", "OneCoinDawidSkene", "GLAD"])
def test_dask_em_on_partitioned_parquet(client, long_crowd, tmp_path, name):
    # integer ids, one file per block of tasks, task as a column: the
    # partitions' task ranges are checked to be disjoint
    df = long_crowd.copy()
    df["task"] = df["task"].str[1:].astype(np.int64)
    df["worker"] = df["worker"].str[1:].astype(np.int32) * 3  # sparse worker ids
    df["label"] = df["label"].astype(np.int8)
    for i, (_, block) in enumerate(df.groupby(df["task"] // 70)):
        block.to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    ddf = dd.read_parquet(tmp_path)
    assert ddf.npartitions == 4
    a, tasks, workers, _ = _in_memory(df, METHODS[name]())
    b = METHODS[name]().fit(ddf)
    _assert_equal_fits(a, b, tasks, workers)


def test_dask_predict_equals_in_memory_predict(client, long_crowd):
    a, tasks, workers, Y = _in_memory(long_crowd, DawidSkene())
    ddf = dd.from_pandas(long_crowd.set_index("task"), npartitions=2)
    # a model fitted in memory predicts a Dask crowd (workers as columns 0..)
    codes = pd.Series(np.arange(len(workers)), index=workers)
    numbered = long_crowd.assign(worker=codes.loc[long_crowd["worker"]].to_numpy())
    proba = a.predict_proba(dd.from_pandas(numbered, npartitions=1)).compute()
    np.testing.assert_allclose(proba.loc[tasks].to_numpy(), a.predict_proba(Y))
    # a model fitted on Dask predicts in memory and on Dask
    b = DawidSkene().fit(ddf)
    np.testing.assert_allclose(b.predict_proba(Y), a.predict_proba(Y), atol=TOL)
    labels = b.predict(ddf).compute().loc[tasks].to_numpy()
    np.testing.assert_array_equal(labels, a.predict(Y))


def test_unaligned_partitions_are_refused(client, long_crowd):
    # row-wise partitions cut through the labels of some tasks
    ddf = dd.from_pandas(long_crowd, npartitions=3, sort=False)
    with pytest.raises(ValueError, match="not aligned on tasks"):
        DawidSkene().fit(ddf)


def test_local_scheduler_without_a_client(long_crowd):
    a, tasks, workers, _ = _in_memory(long_crowd, OneCoinDawidSkene())
    ddf = dd.from_pandas(long_crowd.set_index("task"), npartitions=2)
    with dask.config.set(scheduler="sync"):
        b = OneCoinDawidSkene().fit(ddf)
        _assert_equal_fits(a, b, tasks, workers)


def test_missing_labels_and_empty_partitions_are_handled(long_crowd):
    df = long_crowd.copy()
    df["label"] = df["label"].astype(float)
    first = df["task"] == df["task"].iloc[0]
    df.loc[first, "label"] = np.nan  # a task whose labels are all missing
    df.loc[df.index[5], "label"] = np.nan
    a, tasks, workers, _ = _in_memory(df, DawidSkene())
    assert df["task"].iloc[0] not in set(tasks)
    parts = [df.iloc[:0], df[df["task"] < "t0100"], df[df["task"] >= "t0100"]]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=df.iloc[:0])
    with dask.config.set(scheduler="sync"):
        b = DawidSkene().fit(ddf)
        _assert_equal_fits(a, b, tasks, workers)


def test_what_dask_fits_refuse(long_crowd):
    ddf = dd.from_pandas(long_crowd.set_index("task"), npartitions=2)
    with dask.config.set(scheduler="sync"):
        with pytest.raises(TypeError, match="IBCC does not accept a Dask"):
            IBCC().fit(ddf)
        with pytest.raises(ValueError, match="y_gold is not supported"):
            DawidSkene().fit(ddf, y_gold=np.zeros(3))
        with pytest.raises(ValueError, match="fits in memory only"):
            DawidSkene(backend="torch").fit(ddf)
        with pytest.raises(ValueError, match="columns 'task'"):
            DawidSkene().fit(ddf.rename(columns={"label": "answer"}))
        dup = pd.concat([long_crowd, long_crowd.iloc[:1]]).sort_values("task")
        with pytest.raises(ValueError, match="at most once"):
            DawidSkene().fit(dd.from_pandas(dup.set_index("task"), npartitions=1))
        with pytest.raises(ValueError, match="not among the workers"):
            DawidSkene().fit(ddf).predict_proba(
                ddf.assign(worker="stranger")
            ).compute()
