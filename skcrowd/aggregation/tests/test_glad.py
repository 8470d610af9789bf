"""Tests of GLAD (worker ability x item difficulty)."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcrowd.aggregation import GLAD
from skcrowd.utils import crowd_matrix_from_long

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "truth_inference"


def make_crowd(seed, n_items=60, n_workers=8, n_classes=3, density=0.5):
    """A random crowd drawn from the GLAD model itself (NaN for missing)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(n_classes, size=n_items)
    alpha = rng.normal(1.0, 1.0, size=n_workers)
    beta = np.exp(rng.normal(0.5, 0.7, size=n_items))
    correct = 1 / (1 + np.exp(-alpha[None, :] * beta[:, None]))
    right = rng.random((n_items, n_workers)) < correct
    # a wrong label: the truth shifted by 1..K-1, uniform over the others
    shift = rng.integers(1, n_classes, size=(n_items, n_workers))
    labels = np.where(right, truth[:, None], (truth[:, None] + shift) % n_classes)
    observed = rng.random((n_items, n_workers)) < density
    observed[np.arange(n_items), rng.integers(n_workers, size=n_items)] = True
    return np.where(observed, labels.astype(float), np.nan), truth


def to_sparse(Y):
    rows, cols = np.nonzero(~np.isnan(Y))
    return sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)


# workers 0, 1 always right; worker 2 always wrong (binary: always the other
# label); item 5 is contested between the two reliable workers
TRUTH = np.array([0, 1, 0, 1, 0, 1, 1, 0])
ADVERSARY = np.column_stack([TRUTH, TRUTH, 1 - TRUTH]).astype(float)


