"""Per-worker and crowd-level metrics, vectorised over the COO view of a crowd."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.utils.validation import _check_sample_weight

from ..utils.validation import check_crowd_matrix, is_missing_label

__all__ = [
    "crowd_agreement",
    "crowd_log_likelihood",
    "worker_accuracy",
    "worker_confusion",
    "worker_metrics_report",
]

# codes of ``_encode_labels``
_MISSING = -1
_UNKNOWN = -2


def _as_1d(values, n_samples, name):
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1 or len(values) != n_samples:
        raise ValueError(
            f"{name} must be 1-D with one entry per item ({n_samples}); got shape "
            f"{values.shape}."
        )
    return values


def _encode_labels(values, classes, missing_label):
    """Index of each value in ``classes``: -1 where missing, -2 where unknown."""
    codes = np.full(len(values), _MISSING, dtype=np.int64)
    known = np.flatnonzero(~is_missing_label(values, missing_label))
    if len(known) == 0:
        return codes
    observed = _tighten_values(values[known])
    str_classes = classes.dtype.kind in "OUS"
    str_values = observed.dtype.kind in "OUS"
    if str_classes != str_values:
        codes[known] = _UNKNOWN
        return codes
    if str_classes:
        classes, observed = classes.astype(object), observed.astype(object)
    idx = np.clip(np.searchsorted(classes, observed), 0, len(classes) - 1)
    codes[known] = np.where(classes[idx] == observed, idx, _UNKNOWN)
    return codes


def _gold_codes(y_true, crowd, missing_label):
    y_true = _as_1d(y_true, crowd.n_samples, "y_true")
    gold = _encode_labels(y_true, crowd.classes, missing_label)
    if np.all(gold[gold != _MISSING] == _UNKNOWN) and np.any(gold == _UNKNOWN):
        raise ValueError(
            "No gold label is among the crowd's labels "
            f"{crowd.classes.tolist()[:10]}: check that y_true and Y use the same "
            "label type (e.g. ints vs strings)."
        )
    return gold


def worker_accuracy(Y, y_true, *, missing_label=np.nan):
    """Accuracy of each worker on the items whose true label is known.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_workers), or sparse
        The crowd label matrix (see :func:`skcrowd.utils.check_crowd_matrix`).
    y_true : array-like of shape (n_samples,)
        The true (gold) label of each item, missing (NaN/None/
        ``missing_label``) where unknown.
    missing_label : scalar, default=np.nan
        Marker of a missing label in ``Y`` and ``y_true``.

    Returns
    -------
    accuracy : ndarray of shape (n_workers,)
        The fraction of each worker's labels on gold-labelled items that
        equal the gold label; NaN for a worker who labelled no such item.
        A gold label that no worker ever gave counts as a miss for every
        worker who labelled that item.

    See Also
    --------
    worker_confusion : The full confusion matrix of each worker.
    worker_metrics_report : Compare an aggregator's estimated accuracies.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import worker_accuracy
    >>> Y = np.array([[0, 1, np.nan], [1, 1, np.nan], [0, 0, 1]])
    >>> worker_accuracy(Y, [0, 1, np.nan])
    array([1. , 0.5, nan])
    """
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    gold = _gold_codes(y_true, crowd, missing_label)
    item_gold = gold[crowd.item]
    scored = item_gold != _MISSING
    workers = crowd.worker[scored]
    hits = (item_gold[scored] == crowd.label[scored]).astype(float)
    n = np.bincount(workers, minlength=crowd.n_workers)
    correct = np.bincount(workers, weights=hits, minlength=crowd.n_workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, correct / np.maximum(n, 1), np.nan)


def worker_confusion(Y, y_true, normalize=True, *, classes=None, missing_label=np.nan):
    """Confusion matrix of each worker against the true labels.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_workers), or sparse
        The crowd label matrix.
    y_true : array-like of shape (n_samples,)
        The true label of each item, missing where unknown.
    normalize : bool, default=True
        Divide each row (true class) by its total, so that
        ``confusion[r, k, l]`` estimates the probability that worker ``r``
        answers ``l`` when the truth is ``k``; rows of a class the worker
        never met are NaN. ``False`` returns the counts.
    classes : array-like of shape (n_classes,), default=None
        The classes indexing the rows and columns (sorted). ``None`` uses
        the labels observed in ``Y`` and in ``y_true``.
    missing_label : scalar, default=np.nan
        Marker of a missing label in ``Y`` and ``y_true``.

    Returns
    -------
    confusion : ndarray of shape (n_workers, n_classes, n_classes)
        Rows are the true class, columns the label given, both in the order
        of ``classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import worker_confusion
    >>> Y = np.array([[0, 1], [1, 1], [1, 0]])
    >>> worker_confusion(Y, [0, 1, 1], normalize=False)[1]
    array([[0., 1.],
           [1., 1.]])
    >>> worker_confusion(Y, [0, 1, 1])[1]
    array([[0. , 1. ],
           [0.5, 0.5]])
    """
    if classes is None:
        crowd = check_crowd_matrix(Y, missing_label=missing_label)
        y = _as_1d(y_true, crowd.n_samples, "y_true")
        gold_values = y[~is_missing_label(y, missing_label)]
        if len(gold_values):
            gold_values = np.unique(_tighten_values(gold_values))
            try:
                union = np.union1d(crowd.classes, gold_values)
            except TypeError:
                union = crowd.classes
            if len(union) != crowd.n_classes:
                crowd = check_crowd_matrix(
                    Y, missing_label=missing_label, classes=union
                )
    else:
        crowd = check_crowd_matrix(Y, missing_label=missing_label, classes=classes)
    gold = _gold_codes(y_true, crowd, missing_label)
    if np.any(gold == _UNKNOWN):
        raise ValueError(
            "y_true holds labels outside the classes "
            f"{crowd.classes.tolist()[:10]}; pass them in classes=."
        )
    k = crowd.n_classes
    item_gold = gold[crowd.item]
    scored = item_gold != _MISSING
    cell = (crowd.worker[scored] * k + item_gold[scored]) * k + crowd.label[scored]
    counts = np.bincount(cell, minlength=crowd.n_workers * k * k).astype(float)
    counts = counts.reshape(crowd.n_workers, k, k)
    if not normalize:
        return counts
    totals = counts.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.maximum(totals, 1), np.nan)


def _tighten_values(values):
    if values.dtype.kind == "O":
        tightened = np.array(values.tolist())
        if tightened.dtype.kind != "O":
            return tightened
    return values


def worker_metrics_report(aggregator, Y, y_true, *, min_gold=1, missing_label=None):
    """Compare an aggregator's estimated worker accuracies with the true ones.

    Parameters
    ----------
    aggregator : aggregator
        A truth-inference estimator from :mod:`skcrowd.aggregation`, fitted
        on ``Y``. An unfitted one is cloned and fitted on ``Y`` (without the
        gold labels).
    Y : array-like of shape (n_samples, n_workers), or sparse
        The crowd label matrix.
    y_true : array-like of shape (n_samples,)
        The true label of each item, missing where unknown.
    min_gold : int, default=1
        The correlations only use the workers with at least ``min_gold``
        gold-labelled items (a worker with one such item has a true accuracy
        of 0 or 1).
    missing_label : scalar, default=None
        Marker of a missing label; ``None`` uses the aggregator's
        ``missing_label``.

    Returns
    -------
    report : pandas.DataFrame
        One row per worker (indexed like ``aggregator.worker_report()``):
        ``n_labels``, ``n_gold`` (labels given on gold-labelled items),
        ``estimated_accuracy`` (the aggregator's ``accuracy``),
        ``true_accuracy`` (:func:`worker_accuracy`) and ``error`` (estimated
        minus true). ``report.attrs`` holds the ``"spearman"`` and
        ``"pearson"`` correlations between the estimated and the true
        accuracies over the workers with both values and at least
        ``min_gold`` gold items (NaN when fewer than three such workers or
        one of the two is constant), and ``"mean_absolute_error"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.metrics import worker_metrics_report
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 1, 0]])
    >>> report = worker_metrics_report(DawidSkene(), Y, [0, 1, 0, 1, 0])
    >>> report[["n_gold", "true_accuracy"]]
       n_gold  true_accuracy
    0       5            1.0
    1       5            0.8
    2       5            0.6
    >>> round(report.attrs["spearman"], 3)
    1.0
    """
    import pandas as pd
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(aggregator)
    except NotFittedError:
        aggregator = clone(aggregator).fit(Y)
    if missing_label is None:
        missing_label = getattr(aggregator, "missing_label", np.nan)
    estimated = aggregator.worker_report()
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    if len(estimated) != crowd.n_workers:
        raise ValueError(
            f"The aggregator was fitted on {len(estimated)} workers but Y has "
            f"{crowd.n_workers}."
        )
    gold = _gold_codes(y_true, crowd, missing_label)
    n_gold = np.bincount(
        crowd.worker[gold[crowd.item] != _MISSING], minlength=crowd.n_workers
    )
    true_acc = worker_accuracy(Y, y_true, missing_label=missing_label)
    est_acc = np.asarray(estimated["accuracy"], dtype=float)
    report = pd.DataFrame(
        {
            "n_labels": crowd.labels_per_worker(),
            "n_gold": n_gold,
            "estimated_accuracy": est_acc,
            "true_accuracy": true_acc,
            "error": est_acc - true_acc,
        },
        index=estimated.index,
    )
    use = np.isfinite(est_acc) & np.isfinite(true_acc) & (n_gold >= min_gold)
    spearman = pearson = np.nan
    if use.sum() >= 3 and np.ptp(est_acc[use]) > 0 and np.ptp(true_acc[use]) > 0:
        spearman = float(spearmanr(est_acc[use], true_acc[use])[0])
        pearson = float(pearsonr(est_acc[use], true_acc[use])[0])
    report.attrs["spearman"] = spearman
    report.attrs["pearson"] = pearson
    report.attrs["mean_absolute_error"] = (
        float(np.mean(np.abs(est_acc[use] - true_acc[use]))) if use.any() else np.nan
    )
    return report


def crowd_agreement(y_pred, Y, *, missing_label=np.nan, sample_weight=None):
    """Fraction of the observed crowd labels equal to their item's prediction.

    This is the score of a crowd-trained classifier on a crowd ``Y`` with no
    gold labels: each observed label ``Y[i, r]`` counts once, so items with
    more labels weigh more.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,)
        The predicted label of each item.
    Y : array-like of shape (n_samples, n_workers), or sparse
        The crowd label matrix.
    missing_label : scalar, default=np.nan
        Marker of a missing label in ``Y``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each item; each of its labels carries it.

    Returns
    -------
    agreement : float
        In ``[0, 1]``; the accuracy when ``Y`` is 1-D.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import crowd_agreement
    >>> Y = np.array([["a", "a", None], ["b", "a", "b"]], dtype=object)
    >>> crowd_agreement(["a", "b"], Y)
    0.8
    """
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    y_pred = _as_1d(y_pred, crowd.n_samples, "y_pred")
    pred = _encode_labels(y_pred, crowd.classes, missing_label)
    hit = pred[crowd.item] == crowd.label
    weights = None
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, np.empty((crowd.n_samples, 0)), dtype=np.float64
        )
        weights = sample_weight[crowd.item]
        if weights.sum() == 0:
            raise ValueError(
                "sample_weight sums to zero over the items with an observed label."
            )
    return float(np.average(hit, weights=weights))


def crowd_log_likelihood(proba_worker, Y, *, classes=None, missing_label=np.nan,
                         eps=1e-15):
    """Mean log-probability of the observed crowd labels under a model.

    Parameters
    ----------
    proba_worker : array-like of shape (n_samples, n_classes) or \
            (n_samples, n_workers, n_classes)
        The model's probability of each label being *given* for an item:
        the same for every worker (2-D), or one distribution per worker
        (3-D, e.g. the true-class posterior times each worker's confusion
        matrix).
    Y : array-like of shape (n_samples, n_workers), or sparse
        The crowd label matrix.
    classes : array-like of shape (n_classes,), default=None
        The labels of the columns of ``proba_worker`` (sorted). ``None``
        uses the labels observed in ``Y``, which then must number
        ``n_classes``.
    missing_label : scalar, default=np.nan
        Marker of a missing label in ``Y``.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1]`` before the log.

    Returns
    -------
    log_likelihood : float
        The mean over the observed labels of ``log p(Y[i, r])``; higher is
        better, 0 is perfect.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import crowd_log_likelihood
    >>> Y = np.array([[0, 0], [1, np.nan]])
    >>> proba = np.array([[0.5, 0.5], [0.25, 0.75]])
    >>> round(crowd_log_likelihood(proba, Y), 4)
    -0.5580
    """
    crowd = check_crowd_matrix(Y, missing_label=missing_label, classes=classes)
    proba = np.asarray(proba_worker, dtype=float)
    if not (isinstance(eps, Real) and 0 <= eps < 1):
        raise ValueError(f"eps must be a float in [0, 1); got {eps!r}.")
    if not np.all(np.isfinite(proba)):
        raise ValueError("proba_worker contains NaN or infinity.")
    if proba.size and (proba.min() < 0 or proba.max() > 1 + 1e-8):
        raise ValueError(
            "proba_worker must hold probabilities in [0, 1]; got values in "
            f"[{proba.min():.3g}, {proba.max():.3g}]."
        )
    k = crowd.n_classes
    if proba.ndim == 2:
        expected = (crowd.n_samples, k)
    elif proba.ndim == 3:
        expected = (crowd.n_samples, crowd.n_workers, k)
    else:
        expected = None
    if proba.shape != expected:
        raise ValueError(
            "proba_worker must have shape (n_samples, n_classes) "
            f"{(crowd.n_samples, k)} or (n_samples, n_workers, n_classes) "
            f"{(crowd.n_samples, crowd.n_workers, k)}; got {proba.shape}. Pass "
            "classes= when some class has no observed label."
        )
    if proba.ndim == 2:
        p = proba[crowd.item, crowd.label]
    else:
        p = proba[crowd.item, crowd.worker, crowd.label]
    return float(np.mean(np.log(np.clip(p, eps, 1.0))))
