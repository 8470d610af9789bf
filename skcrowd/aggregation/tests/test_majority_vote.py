import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.aggregation import MajorityVote


def test_majority_vote_by_hand():
    Y = np.array(
        [
            ["a", "a", "b", None],  # a wins 2-1
            ["b", None, "b", "c"],  # b wins 2-1
            [None, None, None, "c"],  # single label
        ],
        dtype=object,
    )
    mv = MajorityVote(random_state=0).fit(Y)
    np.testing.assert_array_equal(mv.labels_, ["a", "b", "c"])
    np.testing.assert_allclose(
        mv.proba_, [[2 / 3, 1 / 3, 0], [0, 2 / 3, 1 / 3], [0, 0, 1]]
    )
    # worker agreement with the majority: w0 1/2 (a ok, b ok -> 2/2)...
    np.testing.assert_allclose(mv.skill_, [1.0, 1.0, 0.5, 0.5])


def test_ties_are_broken_by_the_seed_and_uniformly():
    Y = np.tile([[0.0, 1.0]], (2000, 1))  # every item is a 1-1 tie
    first = MajorityVote(random_state=0).fit_predict(Y)
    again = MajorityVote(random_state=0).fit_predict(Y)
    other = MajorityVote(random_state=1).fit_predict(Y)
    np.testing.assert_array_equal(first, again)
    assert np.any(first != other)
    assert 0.45 < first.mean() < 0.55  # uniform among the tied classes


def test_gold_overrides_votes():
    Y = np.array([[0, 0, 1], [1, 1, 0]])
    mv = MajorityVote().fit(Y, y_gold=[1, np.nan])
    np.testing.assert_array_equal(mv.labels_, [1, 1])


def test_sparse_equals_dense():
    rng = np.random.default_rng(0)
    Y = rng.integers(3, size=(50, 7)).astype(float)
    Y[rng.random(Y.shape) < 0.5] = np.nan
    Y[:, 0] = 2
    rows, cols = np.nonzero(~np.isnan(Y))
    Ys = sp.coo_array((Y[rows, cols], (rows, cols)), shape=Y.shape)
    a = MajorityVote(random_state=3).fit(Y)
    b = MajorityVote(random_state=3).fit(Ys)
    np.testing.assert_allclose(a.proba_, b.proba_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_predict_needs_the_same_workers():
    mv = MajorityVote().fit(np.array([[0, 1, 1], [1, 1, 0]]))
    with pytest.raises(ValueError, match="expecting 3 features"):
        mv.predict(np.array([[0, 1]]))
    with pytest.raises(ValueError, match="not among the known classes"):
        mv.predict(np.array([[0, 1, 5]]))
