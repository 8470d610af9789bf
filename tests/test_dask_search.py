"""Hyperparameter search on a cluster: GridSearchCV under joblib's dask backend.

Every skcrowd estimator is picklable and keeps no global state, so a search
can fan its fits out to the workers of a ``distributed`` cluster::

    import joblib
    from distributed import Client

    client = Client(...)                     # any cluster
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(DawidSkene(), grid, ...).fit(Y, y_gold=g)

The tests start a ``LocalCluster`` of two worker processes on the loopback
and check that such a search finds the same best parameters, and the same
scores, as ``n_jobs=1``.
"""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from skcrowd.aggregation import DawidSkene, MajorityVote  # noqa: E402
from skcrowd.classification import AggregatedClassifier, CrowdClassifier  # noqa: E402
from skcrowd.datasets import make_crowd_classification  # noqa: E402
from skcrowd.metrics import make_gold_scorer  # noqa: E402
from skcrowd.model_selection import CrowdStratifiedKFold  # noqa: E402
from skcrowd.utils.estimator_checks import (  # noqa: E402
    all_estimators,
    construct_instances,
)


@pytest.fixture(scope="module")
def crowd():
    X, Y, y = make_crowd_classification(
        n_samples=180, n_classes=3, n_workers=7, random_state=0
    )
    y_gold = y.astype(float)
    y_gold[::2] = np.nan  # gold labels for half of the items
    return X, Y, y_gold


def _search(estimator, grid, X, Y, y_gold, **kwargs):
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            estimator,
            grid,
            scoring=make_gold_scorer(),
            cv=CrowdStratifiedKFold(3, random_state=0),
            **kwargs,
        )
        if X is None:
            return search.fit(Y, y_gold=y_gold)
        return search.fit(X, Y, y_gold=y_gold)


def _assert_same_search(local, remote, atol=0.0):
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=0,
        atol=atol,
    )


def test_aggregator_search_on_the_dask_backend(client, crowd):
    _, Y, y_gold = crowd
    grid = {"alpha": [0.0, 0.01, 30.0], "max_iter": [1, 50]}
    with sklearn.config_context(enable_metadata_routing=True):
        est = DawidSkene().set_fit_request(y_gold=False)
    local = _search(est, grid, None, Y, y_gold, n_jobs=1)
    with joblib.parallel_backend("dask"):
        remote = _search(est, grid, None, Y, y_gold, n_jobs=-1)
    _assert_same_search(local, remote)
    # the fits did run on the cluster's workers
    assert any(
        "fit_and_score" in key or "batch_of" in key
        for key in client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)
        )
    )


def test_aggregated_classifier_search_on_the_dask_backend(client, crowd):
    X, Y, y_gold = crowd
    est = AggregatedClassifier(MajorityVote(random_state=0), LogisticRegression())
    grid = {"estimator__C": [1e-3, 1.0], "soft": [True, False]}
    local = _search(est, grid, X, Y, y_gold, n_jobs=1)
    with joblib.parallel_backend("dask"):
        remote = _search(est, grid, X, Y, y_gold, n_jobs=-1)
    _assert_same_search(local, remote, atol=1e-12)


def test_neural_search_on_the_dask_backend(client, crowd):
    pytest.importorskip("torch")
    X, Y, y_gold = crowd
    est = CrowdClassifier(
        hidden_units=(8,), max_epochs=5, batch_size=32, random_state=0
    )
    grid = {"lr": [0.03, 1e-5]}
    local = _search(est, grid, X, Y, y_gold, n_jobs=1)
    with joblib.parallel_backend("dask"):
        remote = _search(est, grid, X, Y, y_gold, n_jobs=-1)
    # seeded training on the CPU: the same scores (the worker processes may
    # use other thread counts, hence a tolerance, not equality)
    _assert_same_search(local, remote, atol=1e-6)
    assert remote.best_params_ == {"lr": 0.03}


ESTIMATORS = [est for _, cls in all_estimators() for est in construct_instances(cls)]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=str)
def test_every_estimator_pickles_without_global_state(estimator):
    # unfitted: what a search ships to its workers
    loaded = pickle.loads(pickle.dumps(clone(estimator)))
    assert type(loaded) is type(estimator)
    params, loaded_params = estimator.get_params(), loaded.get_params()
    assert set(params) == set(loaded_params)
    for name, value in params.items():
        if isinstance(value, float) and np.isnan(value):
            assert np.isnan(loaded_params[name]), name
        elif isinstance(value, str | int | float | bool | tuple | type(None)):
            assert loaded_params[name] == value, name
