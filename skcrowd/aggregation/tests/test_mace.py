"""Tests of MACE (spamming vs. competent workers)."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcrowd.aggregation import MACE
from skcrowd.utils import crowd_matrix_from_long

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "truth_inference"


def make_crowd(seed, n_items=60, n_workers=8, n_classes=3, density=0.5):
    """A random crowd drawn from the MACE model: (Y with NaN, truth, spam rates)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(n_classes, size=n_items)
    spam = rng.uniform(0.05, 0.9, size=n_workers)
    strategy = rng.dirichlet(np.full(n_classes, 0.5), size=n_workers)
    spamming = rng.random((n_items, n_workers)) < spam
    cum = strategy.cumsum(axis=1)[None, :, :]
    drawn = (rng.random((n_items, n_workers, 1)) > cum).sum(axis=-1)
    labels = np.where(spamming, np.minimum(drawn, n_classes - 1), truth[:, None])
    observed = rng.random((n_items, n_workers)) < density
    observed[np.arange(n_items), rng.integers(n_workers, size=n_items)] = True
    return np.where(observed, labels.astype(float), np.nan), truth, spam


def to_sparse(Y):
    rows, cols = np.nonzero(~np.isnan(Y))
    return sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)


TRUTH = np.array([0, 1, 0, 1, 0, 1, 1, 0])
TOY = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, np.nan, 0]])


def test_reliable_worker_beats_constant_spammer():
    # workers 0, 1 always right; worker 2 says 1 whatever the item
    Y = np.column_stack([TRUTH, TRUTH, np.ones_like(TRUTH)]).astype(float)
    mace = MACE().fit(Y)
    assert_array_equal(mace.labels_, TRUTH)
    assert mace.skill_[0] > 0.99 and mace.skill_[1] > 0.99
    assert mace.skill_[2] < 0.01
    # his labels are explained by his strategy, "always 1"
    assert_allclose(mace.spam_strategy_[2], [0, 1], atol=1e-2)


def test_competence_orders_workers():
    # worker 0 always right, worker 1 right on 6 of 8, worker 2 on 4 of 8
    w1 = TRUTH.copy()
    w1[[0, 1]] = 1 - w1[[0, 1]]
    w2 = TRUTH.copy()
    w2[[2, 3, 4, 5]] = 1 - w2[[2, 3, 4, 5]]
    Y = np.column_stack([TRUTH, TRUTH, w1, w2]).astype(float)
    mace = MACE().fit(Y)
    assert_array_equal(mace.labels_, TRUTH)
    assert mace.skill_[0] > mace.skill_[2] > mace.skill_[3]


def test_one_em_step_by_hand():
    # majority-vote start: q = [2/3, 1/3], [0, 1], [1, 0], [1/2, 1/2]; the
    # M-step's spam posteriors come from theta = 1/2, xi uniform, so a label
    # naming the truth is spam with probability (1/4) / (1/4 + 1/2) = 1/3:
    # E[competent] = 2/3 q_{i,label}, E[spam] = 1 - E[competent]
    mace = MACE(max_iter=1, smoothing=0, class_prior="uniform").fit(TOY)
    # worker 0: q at its labels 2/3, 1, 1, 1/2 -> 2/3 * 19/6 competent of 4
    # worker 1: 2/3, 1, 1 -> 2/3 * 8/3 of 3; worker 2: 1/3, 1, 1, 1/2 -> 17/9 of 4
    assert_allclose(mace.skill_, [19 / 36, 16 / 27, 17 / 36])
    # spam counts per label: worker 0 gave 0 on items 0, 2 (5/9 + 1/3) and 1
    # on items 1, 3 (1/3 + 2/3)
    assert_allclose(mace.spam_strategy_[0], [8 / 17, 9 / 17])
    assert_allclose(mace.spam_strategy_[1], [8 / 11, 3 / 11])
    assert_allclose(mace.spam_strategy_[2], [9 / 19, 10 / 19])
    # the E-step: posterior proportional to the product of confusion entries
    conf = mace.confusion_
    codes = np.nan_to_num(TOY, nan=-1).astype(int)
    joint = np.ones((4, 2))
    for i, r in zip(*np.nonzero(codes >= 0), strict=True):
        joint[i] *= conf[r, :, codes[i, r]]
    assert_allclose(mace.proba_, joint / joint.sum(axis=1, keepdims=True))


