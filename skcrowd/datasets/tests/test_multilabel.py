"""Tests of the multi-label data: Reuters-21578, the long-tailed simulator, taggers."""

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.datasets import (
    load_reuters21578,
    make_long_tailed_multilabel,
    simulate_multilabel_crowd,
)
from skcrowd.datasets._multilabel import _default_data_home
from skcrowd.metrics import label_frequency_groups

REUTERS = _default_data_home() / "reuters21578" / "modapte90.jsonl.gz"
needs_reuters = pytest.mark.skipif(
    not REUTERS.is_file(), reason=f"benchmark data {REUTERS} is absent"
)


# ----------------------------------------------------------------- Reuters
@needs_reuters
def test_load_reuters21578_shapes_and_groups():
    data = load_reuters21578()
    assert len(data.data_train) == 7770 and len(data.data_test) == 3019
    assert data.Y_train.shape == (7770, 90) and data.Y_test.shape == (3019, 90)
    assert data.Y_train.dtype == np.int8 and data.Y_test.dtype == np.int8
    assert data.target_names.tolist() == sorted(data.target_names.tolist())
    assert data.target_names[0] == "acq" and "earn" in data.target_names
    # every category has a training and a test document; every doc a label
    assert (data.Y_train.sum(axis=0) > 0).all() and (data.Y_test.sum(axis=0) > 0).all()
    assert (data.Y_train.sum(axis=1) >= 1).all()
    assert data.ids_train.shape == (7770,) and data.ids_test.dtype.kind == "i"
    assert len(set(data.ids_train) | set(data.ids_test)) == 10789
    assert "Lewis" in data.DESCR and "Huang" in data.DESCR
    groups = label_frequency_groups(data.Y_train)
    counts = {g: int((groups == g).sum()) for g in ("head", "medium", "tail")}
    assert sum(counts.values()) == 90 and min(counts.values()) > 5
    # the most frequent category of Reuters is "earn"
    assert data.target_names[data.Y_train.sum(axis=0).argmax()] == "earn"


@needs_reuters
def test_load_reuters21578_matches_the_file():
    data = load_reuters21578(data_home=REUTERS.parent.parent)
    with gzip.open(REUTERS, "rt") as f:
        first = json.loads(f.readline())
    assert first["split"] == "train"
    assert data.ids_train[0] == first["id"] and data.data_train[0] == first["text"]
    got = data.target_names[data.Y_train[0] == 1].tolist()
    assert got == sorted(first["labels"])
    # data_home may also be the folder of the file itself
    again = load_reuters21578(data_home=REUTERS.parent)
    np.testing.assert_array_equal(again.Y_test, data.Y_test)


def test_load_reuters21578_absent(tmp_path):
    with pytest.raises(FileNotFoundError, match="not bundled"):
        load_reuters21578(data_home=tmp_path)


