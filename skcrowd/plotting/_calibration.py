"""Reliability diagram: is a posterior's confidence its accuracy?

matplotlib is an optional dependency (the ``plot`` extra); it is imported
when a plot is drawn, never when skcrowd is imported.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..utils.validation import is_missing_label
from ._base import get_ax

__all__ = ["plot_reliability_diagram"]


def _reliability_bins(y_true, proba, n_bins, classes, strategy="uniform"):
    """Per-bin mean confidence, accuracy and count, and the calibration error."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(
            "proba must be (n_samples, n_classes) with at least 2 classes; got "
            f"shape {proba.shape}."
        )
    y_true = np.asarray(y_true)
    if y_true.ndim != 1 or len(y_true) != len(proba):
        raise ValueError(
            f"y_true must be 1-D with one label per row of proba ({len(proba)}); "
            f"got shape {y_true.shape}."
        )
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    if classes.shape != (proba.shape[1],):
        raise ValueError(
            f"classes has shape {classes.shape} for {proba.shape[1]} columns of proba."
        )
    if not np.isfinite(proba).all():
        raise ValueError("proba must be finite; got NaN or infinite values.")
    if proba.size and (proba.min() < 0 or proba.max() > 1):
        raise ValueError(
            "proba must be probabilities in [0, 1]; got values in "
            f"[{proba.min()}, {proba.max()}]."
        )
    if not isinstance(n_bins, Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int; got {n_bins!r}.")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    known = ~is_missing_label(y_true)
    if not known.any():
        raise ValueError("y_true has no known label: nothing to check against.")
    proba, y_true = proba[known], y_true[known]
    confidence = proba.max(axis=1)
    correct = (classes[proba.argmax(axis=1)] == y_true).astype(np.float64)
    n_bins = int(n_bins)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, n_bins + 1))
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(which, weights=correct, minlength=n_bins) / count
    filled = count > 0
    ece = np.sum(count[filled] * np.abs(accuracy[filled] - mean_conf[filled]))
    ece /= count.sum()
    return mean_conf[filled], accuracy[filled], count[filled], ece


def plot_reliability_diagram(
    y_true,
    proba,
    n_bins=10,
    *,
    strategy="uniform",
    classes=None,
    label=None,
    ax=None,
):
    """Plot the accuracy of the predicted labels against their confidence.

    The items are binned by the probability of their predicted class
    (``proba.max(axis=1)``); each point is a bin, at its mean confidence and
    the fraction of its items whose predicted class is the true one, with an
    area that grows with the number of items. A calibrated posterior lies on
    the diagonal; points below it are overconfident. The legend gives the
    expected calibration error (ECE), the mean gap weighted by the items.
    Call it once per model on the same ``ax`` to compare models.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true (gold) class of each item; missing (NaN/None) where
        unknown, such items are left out.
    proba : array-like of shape (n_samples, n_classes)
        The posterior of each item's class, columns in the order of
        ``classes`` (e.g. an aggregator's ``proba_``).
    n_bins : int, default=10
        Number of confidence bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: bins of equal width on ``[0, 1]``. ``"quantile"``:
        bins with the same number of items, which resolves posteriors that
        put most items near a confidence of 1 (ties may merge bins).
    classes : array-like of shape (n_classes,), default=None
        The class of each column of ``proba`` (e.g. the estimator's
        ``classes_``); default ``0..n_classes-1``.
    label : str, default=None
        Name of the model in the legend.
    ax : matplotlib Axes, default=None
        Axes to draw in; default a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn in.

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : The per-class version for a
        binary classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import MajorityVote
    >>> from skcrowd.datasets import make_crowd_classification
    >>> from skcrowd.plotting import plot_reliability_diagram
    >>> X, Y, y_true = make_crowd_classification(n_samples=300, random_state=0)
    >>> mv = MajorityVote().fit(Y)
    >>> ax = plot_reliability_diagram(y_true, mv.proba_, classes=mv.classes_,
    ...                               label="majority vote")
    >>> ax.get_legend().get_texts()[-1].get_text()
    'majority vote (ECE 0.108)'
    """
    confidence, accuracy, count, ece = _reliability_bins(
        y_true, proba, n_bins, classes, strategy
    )
    ax = get_ax(ax)
    if not any(line.get_gid() == "skcrowd-diagonal" for line in ax.get_lines()):
        ax.plot(
            [0, 1],
            [0, 1],
            color="0.4",
            linestyle="--",
            linewidth=1,
            zorder=0,
            label="calibrated",
            gid="skcrowd-diagonal",
        )
    name = "model" if label is None else str(label)
    (line,) = ax.plot(
        confidence, accuracy, marker=None, label=f"{name} (ECE {ece:.3f})"
    )
    ax.scatter(
        confidence,
        accuracy,
        s=15 + 250 * count / count.sum(),
        color=line.get_color(),
        edgecolors="white",
        linewidths=0.5,
        zorder=3,
    )
    ax.set_xlim(0.0, 1.02)
    ax.set_ylim(0.0, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("confidence (probability of the predicted class)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="lower right", fontsize="small")
    return ax
