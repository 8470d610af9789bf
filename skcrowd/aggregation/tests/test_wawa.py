"""Tests of Wawa and ZeroBasedSkill (agreement-weighted majority votes)."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcrowd.aggregation import MajorityVote, Wawa, ZeroBasedSkill

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "truth_inference"


def make_crowd(seed, n_items=60, n_workers=8, n_classes=3, density=0.5):
    """A small random one-coin crowd (NaN for missing) and its truth."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(n_classes, size=n_items)
    skill = rng.uniform(0.2, 0.95, size=n_workers)
    observed = rng.random((n_items, n_workers)) < density
    observed[np.arange(n_items), rng.integers(n_workers, size=n_items)] = True
    right = rng.random((n_items, n_workers)) < skill
    wrong = (truth[:, None] + rng.integers(1, n_classes, (n_items, n_workers)))
    labels = np.where(right, truth[:, None], wrong % n_classes)
    return np.where(observed, labels.astype(float), np.nan), truth


def to_sparse(Y):
    rows, cols = np.nonzero(~np.isnan(Y))
    return sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)


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


def test_wawa_by_hand():
    wawa = Wawa(random_state=0).fit(OUTVOTED)
    # majority vote: items 0-5 follow A and B, item 6 goes to C, D, E
    assert_array_equal(MajorityVote().fit(OUTVOTED).labels_[6], 1)
    assert_allclose(wawa.skill_, [6 / 7, 6 / 7, 3 / 7, 3 / 7, 3 / 7])
    # weighted vote on item 6: 2 * 6/7 for 0 against 3 * 3/7 for 1
    assert_allclose(wawa.proba_[6], [12 / 21, 9 / 21])
    # item 0: A, B, C (6/7, 6/7, 3/7) against D, E (3/7, 3/7)
    assert_allclose(wawa.proba_[0], [15 / 21, 6 / 21])
    assert_array_equal(wawa.labels_, [0, 1, 0, 1, 0, 1, 0])


def test_zero_based_skill_by_hand():
    zbs = ZeroBasedSkill(random_state=0).fit(OUTVOTED)
    # it. 1 (plain vote): skills 6/7 and 3/7; it. 2: item 6 flips to 0,
    # skills 1 and 2/7; it. 3: nothing moves, stop
    assert_allclose(zbs.skill_, [1, 1, 2 / 7, 2 / 7, 2 / 7])
    assert zbs.n_iter_ == 3
    assert_array_equal(zbs.labels_, [0, 1, 0, 1, 0, 1, 0])


def test_zero_based_skill_learning_rate_schedule_by_hand():
    zbs = ZeroBasedSkill(lr=0.5, lr_steps_to_reduce=2, lr_reduce_factor=0.5,
                         n_iter=3, random_state=0).fit(OUTVOTED)
    # skills start at 1/2. it. 1, lr 1/2, plain vote: A -> 19/28, C -> 13/28
    # it. 2, lr 1/4 (halved at every 2nd iteration): item 6 still 1 (38 vs
    # 39 / 28): A -> 81/112, C -> 51/112
    # it. 3, lr 1/4: item 6 flips (162 vs 153 / 112): A agrees on 7/7,
    # C on 2/7: A -> 355/448, C -> 185/448
    assert_allclose(zbs.skill_, [355 / 448] * 2 + [185 / 448] * 3)
    assert zbs.n_iter_ == 3
    assert zbs.labels_[6] == 0
    # the labels are the vote with the final skills: after one iteration
    # item 6 still goes to C, D, E (38 vs 39 / 28), after two it flips
    one = ZeroBasedSkill(lr=0.5, n_iter=1, random_state=0).fit(OUTVOTED)
    assert_allclose(one.skill_, [19 / 28] * 2 + [13 / 28] * 3)
    assert one.labels_[6] == 1
    two = ZeroBasedSkill(lr=0.5, lr_steps_to_reduce=2, n_iter=2,
                         random_state=0).fit(OUTVOTED)
    assert_allclose(two.skill_, [81 / 112] * 2 + [51 / 112] * 3)
    assert two.labels_[6] == 0


@pytest.mark.parametrize("seed", range(5))
def test_zero_based_skill_stops_at_a_fixed_point(seed):
    Y, _ = make_crowd(seed)
    zbs = ZeroBasedSkill(random_state=0).fit(Y)
    assert zbs.n_iter_ < 100
    # the skills are the agreements with the labels they vote for
    observed = ~np.isnan(Y)
    agreement = ((Y == zbs.labels_[:, None]) & observed).sum(0) / observed.sum(0)
    assert_allclose(zbs.skill_, agreement)


