"""Multi-label truth inference: one binary aggregation per label."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ._dawid_skene import DawidSkene

__all__ = ["MultiLabelAggregator"]


def _check_binary_values(values, where):
    values = np.asarray(values)
    if values.dtype.kind == "b":
        return
    if values.dtype.kind not in "iuf":
        raise ValueError(
            f"{where} must hold 0/1 tags (NaN where missing); got dtype "
            f"{values.dtype}."
        )
    seen = values[~np.isnan(values)] if values.dtype.kind == "f" else values
    bad = (seen != 0) & (seen != 1)
    if bad.any():
        raise ValueError(
            f"{where} must hold 0/1 tags (NaN where missing); found "
            f"{np.unique(seen[bad])[:5].tolist()}."
        )


def _label_crowds(Y):
    """The per-label binary crowds of ``Y`` and their shape (n, W, L)."""
    if isinstance(Y, (list, tuple)):
        if len(Y) == 0:
            raise ValueError("Y is an empty list: give one crowd per label.")
        crowds = []
        for j, crowd in enumerate(Y):
            if not sp.issparse(crowd):
                crowd = np.asarray(crowd)
                if crowd.dtype.kind in "iub":
                    crowd = crowd.astype(np.float64)
            if crowd.ndim != 2:
                raise ValueError(
                    f"Y[{j}] must be a 2-D crowd (n_samples, n_workers); got "
                    f"shape {crowd.shape}."
                )
            if crowd.shape != Y[0].shape:
                raise ValueError(
                    f"Every label's crowd must have the shape of Y[0] "
                    f"{Y[0].shape}; Y[{j}] has {crowd.shape}."
                )
            _check_binary_values(
                crowd.data if sp.issparse(crowd) else crowd, f"Y[{j}]"
            )
            crowds.append(crowd)
        return crowds, (*crowds[0].shape, len(crowds))
    if sp.issparse(Y):
        raise ValueError(
            "A sparse Y must be given as a list of per-label sparse crowds "
            "(n_samples, n_workers); scipy.sparse has no 3-D arrays."
        )
    Y = np.asarray(Y)
    if Y.ndim != 3:
        raise ValueError(
            "MultiLabelAggregator takes a 3-D crowd (n_samples, n_workers, "
            f"n_labels) or a list of per-label 2-D crowds; got shape {Y.shape}. "
            "For a single label, pass Y[:, :, None] or use the aggregator itself."
        )
    if 0 in Y.shape:
        raise ValueError(f"Y is empty: got shape {Y.shape}.")
    if Y.dtype.kind == "O":
        try:
            Y = Y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "Y must hold 0/1 tags (NaN where missing); it holds values that "
                "are not numbers."
            ) from None
    _check_binary_values(Y, "Y")
    if Y.dtype.kind != "f":
        Y = Y.astype(np.float64)
    return [Y[:, :, j] for j in range(Y.shape[2])], Y.shape


class MultiLabelAggregator(BaseEstimator):
    """Aggregate multi-label crowd tags, one binary crowd per label.

    Every worker who annotates an item says, for each label, whether it
    applies (1) or not (0). Each label ``l`` is then a binary crowd
    ``Y[:, :, l]`` of shape ``(n_samples, n_workers)``, aggregated on its
    own by a clone of ``aggregator`` (default :class:`DawidSkene`): a
    worker's sensitivity and specificity are estimated per label, and the
    labels are independent given the workers (the model of the per-label
    Dawid-Skene baselines of multi-label crowdsourcing, e.g. Duan, Oyama,
    Sato & Kurihara, "Separate or joint? Estimation of multiple labels from
    crowdsourced annotations", Expert Systems with Applications 41(13),
    2014).

    The loop runs over the labels only (labels are usually fewer than 100);
    each aggregator is vectorised over items and workers.

    Parameters
    ----------
    aggregator : estimator, default=None
        A skcrowd aggregator (an estimator with ``fit(Y)`` setting
        ``classes_``, ``proba_`` and ``labels_``), cloned once per label.
        ``None`` uses ``DawidSkene()``.

    Attributes
    ----------
    proba_ : ndarray of shape (n_samples, n_labels)
        Posterior probability that each label applies to each item.
    labels_ : ndarray of shape (n_samples, n_labels)
        The estimated int8 label indicator matrix: each label's aggregator's
        own ``labels_`` (for ``DawidSkene``, ``proba_ > 0.5``).
    aggregators_ : list of estimator
        The fitted aggregator of each label.
    n_workers_ : int
        Number of workers (columns of each label's crowd).
    n_labels_ : int
        Number of labels.

    Notes
    -----
    **Items without any annotation** are kept, not rejected: they get the
    posterior each label's aggregator gives an item without labels. For
    ``DawidSkene`` that is the label's estimated prevalence (its class
    prior); for ``MajorityVote`` 0.5, with the tie broken at random.

    **A label that no worker ever tagged** (only 0s observed) has
    posterior 0 on every item, and a label tagged by every annotator on
    every item posterior 1: the binary crowd then holds one class only, so
    there is nothing to infer. A label without any observed tag (all
    missing) is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import MajorityVote, MultiLabelAggregator
    >>> # 4 items, 3 workers, 2 labels; worker 2 skipped item 3
    >>> Y = np.array([
    ...     [[1, 0], [1, 0], [0, 0]],
    ...     [[0, 1], [0, 1], [0, 1]],
    ...     [[1, 1], [1, 0], [1, 1]],
    ...     [[0, 0], [1, 0], [np.nan, np.nan]],
    ... ])
    >>> agg = MultiLabelAggregator(MajorityVote(random_state=0)).fit(Y)
    >>> agg.labels_
    array([[1, 0],
           [0, 1],
           [1, 1],
           [1, 0]], dtype=int8)
    >>> agg.proba_[:, 0]  # item 3: a 1-1 tie, broken at random above
    array([0.667, 0.   , 1.   , 0.5  ])
    >>> ds = MultiLabelAggregator().fit(Y)  # DawidSkene per label
    >>> ds.proba_.shape, len(ds.aggregators_)
    ((4, 2), 2)
    """

    def __init__(self, aggregator=None):
        self.aggregator = aggregator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        return tags

    def _base_aggregator(self):
        if self.aggregator is None:
            return DawidSkene()
        if not hasattr(self.aggregator, "fit") or not hasattr(
            self.aggregator, "get_params"
        ):
            raise ValueError(
                "aggregator must be a scikit-learn compatible aggregator (e.g. "
                f"DawidSkene()); got {self.aggregator!r}."
            )
        return self.aggregator

    def fit(self, Y, y=None, *, y_gold=None):
        """Aggregate each label's binary crowd.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers, n_labels), or list
            The tags: ``Y[i, r, l]`` is 1 if worker ``r`` tagged item ``i``
            with label ``l``, 0 if they annotated the item without that
            label, NaN if they did not annotate it. Or a list of
            ``n_labels`` crowds of shape (n_samples, n_workers), dense (NaN
            missing) or ``scipy.sparse`` (stored entries observed, explicit
            zeros included).
        y : None
            Ignored.
        y_gold : array-like of shape (n_samples, n_labels), default=None
            Known true tags (0/1) of some items, NaN where unknown, passed to
            each label's aggregator (semi-supervised EM).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        base = self._base_aggregator()
        crowds, (n_samples, n_workers, n_labels) = _label_crowds(Y)
        if y_gold is not None:
            y_gold = np.asarray(y_gold, dtype=np.float64)
            if y_gold.shape != (n_samples, n_labels):
                raise ValueError(
                    f"y_gold must have shape (n_samples, n_labels) = "
                    f"({n_samples}, {n_labels}); got {y_gold.shape}."
                )
            _check_binary_values(y_gold, "y_gold")
        proba = np.empty((n_samples, n_labels))
        labels = np.empty((n_samples, n_labels), dtype=np.int8)
        aggregators = []
        for j, crowd in enumerate(crowds):
            agg = clone(base)
            kwargs = {} if y_gold is None else {"y_gold": y_gold[:, j]}
            try:
                agg.fit(crowd, **kwargs)
            except ValueError as exc:
                raise ValueError(f"Label {j}: {exc}") from exc
            classes = np.asarray(agg.classes_)
            one = np.flatnonzero(classes == 1)
            if len(one):
                proba[:, j] = np.asarray(agg.proba_)[:, one[0]]
            else:  # no worker ever tagged the label
                proba[:, j] = 0.0
            labels[:, j] = np.asarray(agg.labels_) == 1
            aggregators.append(agg)
        self.aggregators_ = aggregators
        self.proba_ = proba
        self.labels_ = labels
        self.n_workers_ = n_workers
        self.n_labels_ = n_labels
        return self

    def fit_predict(self, Y, y=None, *, y_gold=None):
        """Fit, then return the estimated indicator matrix ``labels_``.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers, n_labels), or list
            The tags (see :meth:`fit`).
        y : None
            Ignored.
        y_gold : array-like of shape (n_samples, n_labels), default=None
            Known true tags of some items (see :meth:`fit`).

        Returns
        -------
        labels : ndarray of shape (n_samples, n_labels)
        """
        return self.fit(Y, y_gold=y_gold).labels_

    def fit_predict_proba(self, Y, y=None, *, y_gold=None):
        """Fit, then return the posterior ``proba_`` of each label.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers, n_labels), or list
            The tags (see :meth:`fit`).
        y : None
            Ignored.
        y_gold : array-like of shape (n_samples, n_labels), default=None
            Known true tags of some items (see :meth:`fit`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        return self.fit(Y, y_gold=y_gold).proba_

    def worker_sensitivity_specificity(self):
        """Each worker's estimated sensitivity and specificity per label.

        Available when the aggregator estimates confusion matrices
        (``confusion_``, as :class:`DawidSkene`).

        Returns
        -------
        sensitivity : ndarray of shape (n_workers, n_labels)
            ``P(tag 1 | label applies)``; NaN for a label whose crowd holds
            one class only.
        specificity : ndarray of shape (n_workers, n_labels)
            ``P(tag 0 | label does not apply)``; NaN likewise.
        """
        check_is_fitted(self)
        sens = np.full((self.n_workers_, self.n_labels_), np.nan)
        spec = np.full((self.n_workers_, self.n_labels_), np.nan)
        for j, agg in enumerate(self.aggregators_):
            if not hasattr(agg, "confusion_"):
                raise AttributeError(
                    f"{type(agg).__name__} has no confusion_: sensitivity and "
                    "specificity need a confusion-matrix model (DawidSkene)."
                )
            classes = np.asarray(agg.classes_)
            if len(classes) != 2:
                continue
            conf = np.asarray(agg.confusion_)  # (W, true, given), classes 0, 1
            sens[:, j] = conf[:, 1, 1]
            spec[:, j] = conf[:, 0, 0]
        return sens, spec
