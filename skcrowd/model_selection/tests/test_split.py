import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from skcrowd.aggregation import MajorityVote
from skcrowd.model_selection import CrowdStratifiedKFold


class MVLogistic(ClassifierMixin, BaseEstimator):
    """Test-only crowd estimator: logistic regression on the majority vote."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, Y):
        labels = MajorityVote(random_state=0).fit(Y).labels_
        self.clf_ = LogisticRegression(C=self.C).fit(X, labels)
        self.classes_ = self.clf_.classes_
        return self

    def predict(self, X):
        return self.clf_.predict(X)

    def predict_proba(self, X):
        return self.clf_.predict_proba(X)

    def score(self, X, Y):
        # agreement with the majority vote, enough to exercise cv= in sklearn
        return float(np.mean(self.predict(X) == MajorityVote(random_state=0)
                             .fit(Y).labels_))


def make_crowd(n=90, n_workers=4, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    truth = np.sort(rng.randint(0, n_classes, size=n))  # sorted: order matters
    X = truth[:, None] + rng.normal(scale=0.5, size=(n, 2))
    noise = rng.randint(0, n_classes, size=(n, n_workers))
    Y = np.where(rng.rand(n, n_workers) < 0.75, truth[:, None], noise).astype(float)
    Y[rng.rand(n, n_workers) < 0.3] = np.nan
    return X, Y


def test_folds_partition_and_stratify_on_majority_vote():
    X, Y = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    mv = MajorityVote(random_state=0).fit(Y).labels_
    tests = [test for _, test in cv.split(X, Y)]
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(len(X)))
    for train, test in cv.split(X, Y):
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(X)
        for k in np.unique(mv):
            share = np.sum(mv[test] == k)
            total = np.sum(mv == k)
            assert abs(share - total / 3) <= 1
    # same folds as StratifiedKFold on the majority labels
    skf = StratifiedKFold(3, shuffle=True, random_state=0)
    for (_, te1), (_, te2) in zip(cv.split(X, Y), skf.split(X, mv), strict=True):
        np.testing.assert_array_equal(te1, te2)


def test_reproducible_and_shuffled():
    X, Y = make_crowd()
    a = [test for _, test in CrowdStratifiedKFold(3, random_state=0).split(X, Y)]
    b = [test for _, test in CrowdStratifiedKFold(3, random_state=0).split(X, Y)]
    c = [test for _, test in CrowdStratifiedKFold(3, random_state=1).split(X, Y)]
    for ta, tb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ta, tb)
    assert any(not np.array_equal(ta, tc) for ta, tc in zip(a, c, strict=True))
    # shuffled folds of sorted data are not contiguous blocks
    assert any(np.any(np.diff(t) > 1) for t in a)
    # unshuffled: random_state still seeds the tie-breaking, so it is allowed
    d = [t for _, t in CrowdStratifiedKFold(3, shuffle=False, random_state=0)
         .split(X, Y)]
    assert all(np.all(np.diff(t) > 0) for t in d)


def test_sparse_strings_one_worker_and_dataframe():
    X, Y = make_crowd()
    rows, cols = np.nonzero(~np.isnan(Y))
    S = sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)
    names = np.array(["a", "b", "c"], dtype=object)
    Ys = np.where(np.isnan(Y), None, names[np.nan_to_num(Y).astype(int)])
    cv = CrowdStratifiedKFold(3, random_state=0)
    ref = [t for _, t in cv.split(X, Y)]
    for crowd in (S, Ys):
        for t, r in zip((t for _, t in cv.split(X, crowd)), ref, strict=True):
            np.testing.assert_array_equal(t, r)
    # a 1-D y is a one-worker crowd
    y1 = np.nan_to_num(Y[:, 0], nan=0)
    folds = list(cv.split(X, y1))
    assert len(folds) == 3
    pd = pytest.importorskip("pandas")
    folds = (t for _, t in cv.split(X, pd.DataFrame(Y)))
    for t, r in zip(folds, ref, strict=True):
        np.testing.assert_array_equal(t, r)


def test_y_none_takes_x_as_the_crowd():
    # the aggregators read the crowd in the X position: fit(Y)
    X, Y = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    for (_, t1), (_, t2) in zip(cv.split(X, Y), cv.split(Y), strict=True):
        np.testing.assert_array_equal(t1, t2)


def test_missing_label_marker():
    X, Y = make_crowd()
    Ym = np.where(np.isnan(Y), -1, Y).astype(int)
    cv = CrowdStratifiedKFold(3, random_state=0)
    cvm = CrowdStratifiedKFold(3, random_state=0, missing_label=-1)
    for (_, t1), (_, t2) in zip(cv.split(X, Y), cvm.split(X, Ym), strict=True):
        np.testing.assert_array_equal(t1, t2)


def test_rare_class_warns_like_stratified_kfold():
    X = np.zeros((12, 1))
    Y = np.array([[0, 0]] * 10 + [[1, 1]] * 2, dtype=float)
    with pytest.warns(UserWarning, match="least populated class"):
        list(CrowdStratifiedKFold(3, random_state=0).split(X, Y))
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(CrowdStratifiedKFold(13).split(X, Y))


def test_usable_as_cv_in_sklearn():
    X, Y = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    scores = cross_val_score(MVLogistic(), X, Y, cv=cv)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    search = GridSearchCV(MVLogistic(), {"C": [0.1, 1.0]}, cv=cv).fit(X, Y)
    assert search.n_splits_ == 3
    assert cv.get_n_splits() == 3 and cv.get_n_splits(X, Y) == 3


def test_params_validation_and_repr():
    with pytest.raises(ValueError, match="n_splits=2 or more"):
        CrowdStratifiedKFold(1)
    with pytest.raises(ValueError, match="Integral"):
        CrowdStratifiedKFold(2.5)
    with pytest.raises(TypeError, match="shuffle"):
        CrowdStratifiedKFold(3, shuffle=1)
    with pytest.raises(ValueError, match="X is taken as the crowd"):
        list(CrowdStratifiedKFold(3).split(np.linspace(0, 1, 12)[:, None], None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = repr(CrowdStratifiedKFold(4, random_state=2))
    assert r.startswith("CrowdStratifiedKFold(") and "n_splits=4" in r