def test_gold_is_clamped_before_agreement():
    gold = np.full(7, np.nan)
    gold[6] = 0
    wawa = Wawa(random_state=0).fit(OUTVOTED, y_gold=gold)
    # item 6 counts as 0 for the skills too: A, B agree 7/7, C, D, E 2/7
    assert_allclose(wawa.skill_, [1, 1, 2 / 7, 2 / 7, 2 / 7])
    assert_allclose(wawa.proba_[6], [1, 0])
    gold[6] = 1  # against the weighted vote
    for est in (Wawa(random_state=0), ZeroBasedSkill(random_state=0)):
        est.fit(OUTVOTED, y_gold=gold)
        assert est.labels_[6] == 1
        assert_allclose(est.proba_[6], [0, 1])
    assert_allclose(est.skill_, [6 / 7, 6 / 7, 3 / 7, 3 / 7, 3 / 7])


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_predict_proba_uses_fitted_skills(cls):
    est = cls(random_state=0).fit(OUTVOTED)
    assert_allclose(est.predict_proba(OUTVOTED), est.proba_)
    assert_array_equal(est.predict(OUTVOTED), est.labels_)
    new = np.array([[0, 0, 1, 1, 1], [np.nan, 1, 0, np.nan, np.nan]])
    s = est.skill_
    expected = np.array([[s[0] + s[1], s[2] + s[3] + s[4]], [s[2], s[1]]])
    assert_allclose(est.predict_proba(new),
                    expected / expected.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_worker_without_labels(cls):
    Y = np.column_stack([OUTVOTED, np.full(7, np.nan)]).astype(float)
    est = cls(random_state=0).fit(Y)
    assert np.isnan(est.skill_[5])
    # their votes weigh nothing; alone, they leave the item uniform
    assert_allclose(est.predict_proba([[np.nan] * 5 + [1]]), [[0.5, 0.5]])
    assert_allclose(est.predict_proba([[0, np.nan, np.nan, np.nan, np.nan, 1]]),
                    [[1, 0]])


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_seeded_tie_breaking(cls):
    Y = np.array([[0, 1], [1, 0], [0, 1], [2, 2]] * 5)  # ties between workers
    runs = [cls(random_state=seed).fit(Y).labels_ for seed in range(6)]
    assert_array_equal(cls(random_state=3).fit(Y).labels_, runs[3])
    assert any(not np.array_equal(runs[0], r) for r in runs[1:])


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_sparse_equals_dense(cls):
    Y, _ = make_crowd(2)
    dense = cls(random_state=0).fit(Y)
    sparse = cls(random_state=0).fit(to_sparse(Y))
    assert_allclose(sparse.proba_, dense.proba_)
    assert_allclose(sparse.skill_, dense.skill_)
    assert_array_equal(sparse.labels_, dense.labels_)


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_beats_majority_vote(cls):
    accs = []
    for seed in range(5):
        Y, truth = make_crowd(seed, n_items=300)
        accs.append([np.mean(cls(random_state=0).fit(Y).labels_ == truth),
                     np.mean(MajorityVote(random_state=0).fit(Y).labels_ == truth)])
    ours, mv = np.mean(accs, axis=0)
    assert ours > mv


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
def test_thousand_labels_on_one_item_and_many_classes(cls):
    rng = np.random.default_rng(0)
    Y = np.full((3, 1000), np.nan)
    Y[0] = np.where(rng.random(1000) < 0.7, 1, rng.integers(0, 1000, 1000))
    Y[1, :5] = [0, 0, 0, 2, 0]
    Y[2, 5:9] = [2, 2, 1, 2]
    est = cls(random_state=0).fit(to_sparse(Y))
    assert len(est.classes_) > 250
    assert np.all(np.isfinite(est.proba_))
    assert_array_equal(est.labels_, [1, 0, 2])


# -- real data ----------------------------------------------------------------
# crowd-kit 1.4.2 (run outside the tests, its check_is_fitted patched for
# scikit-learn 1.9); the small differences are tie-breaking: crowd-kit takes
# the first label in order of appearance, skcrowd a seeded random one
REAL = {
    "Wawa": {"bluebirds": 0.759, "dog": 0.829, "rte": 0.919, "temp": 0.944,
             "product": 0.897},
    "ZeroBasedSkill": {"bluebirds": 0.759, "dog": 0.830, "rte": 0.921,
                       "temp": 0.944, "product": 0.897},
}


@pytest.mark.parametrize("cls", [Wawa, ZeroBasedSkill])
@pytest.mark.parametrize("name", sorted(REAL["Wawa"]))
def test_real_data_accuracy(name, cls):
    pd = pytest.importorskip("pandas")
    from skcrowd.utils import crowd_matrix_from_long

    folder = DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    answers = pd.read_csv(folder / "answers.csv")
    gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
    Y, tasks, _, _ = crowd_matrix_from_long(answers)
    est = cls(random_state=0).fit(Y)
    pred = pd.Series(est.labels_, index=tasks).reindex(gold.index)
    acc = float(np.mean(pred.to_numpy() == gold.to_numpy()))
    print(f"{name}: {cls.__name__} accuracy {acc:.3f}")
    assert acc >= REAL[cls.__name__][name] - 0.005