def test_confusion_from_competence_and_strategy():
    Y, _, _ = make_crowd(0, n_classes=4)
    mace = MACE().fit(Y)
    conf = mace.confusion_
    assert conf.shape == (8, 4, 4)
    assert_allclose(conf.sum(axis=2), 1)
    theta = 1 - mace.skill_
    expected = theta[:, None, None] * mace.spam_strategy_[:, None, :]
    expected = expected + mace.skill_[:, None, None] * np.eye(4)
    assert_allclose(conf, expected)
    assert not hasattr(MACE(), "confusion_")  # not fitted


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"smoothing": 0, "class_prior": "uniform"},
        {"competence_prior": (2, 1), "strategy_prior": 3},
    ],
)
def test_objective_never_decreases(seed, kwargs):
    Y, _, _ = make_crowd(seed, n_classes=2 + seed % 3)
    mace = MACE(tol=0, max_iter=80, **kwargs).fit(Y)
    steps = np.diff(mace.log_likelihood_)
    assert np.all(steps >= -1e-9 * np.abs(mace.log_likelihood_[1:])), steps.min()


@pytest.mark.parametrize("seed", range(3))
def test_objective_never_decreases_with_gold_and_restarts(seed):
    Y, truth, _ = make_crowd(seed, n_classes=3)
    gold = np.where(np.arange(len(truth)) % 4 == 0, truth.astype(float), np.nan)
    mace = MACE(tol=0, max_iter=60, n_restarts=3, random_state=seed)
    mace.fit(Y, y_gold=gold)
    steps = np.diff(mace.log_likelihood_)
    assert np.all(steps >= -1e-9 * np.abs(mace.log_likelihood_[1:]))


def test_recovers_truth_and_competence():
    Y, truth, spam = make_crowd(1, n_items=400, n_workers=10, density=0.6)
    mace = MACE().fit(Y)
    assert np.mean(mace.labels_ == truth) > 0.9
    assert np.corrcoef(mace.skill_, 1 - spam)[0, 1] > 0.9


def test_restarts_are_seeded_and_keep_the_best_run():
    Y, _, _ = make_crowd(4, n_classes=3)
    single = MACE().fit(Y)
    a = MACE(n_restarts=4, random_state=0).fit(Y)
    b = MACE(n_restarts=4, random_state=0).fit(Y)
    assert_allclose(a.proba_, b.proba_)
    # the first run starts from the majority vote, as with n_restarts=1
    assert a.log_likelihood_[-1] >= single.log_likelihood_[-1] - 1e-9


def test_thousand_labels_on_one_item():
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(1000) < 0.7, 2, rng.integers(2, size=1000))
    Y = np.vstack([labels, np.full(1000, np.nan)]).astype(float)
    Y[1, :3] = [0, 0, 1]
    for kwargs in ({}, {"smoothing": 0}):
        mace = MACE(**kwargs).fit(Y)
        assert np.all(np.isfinite(mace.proba_))
        assert np.all(np.isfinite(mace.log_likelihood_))
        assert_allclose(mace.proba_.sum(axis=1), 1)
        assert mace.labels_[0] == 2


def test_many_classes():
    rng = np.random.default_rng(1)
    n_items, k = 1000, 1000
    truth = rng.permutation(np.arange(n_items) % k)
    Y = np.tile(truth[:, None], (1, 3)).astype(float)
    noisy = rng.random(Y.shape) < 0.2
    noisy[:, 0] = False  # worker 0 is always right: every class is observed
    Y[noisy] = rng.integers(k, size=noisy.sum())
    mace = MACE(tol=1e-5).fit(Y)
    assert len(mace.classes_) == k
    assert mace.spam_strategy_.shape == (3, k)
    assert np.all(np.isfinite(mace.proba_))
    assert np.mean(mace.labels_ == truth) > 0.95
    assert mace.skill_[0] > mace.skill_[1]


