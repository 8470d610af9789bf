"""Determinism: the same ``random_state`` gives the same model, whatever else.

For every public estimator: repeated fits with the same seed are identical
bit for bit, whatever the global numpy/torch RNG state before each (the
user's global RNG is left untouched by ``fit``), and out-of-fold results are
identical for ``n_jobs=1`` and ``n_jobs=2``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score

from skcrowd.aggregation import BaseAggregator
from skcrowd.base import CrowdClassifierMixin
from skcrowd.model_selection import CrowdStratifiedKFold, cross_val_predict_proba
from skcrowd.utils.estimator_checks import (
    all_estimators,
    construct_instance,
    labelled_instances,
    with_settings,
)

ESTIMATORS = all_estimators()
IDS = [name for name, _ in ESTIMATORS]
FAST = {
    "max_epochs": 3,
    "hidden_units": (8,),
    "batch_size": 16,
    "n_components": 2,
    "dropout": 0.2,
    "random_state": 0,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fast(est, **params):
    """``est`` with this file's small settings (see ``with_settings``)."""
    return with_settings(est, FAST, **params)


def make(cls, **params):
    return fast(construct_instance(cls), **params)


def instances():
    """``(id, unfitted instance)`` for each estimator (and each crowd model)."""
    return labelled_instances(FAST)


def data():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, 3, 60)
    Y = np.where(rng.rand(60, 6) < 0.7, truth[:, None], rng.randint(0, 3, (60, 6)))
    Y = Y.astype(float)
    Y[rng.rand(60, 6) < 0.3] = np.nan
    Y[:, 0] = truth
    Y[::7, 1:3] = (truth[::7, None] + 1) % 3  # ties for the tie-breaking seeds
    return rng.randn(60, 4) + truth[:, None], Y


X, Y = data()
# multi-label targets for skcrowd.multilabel: label c is "feature c > 0.5"
Y_MULTI = (X[:, :3] > 0.5).astype(int)


def is_multilabel(est_or_cls):
    cls = est_or_cls if isinstance(est_or_cls, type) else type(est_or_cls)
    return cls.__module__.startswith("skcrowd.multilabel")


def triplets(cls):
    from skcrowd.embedding import TripletData

    rng = np.random.RandomState(0)
    rows = np.array([rng.choice(12, 3, replace=False) for _ in range(90)])
    if "module" in cls().get_params():
        return TripletData(rows, rng.randn(12, 4), workers=rng.randint(0, 3, 90))
    return rows


def fit_outputs(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(est, BaseAggregator):
            est.fit(Y)
            return [est.predict_proba(Y), est.labels_]
        if isinstance(est, CrowdClassifierMixin):
            est.fit(X, Y)
            return [est.predict_proba(X)]
        if is_multilabel(est):
            est.fit(X, Y_MULTI)
            return [est.predict_proba(X), est.predict(X)]
        data = triplets(type(est))
        est.fit(data)
        objects = getattr(data, "objects", None)
        return [
            est.predict(data),
            est.transform(np.arange(12) if objects is None else objects),
        ]


def perturb_global_rngs(seed):
    np.random.seed(seed)  # noqa: NPY002 (the user's global RNG)
    import random

    random.seed(seed)
    import torch

    torch.manual_seed(seed)


INSTANCES = instances()


@pytest.mark.parametrize("name, est", INSTANCES, ids=[n for n, _ in INSTANCES])
def test_same_seed_same_model_whatever_the_global_rng(name, est):
    import torch

    perturb_global_rngs(1)
    first = fit_outputs(clone(est))
    perturb_global_rngs(2)
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.get_rng_state().clone()
    second = fit_outputs(clone(est))
    # fit and predict leave the user's global RNGs untouched
    numpy_after = np.random.get_state()[1]  # noqa: NPY002
    np.testing.assert_array_equal(numpy_after, numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, cls", ESTIMATORS, ids=IDS)
def test_refit_of_one_instance_is_identical(name, cls):
    est = make(cls)
    first = fit_outputs(est)
    second = fit_outputs(est)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def _cross_validated(est, n_jobs):
    if isinstance(est, BaseAggregator):
        cv = CrowdStratifiedKFold(3, random_state=0)
        return cross_val_predict_proba(est, Y, Y, cv=cv, n_jobs=n_jobs)
    if isinstance(est, CrowdClassifierMixin):
        cv = CrowdStratifiedKFold(3, random_state=0)
        return cross_val_predict_proba(est, X, Y, cv=cv, n_jobs=n_jobs)
    if is_multilabel(est):
        cv = KFold(3, shuffle=True, random_state=0)
        return cross_val_predict(
            est, X, Y_MULTI, cv=cv, n_jobs=n_jobs, method="predict_proba"
        )
    data = triplets(type(est))
    cv = KFold(3, shuffle=True, random_state=0)
    return cross_val_score(est, data, cv=cv, n_jobs=n_jobs)


@pytest.mark.parametrize("name, cls", ESTIMATORS, ids=IDS)
def test_n_jobs_does_not_change_results(name, cls):
    est = make(cls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = _cross_validated(clone(est), n_jobs=1)
        parallel = _cross_validated(clone(est), n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
