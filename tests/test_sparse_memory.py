"""The sparse path never allocates a dense crowd.

A crowd of 300,000 items x 100,000 workers holds 900,000 labels (3 per
item); its dense form has 3e10 cells: 30 GB even as one byte per cell (more
than this 24 GB machine has), 240 GB as float64. Every aggregator in
``skcrowd.aggregation`` must aggregate it from the ``scipy.sparse`` matrix
with a Python-allocated peak (tracemalloc, which sees numpy's and scipy's
array buffers) far below one byte per cell, must never ask the validated
crowd for its dense codes, and must still beat chance (1/3) by a wide margin
against the generator's gold labels. (This is a memory test: how close each
method gets to the majority vote on this crowd, where most workers give only
a few labels, is printed with ``-s``, not asserted.)
"""

import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import skcrowd.aggregation
from skcrowd.utils import CrowdMatrix

N_ITEMS = 300_000
N_WORKERS = 100_000
LABELS_PER_ITEM = 3
N_CLASSES = 3
N_REGULAR = 2_000  # workers with many labels; the rest of the labels are one-offs
PEAK_LIMIT = 1 << 30  # 1 GiB, against N_ITEMS * N_WORKERS = 3e10 bytes

METHODS = (
    "MajorityVote",
    "Wawa",
    "ZeroBasedSkill",
    "IWMV",
    "DawidSkene",
    "OneCoinDawidSkene",
    "IBCC",
    "GLAD",
    "MACE",
)
PRESENT = [m for m in METHODS if hasattr(skcrowd.aggregation, m)]


@pytest.fixture(scope="module")
def huge_crowd():
    """A sparse crowd whose dense form cannot exist, and its gold labels.

    Half of the labels come from 2,000 regular workers (accuracy uniform in
    [0.55, 0.95], 10% of them spammers answering at random), scattered over
    the whole column range; the other half from one-off workers drawn
    uniformly from all 100,000 columns (accuracy 0.7). Each item gets 3
    distinct workers.
    """
    rng = np.random.default_rng(0)
    y = rng.integers(0, N_CLASSES, N_ITEMS)
    regular = rng.choice(N_WORKERS, size=N_REGULAR, replace=False)
    regular[-1] = N_WORKERS - 1  # the last column is used: the shape is real
    accuracy = np.full(N_WORKERS, 0.7)
    accuracy[regular] = rng.uniform(0.55, 0.95, N_REGULAR)
    accuracy[regular[rng.random(N_REGULAR) < 0.1]] = 1.0 / N_CLASSES

    def draw(size):
        from_pool = rng.random(size) < 0.5
        return np.where(
            from_pool,
            regular[rng.integers(0, N_REGULAR, size)],
            rng.integers(0, N_WORKERS, size),
        )

    workers = draw((N_ITEMS, LABELS_PER_ITEM))
    while True:  # redraw the items where a worker repeats
        s = np.sort(workers, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            break
        workers[bad] = draw((bad.size, LABELS_PER_ITEM))
    item = np.repeat(np.arange(N_ITEMS), LABELS_PER_ITEM)
    worker = workers.ravel()
    truth = y[item]
    right = rng.random(item.size) < accuracy[worker]
    wrong = (truth + rng.integers(1, N_CLASSES, item.size)) % N_CLASSES
    label = np.where(right, truth, wrong).astype(np.float64)
    Y = sp.csr_array((label, (item, worker)), shape=(N_ITEMS, N_WORKERS))
    assert Y.nnz == N_ITEMS * LABELS_PER_ITEM
    return Y, y


def test_crowd_is_too_big_to_densify(huge_crowd):
    Y, _ = huge_crowd
    assert Y.shape[0] * Y.shape[1] >= 25 * PEAK_LIMIT
    assert Y.nnz / (Y.shape[0] * Y.shape[1]) < 1e-4


@pytest.mark.parametrize("method", PRESENT)
def test_sparse_crowd_aggregates_without_densifying(huge_crowd, method, monkeypatch):
    Y, y = huge_crowd

    def refuse(self):
        raise AssertionError("dense_codes() called on a sparse crowd")

    monkeypatch.setattr(CrowdMatrix, "dense_codes", refuse)
    est = getattr(skcrowd.aggregation, method)()
    if "random_state" in est.get_params():
        est.set_params(random_state=0)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = time.perf_counter()
        est.fit(Y)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"{method}: {elapsed:.1f} s, traced peak {peak / 2**20:.0f} MiB")

    assert peak < PEAK_LIMIT, (
        f"{method} allocated {peak / 2**20:.0f} MiB at peak on a sparse crowd "
        f"(limit {PEAK_LIMIT / 2**20:.0f} MiB; dense would be "
        f"{N_ITEMS * N_WORKERS / 2**30:.0f} GiB at one byte per cell)"
    )
    labels = np.asarray(est.labels_)
    assert labels.shape == (N_ITEMS,)
    proba = np.asarray(est.proba_)
    assert proba.shape == (N_ITEMS, N_CLASSES)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    accuracy = np.mean(labels == y)
    print(f"{method}: accuracy {accuracy:.4f} against gold")
    assert accuracy > 0.6, f"{method}: accuracy {accuracy:.4f} against gold"
