"""Tests of the crowd targets: global padding and per-batch (ragged) padding."""

import numpy as np
import pytest

from skcrowd.nn import _target
from skcrowd.nn._target import (
    RaggedCrowdTarget,
    crowd_training_target,
    global_padding_is_wasteful,
    padded_crowd_target,
)
from skcrowd.utils import check_crowd_matrix

torch = pytest.importorskip("torch")


def skewed_crowd(n_samples=50, n_workers=30, seed=0):
    """Two labels per item, item 3 labelled by every worker, item 7 by none."""
    rng = np.random.RandomState(seed)
    y = np.full((n_samples, n_workers), np.nan)
    for i in range(n_samples):
        y[i, rng.choice(n_workers, 2, replace=False)] = rng.randint(0, 3, 2)
    y[3] = rng.randint(0, 3, n_workers)
    y[7] = np.nan
    return check_crowd_matrix(y)


def global_target(crowd):
    return np.column_stack(
        [padded_crowd_target(crowd), np.arange(crowd.n_samples, dtype=np.int64)]
    )


def trim(rows):
    """A global-padded ``[workers | labels | index]`` cut to its widest row."""
    half = rows.shape[1] // 2
    width = max(int((rows[:, half : 2 * half] >= 0).sum(1).max()), 1)
    return np.column_stack([rows[:, :width], rows[:, half : half + width], rows[:, -1]])


@pytest.mark.parametrize(
    "rows",
    [
        np.array([0, 1, 2]),
        np.array([5, 3, 5, 0]),
        [7],
        [7, 9],
        slice(None),
        slice(10, 20, 3),
        np.arange(50) % 3 == 0,
        np.array([-1, 3]),
        np.array([], dtype=np.int64),
    ],
)
def test_ragged_rows_are_the_global_rows_trimmed(rows):
    crowd = skewed_crowd()
    ragged = RaggedCrowdTarget.from_crowd(crowd)
    full = global_target(crowd)
    expected = full[rows]
    got = ragged[rows]
    assert got.dtype == np.int64
    if len(expected) == 0:
        assert got.shape == (0, 3)
        return
    np.testing.assert_array_equal(got, trim(expected))


def test_ragged_target_numpy_like_info():
    crowd = skewed_crowd()
    ragged = RaggedCrowdTarget.from_crowd(crowd)
    full = global_target(crowd)
    assert len(ragged) == 50 and ragged.shape == full.shape and ragged.ndim == 2
    np.testing.assert_array_equal(ragged[4], full[4][[0, 1, 30, 31, 60]])
    np.testing.assert_array_equal(np.asarray(ragged), full)
    # the pairs and the index, not the (n, 2 x 30 + 1) padding
    assert ragged.nbytes == (51 + 2 * len(crowd.item) + 50) * 8 < full.nbytes / 4
    with pytest.raises(IndexError):
        ragged[[50]]
    # sklearn's _safe_indexing, as skorch's Dataset uses it for a list of rows
    from sklearn.utils import _safe_indexing

    np.testing.assert_array_equal(_safe_indexing(ragged, [3, 4]), ragged[[3, 4]])
    np.testing.assert_array_equal(ragged[2, ...], ragged[2])
    with pytest.raises(IndexError):
        ragged[:, 0]


def test_training_target_choice(monkeypatch):
    crowd = skewed_crowd()
    # small: the global-padded array, as in earlier releases
    assert not global_padding_is_wasteful(crowd)
    target = crowd_training_target(crowd)
    assert isinstance(target, np.ndarray)
    np.testing.assert_array_equal(target, global_target(crowd))
    monkeypatch.setattr(_target, "RAGGED_MIN_CELLS", 0)
    assert isinstance(crowd_training_target(crowd), RaggedCrowdTarget)
    assert isinstance(crowd_training_target(crowd, allow_ragged=False), np.ndarray)
    # evenly labelled: never wasteful, however large
    even = check_crowd_matrix(np.zeros((20, 4)))
    assert not global_padding_is_wasteful(even)


def test_skorch_dataset_split_and_batch_loader_index_per_batch():
    from skorch.dataset import Dataset, ValidSplit

    from skcrowd.nn._net import batch_loader

    crowd = skewed_crowd()
    ragged = RaggedCrowdTarget.from_crowd(crowd)
    X = np.random.RandomState(0).randn(50, 2).astype(np.float32)
    train, valid = ValidSplit(0.2, stratified=False, random_state=0)(
        Dataset(X, ragged), ragged
    )
    seen = []
    for part in (train, valid):
        for Xb, yb in batch_loader(part, batch_size=8):
            assert isinstance(yb, torch.Tensor) and yb.dtype == torch.int64
            rows = yb[:, -1].numpy()
            np.testing.assert_array_equal(Xb.numpy(), X[rows])
            np.testing.assert_array_equal(yb.numpy(), ragged[rows])
            seen.extend(rows)
    assert sorted(seen) == list(range(50))
    # skorch's own per-row indexing works too
    Xi, yi = Dataset(X, ragged)[3]
    np.testing.assert_array_equal(yi, ragged[3])


def test_cat_crowd_targets_pads_in_the_middle():
    from skcrowd.nn._modules import cat_crowd_targets, split_crowd_target

    crowd = skewed_crowd()
    ragged = RaggedCrowdTarget.from_crowd(crowd)
    parts = [torch.as_tensor(ragged[rows]) for rows in ([0, 1], [3, 4], [7])]
    assert len({p.shape[1] for p in parts}) > 1
    cat = cat_crowd_targets(parts)
    expected = trim(global_target(crowd)[[0, 1, 3, 4, 7]])
    np.testing.assert_array_equal(cat.numpy(), expected)
    workers, labels = split_crowd_target(cat)
    assert workers.shape == labels.shape == (5, 30)
    # one width: plain torch.cat
    same = [torch.as_tensor(ragged[[0, 1]]), torch.as_tensor(ragged[[0, 1]])]
    assert torch.equal(cat_crowd_targets(same), torch.cat(same))


def test_consecutive_chunks_count_the_padded_width(monkeypatch):
    from skcrowd.nn import _crowd_models

    monkeypatch.setattr(_crowd_models, "_EM_CHUNK_CELLS", 100)
    narrow, wide = torch.zeros(10, 5), torch.zeros(2, 41)  # 2 and 20 pairs
    batches = [(None, None, t) for t in (narrow, narrow, wide, narrow)]
    chunks = list(_crowd_models._consecutive_chunks(batches, 2))
    # 10 + 10 rows x 2 pairs x 2 = 80; + 2 rows at 20 pairs: 22 x 20 x 2 > 100
    assert [len(c) for c in chunks] == [2, 1, 1]
