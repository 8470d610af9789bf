"""Out-of-fold predictions for estimators trained on a crowd."""

from __future__ import annotations

import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params, _num_samples, indexable

from ..utils.validation import check_crowd_matrix
from ._split import CrowdStratifiedKFold

__all__ = ["cross_val_predict_proba"]


def cross_val_predict_proba(
    estimator,
    X,
    Y,
    *,
    cv=None,
    groups=None,
    params=None,
    n_jobs=None,
    missing_label=np.nan,
):
    """Out-of-fold class probabilities of an estimator trained on a crowd.

    Each item's probabilities come from the model fitted on the folds that
    do not contain it. This is what
    ``cross_val_predict(method="predict_proba")`` does for a 1-D ``y``, but
    that function re-encodes each column of a 2-D ``y`` separately, so the
    missing-label marker becomes a class and the columns of different folds
    disagree (silent corruption). Here the columns always follow the classes
    of the whole crowd ``Y``: each fold's ``predict_proba`` columns are
    matched to them through the fitted ``estimator.classes_``, and a class
    absent from a fold's training crowd gets probability 0.

    Parameters
    ----------
    estimator : estimator
        An estimator with ``fit(X, Y)``, ``predict_proba`` and ``classes_``
        that accepts a crowd label matrix as ``y``. It is cloned for every
        fold.
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The features.
    Y : array-like of shape (n_samples, n_workers) or (n_samples,), or sparse
        The crowd label matrix (see :func:`skcrowd.utils.check_crowd_matrix`).
    cv : int, cross-validation generator or iterable, default=None
        ``None`` uses ``CrowdStratifiedKFold(5)`` and an int ``n``
        ``CrowdStratifiedKFold(n)`` (stratified on the majority vote,
        shuffled; pass ``CrowdStratifiedKFold(..., random_state=0)`` for
        reproducible folds). Any splitter or iterable of ``(train, test)``
        works if its test sets partition the items.
    groups : array-like of shape (n_samples,), default=None
        Group labels passed to the splitter's ``split``.
    params : dict, default=None
        Parameters passed to the estimator's ``fit``; those with one entry
        per item are split with the folds.
    n_jobs : int, default=None
        Number of folds fitted in parallel (joblib); ``-1`` uses all
        processors.
    missing_label : scalar, default=np.nan
        Marker of a missing label in ``Y``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Out-of-fold probabilities; the columns follow the sorted labels
        observed in ``Y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.model_selection import (CrowdStratifiedKFold,
    ...                                      cross_val_predict_proba)
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0],
    ...               [0, 1, 0], [1, 1, np.nan]])
    >>> X = Y  # an aggregator reads the crowd in the X position
    >>> cv = CrowdStratifiedKFold(n_splits=2, random_state=0)
    >>> proba = cross_val_predict_proba(DawidSkene(), X, Y, cv=cv)
    >>> proba.shape
    (6, 2)
    """
    X, Y, groups = indexable(X, Y, groups)
    n_samples = _num_samples(X)
    crowd = check_crowd_matrix(Y, missing_label=missing_label, n_samples=n_samples)
    classes = crowd.classes

    if cv is None:
        cv = CrowdStratifiedKFold(5, missing_label=missing_label)
    elif isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = CrowdStratifiedKFold(int(cv), missing_label=missing_label)
    else:
        cv = check_cv(cv)
    splits = list(cv.split(X, Y, groups))

    test_indices = np.concatenate([np.asarray(test) for _, test in splits])
    if len(test_indices) != n_samples or not np.array_equal(
        np.sort(test_indices), np.arange(n_samples)
    ):
        raise ValueError(
            "cross_val_predict_proba only works for partitions: every item must "
            "be in exactly one test set."
        )

    params = {} if params is None else dict(params)
    parallel = Parallel(n_jobs=n_jobs)
    fold_probas = parallel(
        delayed(_fit_and_predict_proba)(
            clone(estimator), X, Y, train, test, params, classes
        )
        for train, test in splits
    )
    proba = np.zeros((n_samples, len(classes)))
    for (_, test), fold_proba in zip(splits, fold_probas, strict=True):
        proba[test] = fold_proba
    return proba


def _fit_and_predict_proba(estimator, X, Y, train, test, params, classes):
    X_train = _safe_indexing(X, train)
    Y_train = _safe_indexing(Y, train)
    fit_params = _check_method_params(X, params=params, indices=train)
    estimator.fit(X_train, Y_train, **fit_params)
    fold_proba = np.asarray(estimator.predict_proba(_safe_indexing(X, test)))
    columns = _column_positions(estimator, classes, fold_proba.shape[1])
    aligned = np.zeros((len(test), len(classes)))
    aligned[:, columns] = fold_proba
    return aligned


def _column_positions(estimator, classes, n_columns):
    """Positions in the global ``classes`` of the estimator's proba columns."""
    est_classes = getattr(estimator, "classes_", None)
    if est_classes is None:
        raise ValueError(
            f"{type(estimator).__name__} has no classes_ after fit: "
            "cross_val_predict_proba needs it to align the probability columns."
        )
    est_classes = np.asarray(est_classes)
    if est_classes.ndim != 1 or len(est_classes) != n_columns:
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba returned {n_columns} "
            f"columns but classes_ has shape {est_classes.shape}."
        )
    if est_classes.dtype.kind in "OUS" and classes.dtype.kind in "OUS":
        est_classes, classes = est_classes.astype(object), classes.astype(object)
    try:
        pos = np.clip(np.searchsorted(classes, est_classes), 0, len(classes) - 1)
        found = classes[pos] == est_classes
    except TypeError:
        found = np.zeros(len(est_classes), dtype=bool)
    if not np.all(found):
        raise ValueError(
            f"The fitted classes_ {est_classes.tolist()[:10]} are not all among the "
            f"crowd's labels {classes.tolist()[:10]}."
        )
    return pos