def test_reliable_worker_beats_guesser():
    # worker 2 agrees with the others on half of the items: a coin flip
    Y = np.array([[0, 0, 0], [1, 1, 0], [0, 0, 1], [1, 1, 1],
                  [0, 0, 0], [1, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=float)
    glad = GLAD().fit(Y)
    assert_array_equal(glad.labels_, [0, 1, 0, 1, 0, 1, 0, 1])
    assert glad.alphas_[0] > glad.alphas_[2]
    # (8 labels only: the N(1, 1) prior still pulls the guesser above 0.5)
    assert glad.skill_[0] > 0.9 > 0.7 > glad.skill_[2] > 0.5
    # workers 0 and 1 are interchangeable
    assert_allclose(glad.alphas_[0], glad.alphas_[1])


def test_adversary_gets_negative_ability():
    # two reliable workers outvote an always-wrong one, whose ability goes
    # negative: his label then counts as evidence for the other class
    glad = GLAD().fit(ADVERSARY)
    assert_array_equal(glad.labels_, TRUTH)
    assert glad.alphas_[2] < 0 < glad.alphas_[0]
    assert glad.skill_[2] < 0.2


def test_contested_item_is_harder():
    Y = ADVERSARY[:, :2].copy()
    Y[5, 1] = 0  # the reliable workers disagree on item 5
    glad = GLAD().fit(Y)
    others = np.delete(glad.betas_, 5)
    assert glad.betas_[5] < others.min()
    assert np.all(glad.betas_ > 0)
    # a contested binary item with equally able workers is a coin flip
    assert_allclose(glad.proba_[5], [0.5, 0.5], atol=1e-6)


def test_worker_without_labels_keeps_prior_ability():
    Y = np.column_stack([ADVERSARY, np.full(len(TRUTH), np.nan)])
    glad = GLAD(alpha_prior_mean=0.7).fit(Y)
    assert_allclose(glad.alphas_[3], 0.7)
    assert_allclose(glad.skill_[3], 1 / (1 + np.exp(-0.7 * np.exp(1.0))))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [2, 4])
def test_objective_never_decreases(seed, n_classes):
    Y, _ = make_crowd(seed, n_classes=n_classes)
    for kwargs in ({}, {"class_prior": "estimate", "m_step_max_iter": 2}):
        glad = GLAD(tol=0, max_iter=60, **kwargs).fit(Y)
        steps = np.diff(glad.log_likelihood_)
        assert np.all(steps >= -1e-9 * np.abs(glad.log_likelihood_[1:])), steps.min()


@pytest.mark.parametrize("seed", range(3))
def test_objective_never_decreases_with_gold(seed):
    Y, truth = make_crowd(seed, n_classes=3)
    gold = np.where(np.arange(len(truth)) % 4 == 0, truth.astype(float), np.nan)
    glad = GLAD(tol=0, max_iter=60).fit(Y, y_gold=gold)
    steps = np.diff(glad.log_likelihood_)
    assert np.all(steps >= -1e-9 * np.abs(glad.log_likelihood_[1:]))


def test_recovers_truth():
    Y, truth = make_crowd(0, n_items=400, n_workers=10, density=0.6)
    glad = GLAD().fit(Y)
    assert np.mean(glad.labels_ == truth) > 0.9


def test_thousand_labels_on_one_item():
    rng = np.random.default_rng(0)
    # one item, 1,000 workers: 700 say 2, the rest spread over 0 and 1
    labels = np.where(rng.random(1000) < 0.7, 2, rng.integers(2, size=1000))
    Y = np.vstack([labels, np.full(1000, np.nan)]).astype(float)
    Y[1, :3] = [0, 0, 1]
    glad = GLAD().fit(Y)
    assert np.all(np.isfinite(glad.proba_))
    assert np.all(np.isfinite(glad.log_likelihood_))
    assert_allclose(glad.proba_.sum(axis=1), 1)
    assert glad.labels_[0] == 2
    assert np.all(np.isfinite(glad.alphas_)) and np.all(np.isfinite(glad.betas_))


def test_many_classes():
    rng = np.random.default_rng(1)
    n_items, k = 1000, 1000
    truth = rng.permutation(np.arange(n_items) % k)
    Y = np.tile(truth[:, None], (1, 3)).astype(float)
    noisy = rng.random(Y.shape) < 0.2
    noisy[:, 0] = False  # worker 0 is always right: every class is observed
    Y[noisy] = rng.integers(k, size=noisy.sum())
    glad = GLAD(tol=1e-5).fit(Y)
    assert len(glad.classes_) == k
    assert glad.proba_.shape == (n_items, k)
    assert np.all(np.isfinite(glad.proba_))
    assert np.mean(glad.labels_ == truth) > 0.95


def test_gold_is_clamped():
    Y = ADVERSARY[:, :2].copy()
    Y[5, 1] = 0  # contested: 1 vs 0
    gold = np.full(len(TRUTH), np.nan)
    gold[5] = 1
    gold[0] = 1  # against both workers
    glad = GLAD().fit(Y, y_gold=gold)
    assert_array_equal(glad.proba_[5], [0, 1])
    assert_array_equal(glad.proba_[0], [0, 1])
    assert glad.labels_[0] == 1 and glad.labels_[5] == 1
    # the worker who agreed with gold on the contested item is rated higher
    assert glad.alphas_[0] > glad.alphas_[1]


def test_sparse_equals_dense():
    Y, _ = make_crowd(3, n_classes=3)
    Y = Y + 1  # labels 1..3: no zero among the stored values
    dense = GLAD().fit(Y)
    sparse = GLAD().fit(to_sparse(Y))
    assert_array_equal(dense.classes_, sparse.classes_)
    assert_allclose(dense.proba_, sparse.proba_, atol=1e-10)
    assert_allclose(dense.alphas_, sparse.alphas_, atol=1e-10)
    assert_allclose(dense.log_likelihood_, sparse.log_likelihood_)


def test_predict_proba_new_items_re_estimates_difficulty():
    Y, _ = make_crowd(5, n_classes=3)
    glad = GLAD().fit(Y)
    # on the training crowd: the difficulties converge to the same values
    assert_allclose(glad.predict_proba(Y), glad.proba_, atol=1e-3)
    # items are independent given the abilities: subsets give the same rows
    assert_allclose(glad.predict_proba(Y[:7]), glad.predict_proba(Y)[:7], atol=1e-8)


def test_class_prior_options():
    Y, _ = make_crowd(2, n_classes=3)
    assert_allclose(GLAD().fit(Y).class_prior_, np.full(3, 1 / 3))
    est = GLAD(class_prior="estimate").fit(Y)
    assert_allclose(est.class_prior_, est.proba_.mean(axis=0), atol=1e-2)
    fixed = GLAD(class_prior=[2, 1, 1]).fit(Y)
    assert_allclose(fixed.class_prior_, [0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="class_prior must have shape"):
        GLAD(class_prior=[1, 1]).fit(Y)
    with pytest.raises(ValueError, match="non-negative"):
        GLAD(class_prior=[1, -1, 1]).fit(Y)


def test_single_class_and_strings():
    Y = np.array([["a", "a"], ["a", None]], dtype=object)
    glad = GLAD().fit(Y)
    assert_array_equal(glad.labels_, ["a", "a"])
    assert_allclose(glad.proba_, 1.0)


# accuracy measured on the five sets at the defaults (crowd-kit 1.4.2's GLAD
# reaches the same: 0.722, 0.834, 0.925, 0.935, 0.928, the last in 262 s)
REAL = {"bluebirds": 0.722, "dog": 0.834, "rte": 0.925, "temp": 0.935, "product": 0.928}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_accuracy(name):
    pd = pytest.importorskip("pandas")
    folder = DATA / name
    if not (folder / "answers.csv").exists():
        pytest.skip(f"{folder} is absent")
    answers = pd.read_csv(folder / "answers.csv")
    gold = pd.read_csv(folder / "gold.csv")
    Y, tasks, _, classes = crowd_matrix_from_long(answers, sparse=True)
    glad = GLAD().fit(Y)
    row = pd.Series(np.arange(len(tasks)), index=tasks).loc[gold["task"]].to_numpy()
    predicted = classes[glad.labels_[row].astype(int)]
    accuracy = np.mean(predicted == gold["label"].to_numpy())
    assert accuracy >= REAL[name] - 0.005, accuracy
