"""Tests of the crowd simulators."""

import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.datasets import make_crowd_classification, simulate_crowd
from skcrowd.utils import check_crowd_matrix, is_missing_label

PROFILES = [
    "reliable",
    "uniform_spammer",
    "constant_spammer",
    "adversarial",
    "confusion",
]


@pytest.fixture(params=[0, 7, 42])
def seed(request):
    """Several seeds, so that no test relies on one lucky draw."""
    return request.param


def _labelled(Y):
    return ~is_missing_label(Y)


def _measured_confusion(Y, y_true, r, K):
    m = _labelled(Y[:, r])
    counts = np.zeros((K, K))
    np.add.at(counts, (y_true[m], Y[m, r].astype(int)), 1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def test_shapes_and_labels_per_item(seed):
    X, Y, y_true = make_crowd_classification(
        n_samples=300, n_features=7, n_classes=4, n_workers=9, labels_per_item=4,
        random_state=seed,
    )
    assert X.shape == (300, 7) and Y.shape == (300, 9) and y_true.shape == (300,)
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(_labelled(Y).sum(axis=1), 4)
    assert set(np.unique(Y[_labelled(Y)])) <= {0, 1, 2, 3}
    assert set(np.unique(y_true)) == {0, 1, 2, 3}
    crowd = check_crowd_matrix(Y, n_samples=len(X))
    assert crowd.n_labels == 300 * 4


def test_labels_per_item_equal_n_workers():
    Y = simulate_crowd(np.arange(50) % 2, n_workers=4, labels_per_item=4,
                       random_state=0)
    assert _labelled(Y).all()


def test_worker_pool_is_uniform():
    # every worker gets about n * m / W items; pairs of workers co-occur
    Y = simulate_crowd(np.arange(20000) % 3, n_workers=10, labels_per_item=3,
                       random_state=0)
    per_worker = _labelled(Y).sum(axis=0)
    np.testing.assert_allclose(per_worker, 6000, rtol=0.05)
    # many labels per item uses the other sampler: still distinct and uniform
    Y = simulate_crowd(np.arange(5000) % 3, n_workers=40, labels_per_item=20,
                       sparse=True, random_state=0)
    np.testing.assert_array_equal(np.diff(Y.indptr), 20)
    assert (np.diff(Y.indices.reshape(5000, 20), axis=1) > 0).all()
    np.testing.assert_allclose(np.bincount(Y.indices), 2500, rtol=0.08)


def test_seeding(seed):
    kwargs = dict(n_samples=200, n_workers=7, instance_dependent=0.5,
                  worker_profiles={"reliable": 0.6, "confusion": 0.4})
    a = make_crowd_classification(random_state=seed, return_info=True, **kwargs)
    b = make_crowd_classification(random_state=seed, return_info=True, **kwargs)
    for key in ("X", "Y", "y_true", "confusion", "worker_direction"):
        np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(a.worker_profiles, b.worker_profiles)
    c = make_crowd_classification(random_state=seed + 1, **kwargs)
    assert not np.array_equal(a.Y, c[1], equal_nan=True)
    # a RandomState instance is accepted (and advanced)
    rs = np.random.RandomState(seed)
    _, Y1, _ = make_crowd_classification(random_state=rs, **kwargs)
    _, Y2, _ = make_crowd_classification(random_state=rs, **kwargs)
    assert not np.array_equal(Y1, Y2, equal_nan=True)


def test_profiles_behave_as_specified(seed):
    K = 3
    profiles = [p for p in PROFILES for _ in range(2)]
    info = make_crowd_classification(
        n_samples=6000, n_classes=K, n_workers=len(profiles), labels_per_item=5,
        worker_profiles=profiles, random_state=seed, return_info=True,
    )
    Y, y_true = info.Y, info.y_true
    np.testing.assert_array_equal(info.worker_profiles, profiles)
    assert info.confusion.shape == (10, K, K)
    np.testing.assert_allclose(info.confusion.sum(axis=2), 1.0)
    labelled = _labelled(Y)
    measured = np.array(
        [np.mean(Y[labelled[:, r], r] == y_true[labelled[:, r]]) for r in range(10)]
    )
    # the reported accuracies are the measured ones
    np.testing.assert_allclose(measured, info.worker_accuracy, atol=0.04)
    for r, profile in enumerate(profiles):
        conf = _measured_confusion(Y, y_true, r, K)
        np.testing.assert_allclose(conf, info.confusion[r], atol=0.08)
        given = np.unique(Y[labelled[:, r], r])
        if profile == "reliable":
            assert 0.65 < measured[r] < 0.97
            assert np.all(np.diag(conf) > 0.6)
        elif profile == "uniform_spammer":
            np.testing.assert_allclose(conf, 1 / K, atol=0.06)
        elif profile == "constant_spammer":
            assert len(given) == 1
        elif profile == "adversarial":
            assert measured[r] < 1 / K - 0.05
            # systematically wrong: each class mostly goes to one other class
            assert np.all(conf.max(axis=1) > 0.6)
            assert np.all(conf.argmax(axis=1) != np.arange(K))
        else:  # confusion: one class pair mixed up, the other class fine
            off = conf - np.diag(np.diag(conf))
            assert off.max() > 0.2
            assert np.sort(np.diag(conf))[-1] > 0.7
    reliable = measured[[p == "reliable" for p in profiles]]
    spammers = measured[[p.endswith("spammer") for p in profiles]]
    assert reliable.min() > spammers.max() + 0.2


def test_adversarial_below_chance_binary():
    info = simulate_crowd(np.arange(400) % 2, n_workers=5, labels_per_item=5,
                          worker_profiles="adversarial", random_state=0,
                          return_info=True)
    assert np.all(info.worker_accuracy < 0.5)
    assert np.all(np.mean(info.Y == (np.arange(400) % 2)[:, None], axis=0) < 0.4)


def test_profiles_from_dict():
    info = simulate_crowd(
        np.arange(100) % 2, n_workers=10,
        worker_profiles={"reliable": 0.55, "uniform_spammer": 0.25,
                         "adversarial": 0.2},
        random_state=0, return_info=True,
    )
    names, counts = np.unique(info.worker_profiles, return_counts=True)
    # largest remainder: 5.5, 2.5, 2 -> the first tied remainder wins
    assert dict(zip(names.tolist(), counts.tolist(), strict=True)) == {
        "reliable": 6, "uniform_spammer": 2, "adversarial": 2
    }
    # a single profile name applies to every worker
    info = simulate_crowd(np.arange(10) % 2, n_workers=3, worker_profiles="confusion",
                          return_info=True)
    assert list(info.worker_profiles) == ["confusion"] * 3


def test_instance_dependent_accuracy_varies_with_X(seed):
    def accuracy_gap(instance_dependent):
        info = make_crowd_classification(
            n_samples=4000, n_features=5, n_classes=2, n_workers=6,
            labels_per_item=6, instance_dependent=instance_dependent,
            random_state=seed, return_info=True,
        )
        X, Y, y_true = info.X, info.Y, info.y_true
        Xs = (X - X.mean(axis=0)) / X.std(axis=0)
        rng = np.random.RandomState(seed)
        gaps = []
        for r in range(6):
            direction = (
                info.worker_direction[r] if instance_dependent > 0
                else rng.standard_normal(X.shape[1])
            )
            z = Xs @ direction
            correct = Y[:, r] == y_true
            low, high = z < np.quantile(z, 0.25), z > np.quantile(z, 0.75)
            gaps.append(correct[low].mean() - correct[high].mean())
        return np.array(gaps), info

    gaps, info = accuracy_gap(1.0)
    # each worker is clearly worse where X projects high on their direction
    assert np.all(gaps > 0.1)
    assert info.worker_direction.shape == (6, 5)
    np.testing.assert_allclose(np.linalg.norm(info.worker_direction, axis=1), 1.0)
    gaps0, info0 = accuracy_gap(0.0)
    assert info0.worker_direction is None
    assert np.all(np.abs(gaps0) < 0.08)


def test_instance_dependent_keeps_workers_and_assignment():
    kwargs = dict(n_samples=500, n_workers=8, random_state=3)
    _, Y0, _ = make_crowd_classification(**kwargs)
    _, Y1, _ = make_crowd_classification(instance_dependent=0.3, **kwargs)
    np.testing.assert_array_equal(_labelled(Y0), _labelled(Y1))
    agree = np.mean(Y0[_labelled(Y0)] == Y1[_labelled(Y1)])
    assert 0.7 < agree < 1.0


def test_class_imbalance():
    _, _, y_true = make_crowd_classification(
        n_samples=5000, n_classes=3, class_weights=[0.7, 0.2, 0.1], random_state=0
    )
    np.testing.assert_allclose(np.bincount(y_true) / 5000, [0.7, 0.2, 0.1], atol=0.02)


def test_sparse_equals_dense(seed):
    kwargs = dict(
        n_samples=400, n_classes=3, n_workers=12, labels_per_item=4,
        worker_profiles={"reliable": 0.5, "constant_spammer": 0.5},
        instance_dependent=0.4, random_state=seed,
    )
    X, Y, y_true = make_crowd_classification(**kwargs)
    Xs, Ys, ys = make_crowd_classification(sparse=True, **kwargs)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y_true, ys)
    assert isinstance(Ys, sp.csr_array)
    assert Ys.shape == Y.shape and Ys.nnz == 400 * 4
    coo = Ys.tocoo()
    assert (coo.data == 0).any()  # explicit zeros are stored labels
    rows, cols = np.nonzero(_labelled(Y))
    np.testing.assert_array_equal(coo.row, rows)
    np.testing.assert_array_equal(coo.col, cols)
    np.testing.assert_array_equal(coo.data, Y[rows, cols])
    dense_crowd = check_crowd_matrix(Y)
    sparse_crowd = check_crowd_matrix(Ys)
    np.testing.assert_array_equal(dense_crowd.label, sparse_crowd.label)


