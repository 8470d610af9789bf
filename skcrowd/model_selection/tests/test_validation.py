import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from skcrowd.aggregation import MajorityVote
from skcrowd.model_selection import CrowdStratifiedKFold, cross_val_predict_proba


class MVLogistic(ClassifierMixin, BaseEstimator):
    """Test-only crowd estimator: logistic regression on the majority vote."""

    def __init__(self, C=1.0, missing_label=np.nan):
        self.C = C
        self.missing_label = missing_label

    def fit(self, X, Y, sample_weight=None):
        mv = MajorityVote(random_state=0, missing_label=self.missing_label)
        labels = mv.fit(Y).labels_
        self.clf_ = LogisticRegression(C=self.C).fit(
            X, labels, sample_weight=sample_weight
        )
        self.classes_ = self.clf_.classes_
        return self

    def predict_proba(self, X):
        return self.clf_.predict_proba(X)


def make_crowd(n=60, n_workers=4, seed=0):
    rng = np.random.RandomState(seed)
    truth = rng.randint(0, 3, size=n)
    X = truth[:, None] + rng.normal(scale=0.5, size=(n, 2))
    noise = rng.randint(0, 3, size=(n, n_workers))
    Y = np.where(rng.rand(n, n_workers) < 0.8, truth[:, None], noise).astype(float)
    Y[rng.rand(n, n_workers) < 0.3] = np.nan
    return X, Y


def by_hand(X, Y, cv, classes, fit_params=None):
    out = np.zeros((len(X), len(classes)))
    splits = cv.split(X, Y) if hasattr(cv, "split") else cv
    for train, test in splits:
        params = {k: v[train] for k, v in (fit_params or {}).items()}
        est = MVLogistic().fit(X[train], Y[train], **params)
        cols = np.searchsorted(classes, est.classes_)
        out[np.ix_(test, cols)] = est.predict_proba(X[test])
    return out


def test_matches_manual_folds():
    X, Y = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    proba = cross_val_predict_proba(MVLogistic(), X, Y, cv=cv)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, by_hand(X, Y, cv, np.array([0.0, 1.0, 2.0])))


def test_class_absent_from_a_training_fold_gets_zero_column():
    X, Y = make_crowd()
    Y = Y.copy()
    Y[:10] = np.nan
    Y[:10, 0] = 7  # label 7 only on items 0..9
    idx = np.arange(60)
    tests = [idx[:10], idx[10:35], idx[35:]]
    splits = [(np.setdiff1d(idx, t), t) for t in tests]
    proba = cross_val_predict_proba(MVLogistic(), X, Y, cv=splits)
    assert proba.shape == (60, 4)  # classes 0, 1, 2, 7
    assert np.all(proba[:10, 3] == 0)  # the first fold never saw 7
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba[10:, 3] > 0)
    classes = np.array([0.0, 1.0, 2.0, 7.0])
    np.testing.assert_allclose(proba, by_hand(X, Y, splits, classes))


def test_string_labels_sparse_inputs_and_parallel():
    X, Y = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    ref = cross_val_predict_proba(MVLogistic(), X, Y, cv=cv)
    names = np.array(["x", "y", "z"], dtype=object)
    Ys = np.where(np.isnan(Y), None, names[np.nan_to_num(Y).astype(int)])
    np.testing.assert_allclose(cross_val_predict_proba(MVLogistic(), X, Ys, cv=cv),
                               ref)
    rows, cols = np.nonzero(~np.isnan(Y))
    S = sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)
    Xs = sp.csr_matrix(X)
    np.testing.assert_allclose(
        cross_val_predict_proba(MVLogistic(), Xs, S, cv=cv), ref, atol=1e-6
    )
    with parallel_config(backend="threading"):  # no process start-up cost
        parallel = cross_val_predict_proba(MVLogistic(), X, Y, cv=cv, n_jobs=2)
    np.testing.assert_allclose(parallel, ref)


def test_default_and_int_cv_and_params_split_per_fold():
    X, Y = make_crowd()
    proba = cross_val_predict_proba(MVLogistic(), X, Y)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert cross_val_predict_proba(MVLogistic(), X, Y, cv=4).shape == (60, 3)
    w = np.linspace(0.1, 3, len(X))
    cv = CrowdStratifiedKFold(3, random_state=0)
    got = cross_val_predict_proba(
        MVLogistic(), X, Y, cv=cv, params={"sample_weight": w}
    )
    expected = by_hand(X, Y, cv, np.array([0.0, 1.0, 2.0]), {"sample_weight": w})
    np.testing.assert_allclose(got, expected)


def test_sklearn_splitter_and_missing_marker():
    X, Y = make_crowd()
    Ym = np.where(np.isnan(Y), -1, Y).astype(int)
    cv = KFold(3)
    ref = cross_val_predict_proba(MVLogistic(), X, Y, cv=cv)
    np.testing.assert_allclose(
        cross_val_predict_proba(
            MVLogistic(missing_label=-1), X, Ym, cv=cv, missing_label=-1
        ),
        ref,
    )


def test_errors():
    X, Y = make_crowd()
    overlapping = [
        (np.arange(30, 60), np.arange(40)),
        (np.arange(30), np.arange(30, 60)),
    ]
    with pytest.raises(ValueError, match="partitions"):
        cross_val_predict_proba(MVLogistic(), X, Y, cv=overlapping)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cross_val_predict_proba(MVLogistic(), X[:10], Y)
    with pytest.raises(ValueError, match="no observed label"):
        cross_val_predict_proba(MVLogistic(), X, np.full(Y.shape, np.nan))

    class NoClasses(MVLogistic):
        def fit(self, X, Y):
            super().fit(X, Y)
            del self.classes_
            return self

    with pytest.raises(ValueError, match="no classes_"):
        cross_val_predict_proba(NoClasses(), X, Y, cv=KFold(2))