def test_gold_is_clamped():
    # worker 2 says 1 always; gold says item 0 is 1, against workers 0 and 1
    Y = np.column_stack([TRUTH, TRUTH, np.ones_like(TRUTH)]).astype(float)
    gold = np.full(len(TRUTH), np.nan)
    gold[[0, 2]] = 1
    mace = MACE().fit(Y, y_gold=gold)
    assert_array_equal(mace.proba_[[0, 2]], [[0, 1], [0, 1]])
    assert_array_equal(mace.labels_[[0, 2]], [1, 1])
    without = MACE().fit(Y)
    # workers 0 and 1 were wrong twice: less competent than without gold
    assert mace.skill_[0] < without.skill_[0]


def test_sparse_equals_dense():
    Y, _, _ = make_crowd(3, n_classes=3)
    Y = Y + 1  # labels 1..3: no zero among the stored values
    dense = MACE(n_restarts=2, random_state=0).fit(Y)
    sparse = MACE(n_restarts=2, random_state=0).fit(to_sparse(Y))
    assert_array_equal(dense.classes_, sparse.classes_)
    assert_allclose(dense.proba_, sparse.proba_, atol=1e-12)
    assert_allclose(dense.skill_, sparse.skill_, atol=1e-12)
    assert_allclose(dense.log_likelihood_, sparse.log_likelihood_)


def test_predict_proba_on_training_crowd():
    Y, _, _ = make_crowd(5)
    mace = MACE().fit(Y)
    assert_allclose(mace.predict_proba(Y), mace.proba_)
    assert_allclose(mace.predict_proba(Y[:7]), mace.proba_[:7])


def test_priors():
    Y, _, _ = make_crowd(2, n_classes=3)
    confident = MACE(competence_prior=(1000, 0)).fit(Y)
    assert np.all(confident.skill_ > 0.9)
    flat = MACE(strategy_prior=1e6).fit(Y)
    assert_allclose(flat.spam_strategy_, 1 / 3, atol=1e-3)
    assert_allclose(MACE(class_prior="uniform").fit(Y).class_prior_, 1 / 3)
    assert_allclose(MACE(class_prior=[2, 1, 1]).fit(Y).class_prior_, [0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="competence_prior"):
        MACE(competence_prior=(1, -1)).fit(Y)
    with pytest.raises(ValueError, match="strategy_prior"):
        MACE(strategy_prior=[1, 1]).fit(Y)
    with pytest.raises(ValueError, match="class_prior must have shape"):
        MACE(class_prior=[1, 1]).fit(Y)


def test_string_labels_and_worker_report():
    pytest.importorskip("pandas")
    Y = np.array([["cat", "cat", "dog"], ["dog", "dog", "dog"], ["cat", None, "dog"]],
                 dtype=object)
    mace = MACE().fit(Y)
    assert_array_equal(mace.labels_, ["cat", "dog", "cat"])
    report = mace.worker_report()
    assert list(report["n_labels"]) == [3, 2, 3]
    assert report["confusion"][0].shape == (2, 2)


# accuracy measured on the five sets at the defaults (crowd-kit 1.4.2's MACE:
# 0.722, 0.835, 0.925, 0.939, 0.929)
REAL = {"bluebirds": 0.889, "dog": 0.834, "rte": 0.929, "temp": 0.942, "product": 0.939}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_accuracy(name):
    pd = pytest.importorskip("pandas")
    folder = DATA / name
    if not (folder / "answers.csv").exists():
        pytest.skip(f"{folder} is absent")
    answers = pd.read_csv(folder / "answers.csv")
    gold = pd.read_csv(folder / "gold.csv")
    Y, tasks, _, classes = crowd_matrix_from_long(answers, sparse=True)
    mace = MACE().fit(Y)
    row = pd.Series(np.arange(len(tasks)), index=tasks).loc[gold["task"]].to_numpy()
    predicted = classes[mace.labels_[row].astype(int)]
    accuracy = np.mean(predicted == gold["label"].to_numpy())
    assert accuracy >= REAL[name] - 0.005, accuracy