def test_sparse_large_crowd_is_never_dense():
    n_samples, n_workers, m = 200_000, 1000, 5
    y_true = np.arange(n_samples) % 4
    tracemalloc.start()
    start = time.perf_counter()
    try:
        Y = simulate_crowd(y_true, n_workers=n_workers, labels_per_item=m,
                           worker_profiles={"reliable": 0.9, "uniform_spammer": 0.1},
                           sparse=True, random_state=0)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(Y, sp.csr_array)
    assert Y.shape == (n_samples, n_workers) and Y.nnz == n_samples * m
    # a dense float crowd would take 1.6 GB; the labels themselves take ~30 MB
    assert peak < 300e6
    assert elapsed < 30  # a fraction of a second in practice


def test_simulate_crowd_string_labels():
    y_true = np.array(["a", "b", "c"] * 30, dtype=object)
    info = simulate_crowd(y_true, n_workers=5, labels_per_item=2,
                          classes=["a", "b", "c", "d"], random_state=0,
                          return_info=True)
    Y = info.Y
    assert Y.dtype == object
    np.testing.assert_array_equal(info.classes, ["a", "b", "c", "d"])
    assert info.confusion.shape == (5, 4, 4)
    assert set(Y[_labelled(Y)]) <= {"a", "b", "c", "d"}
    assert (_labelled(Y).sum(axis=1) == 2).all()
    crowd = check_crowd_matrix(Y)
    assert crowd.n_labels == 180


