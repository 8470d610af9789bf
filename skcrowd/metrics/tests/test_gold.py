import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, cross_validate

from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.metrics import make_gold_scorer
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


class GoldSpy(MVLogistic):
    """A crowd estimator whose fit accepts y_gold and records what it got."""

    def fit(self, X, Y, y_gold=None):
        self.got_gold_ = y_gold is not None
        return super().fit(X, Y)


def make_crowd(n=120, n_workers=5, seed=0, gold_fraction=0.5):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    truth = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    Y = np.where(rng.rand(n, n_workers) < 0.8, truth[:, None], 1 - truth[:, None])
    Y = Y.astype(float)
    Y[rng.rand(n, n_workers) < 0.3] = np.nan
    y_gold = truth.astype(float)
    y_gold[rng.rand(n) > gold_fraction] = np.nan
    return X, Y, truth, y_gold


def test_grid_search_scores_on_gold_and_fit_never_sees_it():
    X, Y, _, y_gold = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            MVLogistic(), {"C": [0.01, 1.0]}, scoring=make_gold_scorer(), cv=cv
        ).fit(X, Y, y_gold=y_gold)

    # recompute every split score by hand: accuracy on the gold-labelled items
    splits = list(cv.split(X, Y))
    for c_idx, C in enumerate([0.01, 1.0]):
        for s, (train, test) in enumerate(splits):
            est = MVLogistic(C=C).fit(X[train], Y[train])
            known = test[~np.isnan(y_gold[test])]
            expected = accuracy_score(y_gold[known], est.predict(X[known]))
            got = search.cv_results_[f"split{s}_test_score"][c_idx]
            assert got == pytest.approx(expected)
    assert np.isfinite(search.best_score_)


def test_estimator_requesting_y_gold_is_kept_away_from_it():
    X, Y, _, y_gold = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = GoldSpy().set_fit_request(y_gold=False)
        res = cross_validate(
            est,
            X,
            Y,
            cv=cv,
            scoring=make_gold_scorer(),
            params={"y_gold": y_gold},
            return_estimator=True,
        )
    assert not any(e.got_gold_ for e in res["estimator"])
    assert np.all(np.isfinite(res["test_score"]))


def test_grid_search_over_an_aggregator():
    # an aggregator reads the crowd as X and its fit accepts y_gold: keep the
    # gold labels for the scorer with set_fit_request(y_gold=False)
    _, Y, _, y_gold = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            DawidSkene().set_fit_request(y_gold=False),
            {"alpha": [0.01, 10.0]},
            scoring=make_gold_scorer(),
            cv=cv,
        ).fit(Y, y_gold=y_gold)
    for s, (train, test) in enumerate(cv.split(Y)):
        ds = DawidSkene(alpha=0.01).fit(Y[train])
        known = test[~np.isnan(y_gold[test])]
        expected = accuracy_score(y_gold[known], ds.predict(Y[known]))
        assert search.cv_results_[f"split{s}_test_score"][0] == pytest.approx(expected)


def test_direct_call_ignores_crowd_and_skips_missing_gold():
    X, Y, truth, y_gold = make_crowd()
    est = MVLogistic().fit(X, Y)
    scorer = make_gold_scorer()
    known = ~np.isnan(y_gold)
    expected = accuracy_score(y_gold[known], est.predict(X[known]))
    assert scorer(est, X, Y, y_gold=y_gold) == pytest.approx(expected)
    # the crowd given as y is irrelevant
    assert scorer(est, X, None, y_gold=y_gold) == pytest.approx(expected)
    # None and a custom marker are missing too
    obj_gold = np.where(known, truth, None).astype(object)
    assert scorer(est, X, Y, y_gold=obj_gold) == pytest.approx(expected)
    marker = np.where(known, truth, -1)
    scorer_m = make_gold_scorer(missing_label=-1)
    assert scorer_m(est, X, Y, y_gold=marker) == pytest.approx(expected)


def test_missing_y_gold_errors_with_routing_hint():
    X, Y, _, _ = make_crowd()
    est = MVLogistic().fit(X, Y)
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        make_gold_scorer()(est, X, Y)
    with pytest.raises(ValueError, match="one entry per item"):
        make_gold_scorer()(est, X, Y, y_gold=np.zeros(3))


