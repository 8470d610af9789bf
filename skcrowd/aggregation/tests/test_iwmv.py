"""Tests of IWMV (iterative weighted majority voting, Li & Yu 2014)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcrowd.aggregation import IWMV, MajorityVote
from skcrowd.datasets import make_crowd_classification

# workers A, B always agree; on items 0-5 one of C, D, E joins them and the
# other two dissent; on item 6 C, D, E outvote A and B
OUTVOTED = np.array([
    # A  B  C  D  E
    [0, 0, 0, 1, 1],
    [1, 1, 0, 1, 0],
    [0, 0, 1, 1, 0],
    [1, 1, 1, 0, 0],
    [0, 0, 1, 0, 1],
    [1, 1, 0, 0, 1],
    [0, 0, 1, 1, 1],
])


def test_by_hand():
    iwmv = IWMV(random_state=0).fit(OUTVOTED)
    # it. 1, plain vote: item 6 -> 1; A, B agree on 6/7, C, D, E on 3/7;
    # weights 2 * 6/7 - 1 = 5/7 and 2 * 3/7 - 1 = -1/7
    # it. 2: item 6: 0 gets 10/7, 1 gets -3/7 -> 0; A, B agree on 7/7,
    # C, D, E on 2/7: weights 1 and -3/7; it. 3: nothing moves
    assert_allclose(iwmv.skill_, [1, 1, 2 / 7, 2 / 7, 2 / 7])
    assert_allclose(iwmv.weights_, [1, 1, -3 / 7, -3 / 7, -3 / 7])
    assert iwmv.n_iter_ == 3
    assert_array_equal(iwmv.labels_, [0, 1, 0, 1, 0, 1, 0])
    # item 0: 0 gets 1 + 1 - 3/7, 1 gets -6/7; softmax of the scores
    scores = np.array([2 - 3 / 7, -6 / 7])
    assert_allclose(iwmv.proba_[0], np.exp(scores) / np.exp(scores).sum())


def test_ties_count_in_expectation():
    # item 0 is a 1-1 tie between workers 0 and 1: each gets half a hit
    # there, whichever way the tie would be broken, so the skills do not
    # depend on the seed
    Y = np.array([[0, 1, np.nan], [0, np.nan, 0], [np.nan, 1, 1]])
    skills = [IWMV(random_state=s).fit(Y).skill_ for s in range(5)]
    for s in skills[1:]:
        assert_array_equal(s, skills[0])
    assert_allclose(IWMV(max_iter=1).fit(Y).skill_, [0.75, 0.75, 1.0])


def test_weights_rank_workers_and_beat_majority_vote():
    X, Y, y = make_crowd_classification(
        n_samples=400, n_workers=12, n_classes=4, labels_per_item=5,
        worker_profiles={"reliable": 0.4, "uniform_spammer": 0.4, "adversarial": 0.2},
        random_state=0,
    )
    iwmv = IWMV(random_state=0).fit(Y)
    mv = MajorityVote(random_state=0).fit(Y)
    assert np.mean(iwmv.labels_ == y) > np.mean(mv.labels_ == y)
    truth = np.array([np.mean(Y[~np.isnan(Y[:, r]), r] == y[~np.isnan(Y[:, r])])
                      for r in range(Y.shape[1])])
    assert np.corrcoef(truth, iwmv.skill_)[0, 1] > 0.9


def test_sparse_equals_dense_and_gold_clamped():
    rng = np.random.default_rng(0)
    Y = rng.integers(0, 3, (50, 6)).astype(float)
    Y[rng.random(Y.shape) < 0.4] = np.nan
    rows, cols = np.nonzero(~np.isnan(Y))
    S = sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)
    dense = IWMV(random_state=0).fit(Y)
    sparse = IWMV(random_state=0).fit(S)
    assert_allclose(dense.proba_, sparse.proba_)
    gold = np.full(50, np.nan)
    gold[:5] = [2, 2, 2, 2, 2]
    fitted = IWMV(random_state=0).fit(Y, y_gold=gold)
    assert_array_equal(fitted.labels_[:5], 2)
    assert_allclose(fitted.proba_[:5, 2], 1.0)


def test_predict_on_new_crowd_uses_fitted_weights():
    iwmv = IWMV(random_state=0).fit(OUTVOTED)
    new = np.array([[1, np.nan, 0, 0, 0], [np.nan] * 5])
    proba = iwmv.predict_proba(new)
    # row 0: 1 gets A's 1, 0 gets 3 * -3/7: 1 wins; row 1: uniform
    assert iwmv.predict(new)[0] == 1
    assert_allclose(proba[1], [0.5, 0.5])


@pytest.mark.parametrize("max_iter", [0, -1])
def test_bad_max_iter(max_iter):
    with pytest.raises(ValueError, match="max_iter"):
        IWMV(max_iter=max_iter).fit(OUTVOTED)
