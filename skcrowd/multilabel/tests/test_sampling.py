"""BBSN's samplers and pairs."""

import numpy as np
import pytest

from skcrowd.multilabel._base import tune_thresholds, validation_split
from skcrowd.multilabel._sampling import (
    category_documents,
    category_weights,
    draw_pairs,
    pair_targets,
)

# 3 labels with 6, 2 and 1 documents; document 8 has labels 1 and 2
Y = np.array(
    [
        [1, 0, 0],
        [1, 0, 0],
        [1, 0, 0],
        [1, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 1, 1],
    ]
)


def test_category_documents():
    docs, offsets = category_documents(Y)
    assert offsets.tolist() == [0, 6, 8, 9]
    assert docs[0:6].tolist() == [0, 1, 2, 3, 4, 5]
    assert docs[6:8].tolist() == [5, 8]
    assert docs[8:].tolist() == [8]


def test_category_weights_reversed_and_uniform():
    counts = np.array([6, 2, 1, 0])
    rev = category_weights(counts, "reversed")
    np.testing.assert_allclose(rev, np.array([1, 3, 6, 0]) / 10)
    np.testing.assert_allclose(
        category_weights(counts, "uniform"), [6 / 9, 2 / 9, 1 / 9, 0]
    )
    with pytest.raises(ValueError, match="No category"):
        category_weights([0, 0], "reversed")


def expected_doc_frequency(p_cat):
    docs, offsets = category_documents(Y)
    freq = np.zeros(len(Y))
    for c, p in enumerate(p_cat):
        members = docs[offsets[c] : offsets[c + 1]]
        freq[members] += p / len(members)
    return freq


@pytest.mark.parametrize("seed", [0, 1])
def test_reversed_and_instance_sampler_frequencies(seed):
    n = 60_000
    pairs = draw_pairs(Y, n, "instance", np.random.default_rng(seed))
    rev = np.bincount(pairs[:, 0], minlength=len(Y)) / n
    uni = np.bincount(pairs[:, 1], minlength=len(Y)) / n
    # reversed: P(c) = (1, 3, 6)/10; instance: (6, 2, 1)/9; then uniform in c
    np.testing.assert_allclose(rev, expected_doc_frequency([0.1, 0.3, 0.6]), atol=0.01)
    np.testing.assert_allclose(
        uni, expected_doc_frequency([6 / 9, 2 / 9, 1 / 9]), atol=0.01
    )
    # unlabelled documents are never drawn by a category sampler
    assert rev[6] == rev[7] == uni[6] == uni[7] == 0


def test_sequential_sampler_is_one_pass():
    pairs = draw_pairs(Y, len(Y), "sequential", np.random.default_rng(0))
    assert pairs[:, 1].tolist() == list(range(len(Y)))


def test_soft_labels_count_from_one_half():
    soft = np.array([[0.9, 0.2], [0.6, 0.4], [0.1, 0.7]])
    docs, offsets = category_documents(soft)
    assert docs[offsets[0] : offsets[1]].tolist() == [0, 1]
    assert docs[offsets[1] : offsets[2]].tolist() == [2]


def test_pair_targets_are_intersection_and_union():
    a = np.array([[1, 1, 0, 0], [0.5, 1, 0, 1]])
    b = np.array([[1, 0, 1, 0], [0.5, 1, 1, 0]])
    g, m = pair_targets(a, b)
    np.testing.assert_allclose(g, [[1, 0, 0, 0], [0.25, 1, 0, 0]])
    np.testing.assert_allclose(m, [[1, 1, 1, 0], [0.75, 1, 1, 1]])


def test_validation_split_keeps_a_training_document_per_label():
    rng = np.random.default_rng(0)
    for _ in range(20):
        train, valid = validation_split(Y, 0.5, rng)
        assert len(np.intersect1d(train, valid)) == 0
        assert len(train) + len(valid) == len(Y)
        assert (Y[train].sum(axis=0) > 0).all()


def test_tuned_thresholds_are_clipped():
    proba = np.array([[0.01, 0.99], [0.005, 0.98], [0.002, 0.97]])
    truth = np.array([[1, 1], [0, 1], [0, 1]])
    t = tune_thresholds(proba, truth, shrinkage=0)
    assert t.tolist() == [0.1, 0.9]


def test_tuned_thresholds_shrink_towards_the_global_one():
    rng = np.random.default_rng(1)
    truth = rng.random((300, 4)) < [0.3, 0.3, 0.01, 0.01]
    proba = np.clip(truth * 0.4 + rng.random((300, 4)) * 0.5, 0, 1)
    own = tune_thresholds(proba, truth, shrinkage=0, bounds=(0, 1))
    shrunk = tune_thresholds(proba, truth, shrinkage=4, bounds=(0, 1))
    n = truth.sum(axis=0)
    # the global threshold is the same in both; each label moves towards it
    # by 4 / (n_c + 4)
    assert 0 < n[2] < 10 and n[0] > 50
    glob = (shrunk * (n + 4) - n * own) / 4
    np.testing.assert_allclose(glob, glob[0])
    huge = tune_thresholds(proba, truth, shrinkage=1e12, bounds=(0, 1))
    np.testing.assert_allclose(huge, glob[0])


def test_tuned_thresholds_maximise_each_label_f1():
    rng = np.random.default_rng(0)
    truth = rng.random((200, 3)) < 0.3
    proba = 0.1 + 0.8 * np.clip(truth * 0.3 + rng.random((200, 3)) * 0.5, 0, 1)
    t = tune_thresholds(proba, truth, shrinkage=0)
    for c in range(3):
        f1 = []
        for cut in np.unique(proba[:, c]):
            p = proba[:, c] >= cut
            tp = (p & truth[:, c]).sum()
            f1.append(2 * tp / (p.sum() + truth[:, c].sum()))
        p = proba[:, c] >= t[c]
        got = 2 * (p & truth[:, c]).sum() / (p.sum() + truth[:, c].sum())
        assert got == pytest.approx(max(f1))


_P = np.array([[0.9, 0.2], [0.4, 0.1], [0.3, 0.3]])
_T = np.array([[1, 0], [1, 0], [0, 0]])
BAD_TUNE_ARGS = [
    # no check at all: IndexError, NaN thresholds or silently swapped bounds
    (dict(Y=_T[:, :1]), "one shape"),
    (dict(proba=_P[:, 0], Y=_T[:, 0]), "one shape"),
    (dict(proba=np.where(_P > 0.5, np.nan, _P)), "NaN"),
    (dict(proba=_P * 3), r"\[0, 1\]"),
    (dict(proba=np.empty((0, 2)), Y=np.empty((0, 2))), "empty"),
    (dict(bounds=(0.9, 0.1)), "low <= high"),
    (dict(bounds=(np.nan, 0.9)), "low <= high"),
    (dict(bounds=0.5), "pair"),
    (dict(shrinkage=np.nan), "shrinkage"),
    (dict(shrinkage=-2), "shrinkage"),
    (dict(default=np.nan), "default"),
]


@pytest.mark.parametrize("kwargs, match", BAD_TUNE_ARGS)
def test_tune_thresholds_bad_input(kwargs, match):
    kwargs = {"proba": _P, "Y": _T, **kwargs}
    with pytest.raises(ValueError, match=match):
        tune_thresholds(**kwargs)
