import numpy as np
import pytest
from scipy.optimize import check_grad

from skcrowd.embedding import MVTE, STE, TSTE, TripletData
from skcrowd.embedding._ste import _incidence, anchor_log_proba


def _answers(points, n, rng):
    """Anchor answers of a noiseless Euclidean oracle."""
    rows = np.array([rng.choice(len(points), 3, replace=False) for _ in range(n)])
    d = np.linalg.norm(points[rows[:, :1]] - points[rows[:, 1:]], axis=2)
    swap = d[:, 0] > d[:, 1]
    rows[swap] = rows[swap][:, [0, 2, 1]]
    return rows


@pytest.mark.parametrize("kernel, alpha", [("gaussian", None), ("student-t", 1.0)])
def test_gradient_matches_finite_differences(kernel, alpha):
    rng = np.random.RandomState(0)
    rows = _answers(rng.rand(8, 2), 40, rng)
    weights = rng.rand(40)
    inc = _incidence(rows, 8)

    def f(flat):
        return (
            weights * anchor_log_proba(flat.reshape(8, 2), rows, kernel, alpha)[0]
        ).sum()

    def g(flat):
        Y = flat.reshape(8, 2)
        return anchor_log_proba(Y, rows, kernel, alpha, inc, weights)[1].ravel()

    assert check_grad(f, g, rng.normal(size=16)) < 1e-5


@pytest.mark.parametrize("cls", [TSTE, STE])
def test_one_map_recovers_a_planted_configuration(cls):
    rng = np.random.RandomState(0)
    points = rng.rand(25, 2)
    rows = _answers(points, 1500, rng)
    est = cls(n_components=2, random_state=0).fit(rows[:1200])
    assert est.embedding_.shape == (25, 2)
    assert est.score(rows[1200:]) > 0.85
    assert est.transform([1, 2]).shape == (2, 2)
    # the same rows as a TripletData, and the odd-one-out form
    assert cls(random_state=0).fit(TripletData(rows[:1200])).n_objects_ == 25
    odd = cls(query="odd-one-out", random_state=0).fit(rows[:50])
    assert odd.predict(rows[:5]).shape == (5,)


def test_mvte_two_planted_views():
    rng = np.random.RandomState(0)
    view_a, view_b = rng.rand(30, 2), rng.rand(30, 2)
    rows = np.concatenate([_answers(view_a, 1500, rng), _answers(view_b, 1500, rng)])
    rows = rows[rng.permutation(len(rows))]
    est = MVTE(n_views=2, max_iter=10, random_state=0).fit(rows)
    assert est.embedding_.shape == (30, 2, 2)
    np.testing.assert_allclose(est.view_weights_.sum(), 1)
    np.testing.assert_allclose(est.responsibilities_.sum(1), 1)
    # generalised EM: the likelihood does not decrease
    assert np.all(np.diff(est.log_likelihood_) > -1e-6)
    assert est.transform([0, 1]).shape == (2, 4)
    assert est.transform_views([0, 1]).shape == (2, 2, 2)
    # two maps explain two views' held-out answers better than one
    held_out = np.concatenate([_answers(view_a, 300, rng), _answers(view_b, 300, rng)])
    single = TSTE(random_state=0).fit(rows)
    assert est.score(held_out) > single.score(held_out)


def test_transductive_baselines_refuse_unknown_objects():
    est = TSTE(random_state=0, max_iter=5).fit([[0, 1, 2], [2, 1, 0]])
    with pytest.raises(ValueError, match="not fitted on"):
        est.predict([[0, 1, 3]])
    with pytest.raises(ValueError, match="indices"):
        est.transform(np.zeros((2, 2)))


@pytest.mark.parametrize("cls", [TSTE, MVTE])
def test_huge_degrees_of_freedom_still_learn(cls):
    # 1 + d^2 / alpha rounded to 1 for alpha >~ 1e16: the loss stayed at
    # log 2, the map never moved and every training answer was a tie (score 0)
    rng = np.random.RandomState(0)
    rows = _answers(rng.rand(10, 2), 60, rng)
    kw = {"max_iter": 5} if cls is MVTE else {}
    est = cls(alpha=1e20, random_state=0, **kw).fit(rows)
    assert np.isfinite(est.embedding_).all()
    assert est.score(rows) > 0.7