def test_load_reuters21578_env_variable(tmp_path, monkeypatch):
    folder = tmp_path / "reuters21578"
    folder.mkdir()
    docs = [
        {"id": 3, "split": "train", "labels": ["b", "a"], "text": "x"},
        {"id": 5, "split": "test", "labels": ["c"], "text": "y"},
        {"id": 4, "split": "train", "labels": ["a"], "text": "z"},
    ]
    with gzip.open(folder / "modapte90.jsonl.gz", "wt") as f:
        f.write("\n".join(json.dumps(d) for d in docs) + "\n")
    monkeypatch.setenv("SKCROWD_SHARED_DATA", str(tmp_path))
    data = load_reuters21578()
    assert data.target_names.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(data.Y_train, [[1, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(data.Y_test, [[0, 0, 1]])
    assert data.ids_train.tolist() == [3, 4] and data.data_test == ["y"]


# ------------------------------------------------------- long-tailed data
def test_make_long_tailed_multilabel_is_long_tailed_and_seeded():
    X, Y = make_long_tailed_multilabel(random_state=0)
    X2, Y2 = make_long_tailed_multilabel(random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
    assert not np.array_equal(Y, make_long_tailed_multilabel(random_state=1)[1])
    assert X.dtype == np.float64 and Y.dtype == np.int8
    assert (X >= 0).all() and (Y.sum(axis=1) >= 1).all()
    counts = Y.sum(axis=0)
    # power law: the frequencies fall (up to noise) with the label index
    assert counts[0] > counts[2] > counts[6] > counts[-1]
    assert set(label_frequency_groups(Y)) == {"head", "medium", "tail"}


def test_make_long_tailed_multilabel_features_are_informative():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from skcrowd.metrics import multilabel_f1_report

    X, Y = make_long_tailed_multilabel(n_samples=800, random_state=0)
    Xl = np.log1p(X)
    clf = OneVsRestClassifier(LogisticRegression(max_iter=500))
    clf.fit(Xl[:600], Y[:600])
    report = multilabel_f1_report(Y[600:], clf.predict(Xl[600:]))
    # far above the all-zero predictor (0) and the head-label-only one
    head_only = np.zeros_like(Y[600:])
    head_only[:, 0] = 1
    baseline = multilabel_f1_report(Y[600:], head_only)["entire"]["micro"]
    assert report["entire"]["micro"] > baseline + 0.1


def test_make_long_tailed_multilabel_options():
    X, Y = make_long_tailed_multilabel(
        n_samples=300, n_features=40, n_labels=8, imbalance=0.0, avg_labels=2.0,
        sparse=True, random_state=0,
    )
    assert sp.issparse(X) and X.shape == (300, 40) and Y.shape == (300, 8)
    # no imbalance: every label carried by about a quarter of the items
    assert np.all(np.abs(Y.mean(axis=0) - 0.25) < 0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_labels": 1}, "n_labels"),
        ({"n_samples": 0}, "n_samples"),
        ({"imbalance": -1.0}, "imbalance"),
        ({"avg_labels": 0.0}, "avg_labels"),
        ({"avg_labels": 30.0}, "exceeds"),
        ({"noise": 1.0}, "noise"),
        ({"doc_length": np.inf}, "doc_length"),
    ],
)
def test_make_long_tailed_multilabel_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_long_tailed_multilabel(**kwargs)


# ---------------------------------------------------------- crowd of taggers
def test_simulate_multilabel_crowd_structure():
    _, Y = make_long_tailed_multilabel(n_samples=400, random_state=0)
    info = simulate_multilabel_crowd(
        Y, n_workers=8, labels_per_item=3, random_state=0, return_info=True
    )
    Y3 = info.Y3
    assert Y3.shape == (400, 8, 20) and Y3.dtype == np.float64
    observed = ~np.isnan(Y3)
    # a worker annotates an item for all labels or for none
    np.testing.assert_array_equal(observed.all(axis=2), observed.any(axis=2))
    np.testing.assert_array_equal(observed[:, :, 0].sum(axis=1), 3)
    assert set(np.unique(Y3[observed])) <= {0.0, 1.0}
    # the annotators are those marked observed
    rows = np.repeat(np.arange(400), 3)
    assert observed[rows, info.annotators.ravel(), 0].all()
    assert info.sensitivity.shape == info.specificity.shape == (8, 20)
    np.testing.assert_array_equal(
        simulate_multilabel_crowd(Y, n_workers=8, random_state=0), Y3
    )


def test_simulate_multilabel_crowd_rates_are_respected():
    rng = np.random.RandomState(0)
    Y = (rng.rand(3000, 4) < 0.3).astype(int)
    info = simulate_multilabel_crowd(
        Y,
        n_workers=4,
        labels_per_item=4,
        sensitivity=[0.9, 0.6, 0.3, 1.0],
        specificity=[0.95, 0.8, 0.99, 1.0],
        random_state=0,
        return_info=True,
    )
    Y3 = info.Y3
    truth = np.broadcast_to(Y[:, None, :], Y3.shape) == 1
    sens = np.array([Y3[:, r][truth[:, r]].mean() for r in range(4)])
    fpr = np.array([Y3[:, r][~truth[:, r]].mean() for r in range(4)])
    np.testing.assert_allclose(sens, [0.9, 0.6, 0.3, 1.0], atol=0.03)
    np.testing.assert_allclose(fpr, [0.05, 0.2, 0.01, 0.0], atol=0.03)


def test_simulate_multilabel_crowd_profiles():
    _, Y = make_long_tailed_multilabel(n_samples=2000, random_state=1)
    density = Y.mean()
    profiles = ["reliable", "lazy", "uniform_spammer", "constant_spammer",
                "adversarial"]
    info = simulate_multilabel_crowd(
        Y, n_workers=5, labels_per_item=5, worker_profiles=profiles,
        random_state=0, return_info=True,
    )
    assert info.worker_profiles.tolist() == profiles
    se, sp_ = info.sensitivity, info.specificity
    assert np.all((se[0] >= 0.7) & (se[0] <= 0.95))
    assert np.all(1 - sp_[0] <= 0.25 * density)
    assert np.all((se[1] >= 0.3) & (se[1] <= 0.6) & (1 - sp_[1] <= 0.1 * density))
    np.testing.assert_allclose(se[2], density)
    np.testing.assert_allclose(sp_[2], 1 - density)
    # the constant spammer tags the same labels on every item
    tags = info.Y3[:, 3]
    assert np.all(tags == tags[0]) and tags[0].sum() >= 1
    assert np.all(se[4] <= 0.2)
    assert np.all((1 - sp_[4] >= density) & (1 - sp_[4] <= 3 * density))
    # the adversary tags more wrong labels than an item has true ones
    wrong = (info.Y3[:, 4] * (1 - Y)).sum(axis=1).mean()
    assert wrong > Y.sum(axis=1).mean()
    # spammers tag about as many labels as a true item has
    mean_tags = info.Y3[:, 2].sum(axis=1).mean()
    assert abs(mean_tags - Y.sum(axis=1).mean()) < 0.15
    # the fractions form draws that many workers
    d = simulate_multilabel_crowd(
        Y, n_workers=10, worker_profiles={"reliable": 0.7, "uniform_spammer": 0.3},
        random_state=0, return_info=True,
    )
    assert sorted(d.worker_profiles.tolist()).count("uniform_spammer") == 3


def test_simulate_multilabel_crowd_accepts_sparse_and_keeps_input():
    Y = np.array([[1, 0], [0, 1], [1, 1]] * 10)
    before = Y.copy()
    a = simulate_multilabel_crowd(Y, n_workers=4, random_state=3)
    b = simulate_multilabel_crowd(sp.csr_array(Y), n_workers=4, random_state=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Y, before)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"Y": np.array([[0, 2], [1, 0]])}, "binary indicator"),
        ({"worker_profiles": "confusion"}, "Unknown worker profile"),
        ({"worker_profiles": {"reliable": 0.5}}, "sum to 1"),
        ({"labels_per_item": 5}, "labels_per_item"),
        ({"sensitivity": [0.5, 0.5]}, "shape"),
        ({"specificity": 1.5}, r"\[0, 1\]"),
    ],
)
def test_simulate_multilabel_crowd_errors(kwargs, match):
    args = {"Y": np.eye(4, 3), "n_workers": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        simulate_multilabel_crowd(args.pop("Y"), **args)
