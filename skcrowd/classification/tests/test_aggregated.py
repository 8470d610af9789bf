import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.classification import AggregatedClassifier


def make_crowd(seed=0, n=300, n_workers=7):
    """Two Gaussian blobs; 3 good workers and 4 spammers."""
    rng = np.random.default_rng(seed)
    y = rng.integers(2, size=n)
    X = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    Y = np.where(rng.random((n, n_workers)) < 0.9, y[:, None], 1 - y[:, None])
    Y = Y.astype(float)
    Y[:, 3:] = rng.integers(2, size=(n, n_workers - 3))  # spammers
    Y[rng.random(Y.shape) < 0.4] = np.nan
    Y[:, 0] = np.where(np.isnan(Y[:, 0]), y, Y[:, 0])
    return X, Y, y


def test_dawid_skene_beats_majority_vote_under_spammers():
    X, Y, y = make_crowd()
    ds = AggregatedClassifier(DawidSkene()).fit(X, Y)
    mv = AggregatedClassifier(MajorityVote(random_state=0)).fit(X, Y)
    assert np.mean(ds.aggregator_.labels_ == y) > np.mean(mv.aggregator_.labels_ == y)
    assert np.mean(ds.predict(X) == y) > 0.9


def test_soft_and_hard_labels():
    X, Y, y = make_crowd(1)
    soft = AggregatedClassifier(soft=True).fit(X, Y)
    hard = AggregatedClassifier(soft=False).fit(X, Y)
    assert np.mean(soft.predict(X) == y) > 0.9
    assert np.mean(hard.predict(X) == y) > 0.9
    proba = soft.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    with pytest.raises(ValueError, match="sample_weight"):
        AggregatedClassifier(estimator=KNeighborsClassifier()).fit(X, Y)
    knn = AggregatedClassifier(estimator=KNeighborsClassifier(), soft=False)
    assert np.mean(knn.fit(X, Y).predict(X) == y) > 0.85


def test_pipeline_and_grid_search():
    X, Y, y = make_crowd(2)
    pipe = make_pipeline(StandardScaler(), AggregatedClassifier())
    pipe.fit(X, Y)
    assert pipe.score(X, y) > 0.9  # 1-D y: accuracy
    assert 0.5 < pipe.score(X, Y) < 1  # crowd y: agreement with the labels
    grid = GridSearchCV(
        AggregatedClassifier(),
        {"aggregator": [MajorityVote(random_state=0), DawidSkene()]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X, Y)
    assert isinstance(grid.best_estimator_, AggregatedClassifier)


def test_classes_absent_from_the_classifier_get_zero_probability():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    # class 2 is given by one worker but never wins the vote
    Y = np.array([[0, 0, 2], [0, 0, 0], [1, 1, 1], [1, 1, 1]])
    clf = AggregatedClassifier(MajorityVote(random_state=0), soft=False).fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == (4, 3)
    np.testing.assert_allclose(proba[:, 2], 0)


def test_inconsistent_lengths_raise():
    X, Y, _ = make_crowd()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AggregatedClassifier().fit(X[:10], Y)