def test_fold_without_gold_gives_nan_with_warning():
    X, Y, _, _ = make_crowd()
    est = MVLogistic().fit(X, Y)
    with pytest.warns(UserWarning, match="No item of this split has a gold"):
        score = make_gold_scorer()(est, X, Y, y_gold=np.full(len(X), np.nan))
    assert np.isnan(score)


def test_scorer_names_and_response_methods():
    X, Y, _, y_gold = make_crowd()
    est = MVLogistic().fit(X, Y)
    known = ~np.isnan(y_gold)
    proba = est.predict_proba(X[known])
    expected = -log_loss(y_gold[known], proba)
    assert make_gold_scorer("neg_log_loss")(est, X, Y, y_gold=y_gold) == (
        pytest.approx(expected)
    )
    scorer = make_gold_scorer(
        log_loss, response_method="predict_proba", greater_is_better=False
    )
    assert scorer(est, X, Y, y_gold=y_gold) == pytest.approx(expected)
    bacc = make_gold_scorer(balanced_accuracy_score, adjusted=True)
    assert bacc(est, X, Y, y_gold=y_gold) == pytest.approx(
        balanced_accuracy_score(y_gold[known], est.predict(X[known]), adjusted=True)
    )
    assert "adjusted=True" in repr(bacc)
    with pytest.raises(ValueError, match="not a valid scoring"):
        make_gold_scorer("no_such_scorer")
    with pytest.raises(TypeError, match="score_func"):
        make_gold_scorer(3)


def test_multimetric_scoring_and_sample_weight_routing():
    X, Y, _, y_gold = make_crowd()
    w = np.linspace(0.5, 2.0, len(X))
    cv = CrowdStratifiedKFold(3, random_state=1)
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = make_gold_scorer().set_score_request(sample_weight=True)
        scoring = {"acc": make_gold_scorer(), "wacc": weighted}
        res = cross_validate(
            MVLogistic(),
            X,
            Y,
            cv=cv,
            scoring=scoring,
            params={"y_gold": y_gold, "sample_weight": w},
        )
    for s, (train, test) in enumerate(cv.split(X, Y)):
        est = MVLogistic().fit(X[train], Y[train])
        known = test[~np.isnan(y_gold[test])]
        pred = est.predict(X[known])
        assert res["test_acc"][s] == pytest.approx(accuracy_score(y_gold[known], pred))
        assert res["test_wacc"][s] == pytest.approx(
            accuracy_score(y_gold[known], pred, sample_weight=w[known])
        )


def test_requests_y_gold_by_default_and_keeps_it():
    scorer = make_gold_scorer()
    routing = scorer._get_metadata_request()
    assert routing.score.requests == {"y_gold": True}
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        assert scorer._get_metadata_request().score.requests == {
            "y_gold": True,
            "sample_weight": True,
        }
        scorer.set_score_request(y_gold="expert")
        assert scorer._get_metadata_request().score.requests == {"y_gold": "expert"}


def test_alias_and_pickle():
    X, Y, _, y_gold = make_crowd()
    cv = CrowdStratifiedKFold(3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_gold_scorer().set_score_request(y_gold="expert")
        res = cross_validate(
            MVLogistic(), X, Y, cv=cv, scoring=scorer, params={"expert": y_gold}
        )
    assert np.all(np.isfinite(res["test_score"]))
    again = pickle.loads(pickle.dumps(make_gold_scorer()))
    est = MVLogistic().fit(X, Y)
    assert again(est, X, Y, y_gold=y_gold) == make_gold_scorer()(
        est, X, Y, y_gold=y_gold
    )


def test_string_labels():
    X, Y, truth, y_gold = make_crowd()
    names = np.array(["neg", "pos"], dtype=object)
    Ys = np.where(np.isnan(Y), None, names[np.nan_to_num(Y).astype(int)])
    gold = np.where(np.isnan(y_gold), None, names[truth])
    est = clone(MVLogistic()).fit(X, Ys)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = make_gold_scorer()(est, X, Ys, y_gold=gold)
    known = gold != None  # noqa: E711
    assert score == pytest.approx(
        accuracy_score(gold[known].astype(str), est.predict(X[known]).astype(str))
    )