def test_missing_label_marker():
    Y = simulate_crowd(np.arange(30) % 3, n_workers=4, labels_per_item=2,
                       missing_label=-1, random_state=0)
    assert Y.dtype.kind == "i"
    assert ((Y == -1).sum(axis=1) == 2).all()


def test_make_crowd_classification_uses_simulate_crowd():
    # the features come first from the shared seed, then the same worker model
    info = make_crowd_classification(n_samples=50, n_workers=4, random_state=0,
                                     return_info=True)
    assert set(info) >= {"X", "Y", "y_true", "classes", "confusion",
                         "worker_accuracy", "worker_profiles"}
    np.testing.assert_array_equal(info.classes, [0, 1, 2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(worker_profiles=["reliable", "genius"] * 5), "Unknown worker profile"),
        (dict(worker_profiles={"lazy": 1.0}), "Unknown worker profile"),
        (dict(worker_profiles={"reliable": 0.5}), "sum to 1"),
        (dict(worker_profiles={"reliable": 1.5, "adversarial": -0.5}), "non-negative"),
        (dict(worker_profiles=["reliable"] * 3), "one profile name per worker"),
        (dict(worker_profiles=3), "worker_profiles must be"),
        (dict(labels_per_item=11), "labels_per_item"),
        (dict(labels_per_item=0), "labels_per_item"),
        (dict(n_workers=0), "n_workers"),
        (dict(n_classes=1), "n_classes"),
        (dict(n_features=2.5), "n_features must be an int"),
        (dict(instance_dependent=1.5), "instance_dependent"),
        (dict(instance_dependent=-0.1), "instance_dependent"),
        (dict(n_informative=30), "n_informative"),
        (dict(n_classes=10, n_informative=3), "2\\*\\*n_informative"),
        (dict(class_weights=[0.5, 0.3, 0.1, 0.1]), "class_weights"),
        (dict(missing_label=1), "missing_label"),
    ],
)
def test_make_crowd_classification_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_crowd_classification(n_samples=20, random_state=0, **kwargs)


@pytest.mark.parametrize(
    "y_true, kwargs, match",
    [
        (np.array([0, 1, np.nan]), {}, "missing"),
        (np.array(["a", None, "b"], dtype=object), {}, "missing"),
        (np.zeros(5), {}, "at least 2 classes"),
        (np.zeros((5, 2)), {}, "1-D"),
        (np.array([]), {}, "empty"),
        (np.array([0, 1, 2]), dict(classes=[0, 1]), "not among classes"),
        (np.array(["a", "b"]), dict(sparse=True), "numeric labels"),
        (np.array([0, 1]), dict(instance_dependent=0.5), "needs the items' features"),
        (np.array([0, 1]), dict(instance_dependent=0.5, X=np.ones((3, 2))), "rows"),
        (np.array([0, 1]), dict(n_workers=2, labels_per_item=3), "labels_per_item"),
    ],
)
def test_simulate_crowd_errors(y_true, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_crowd(y_true, **kwargs)
