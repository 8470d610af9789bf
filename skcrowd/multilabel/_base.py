"""What the multi-label nets share: targets, data, validation, thresholds.

No torch at import time (the torch pieces are in ``_modules``).
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ..nn._net import BaseNeuralEstimator
from ..utils.validation import _nullable_frame_as_float

__all__ = [
    "BaseMultiLabelNet",
    "check_multilabel_target",
    "aggregate_multilabel_crowd",
    "f1_scores",
    "tune_thresholds",
    "validation_split",
]


# -- targets ------------------------------------------------------------------
def aggregate_multilabel_crowd(Y, aggregator=None):
    """Truth inference on a crowd ``(n_samples, n_workers, n_labels)``.

    ``aggregator`` is ``None`` (per-label Dawid-Skene), a binary aggregator
    (cloned and applied to each label's ``(n_samples, n_workers)`` crowd by
    :class:`~skcrowd.aggregation.MultiLabelAggregator`), or a multi-label
    aggregator that fits the 3-D crowd itself (its ``three_d_array`` input
    tag, e.g. :class:`~skcrowd.aggregation.MultiLabelDawidSkene`). Returns
    ``(proba, fitted)``: the posterior probability that each item has each
    label, ``(n_samples, n_labels)``, and the fitted aggregator.
    """
    from sklearn.base import clone
    from sklearn.utils import get_tags

    from ..aggregation import MultiLabelAggregator

    if aggregator is not None and get_tags(aggregator).input_tags.three_d_array:
        agg = clone(aggregator).fit(Y)
    else:
        agg = MultiLabelAggregator(aggregator=aggregator).fit(Y)
    return np.asarray(agg.proba_, dtype=np.float64), agg


def check_multilabel_target(y, n_samples):
    """Encode ``y``; returns ``(Y float32 (n, L), kind, classes, crowd)``.

    ``kind`` is ``"single-label"`` (a 1-D class vector, one-hot encoded),
    ``"multi-label"`` (an indicator matrix or probabilities in [0, 1]) or
    ``"crowd"`` (``(n, n_workers, n_labels)`` with NaN missing; returned as
    is in ``crowd``, ``Y`` is None until aggregated).
    """
    if sp.issparse(y):
        y = y.toarray()
    # nullable pandas columns: not an object array rejected as non-numeric
    y = np.asarray(_nullable_frame_as_float(y))
    if y.ndim == 3:
        check_consistent_length(np.empty(n_samples), y)
        try:
            crowd = y.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"A multi-label crowd y must be numeric (0, 1 or NaN): {exc}"
            ) from None
        observed = crowd[~np.isnan(crowd)]
        if observed.size == 0:
            raise ValueError("The multi-label crowd y has no observed label.")
        if not np.isin(observed, (0.0, 1.0)).all():
            raise ValueError(
                "A multi-label crowd y (n_samples, n_workers, n_labels) holds 0, 1 "
                "or NaN (missing); got other values."
            )
        if np.isinf(crowd).any():
            raise ValueError("The multi-label crowd y contains inf.")
        return None, "crowd", np.arange(y.shape[2]), crowd
    if y.ndim == 2 and y.shape[1] == 1:
        numeric = y.dtype.kind in "fiub"
        soft = numeric and np.isfinite(y).all() and ((y > 0) & (y < 1)).any()
        if not soft:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is "
                "read as class labels (one label per sample).",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
    if y.ndim == 1:
        check_consistent_length(np.empty(n_samples), y)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        Y = np.zeros((len(y), len(classes)), dtype=np.float32)
        Y[np.arange(len(y)), codes] = 1.0
        return Y, "single-label", classes, None
    if y.ndim != 2:
        raise ValueError(
            f"y must be 1-D (class labels), 2-D (n_samples, n_labels) or 3-D "
            f"(a crowd: n_samples, n_workers, n_labels); got {y.ndim} dimensions."
        )
    check_consistent_length(np.empty(n_samples), y)
    if y.dtype.kind not in "fiub":
        raise ValueError(
            "A 2-D y must be a multi-label indicator matrix or label probabilities "
            f"in [0, 1]; got values of type {y.dtype}."
        )
    Y = y.astype(np.float32)
    if not np.isfinite(Y).all():
        raise ValueError(
            "A 2-D multi-label y contains NaN or inf; missing labels need a crowd "
            "y of shape (n_samples, n_workers, n_labels)."
        )
    if Y.min() < 0 or Y.max() > 1:
        raise ValueError(
            "A 2-D y must be a multi-label indicator matrix or label probabilities "
            "in [0, 1] (multi-output class labels are not supported); got values "
            f"in [{Y.min():g}, {Y.max():g}]."
        )
    return Y, "multi-label", np.arange(Y.shape[1]), None


# -- metrics and thresholds -------------------------------------------------------
def f1_scores(Y, P):
    """``(micro F1, macro F1)`` of 0/1 matrices (a label with no true and no
    predicted positive scores 0, sklearn's ``zero_division=0``)."""
    Y = np.asarray(Y) >= 0.5
    P = np.asarray(P).astype(bool)
    tp = (Y & P).sum(axis=0).astype(float)
    fp = (~Y & P).sum(axis=0)
    fn = (Y & ~P).sum(axis=0)
    denom = 2 * tp + fp + fn
    per = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    total = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = 2 * tp.sum() / total if total > 0 else 0.0
    return float(micro), float(per.mean())


def _check_tune_thresholds_args(proba, Y, default, bounds, shrinkage):
    """Validated ``proba`` and ``Y`` as float arrays of one (n, n_labels) shape."""
    proba = np.asarray(proba, dtype=float)
    Y = np.asarray(Y.toarray() if sp.issparse(Y) else Y, dtype=float)
    if proba.ndim != 2 or proba.shape != Y.shape:
        raise ValueError(
            "proba and Y must be 2-D arrays of one shape (n_samples, n_labels); "
            f"got {proba.shape} and {Y.shape}."
        )
    if len(proba) == 0:
        raise ValueError("proba and Y are empty: no held-out item to tune on.")
    for name, values in (("proba", proba), ("Y", Y)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(f"{name} must hold values in [0, 1].")
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be a pair (low, high); got {bounds!r}."
        ) from None
    if not 0 <= low <= high <= 1:
        raise ValueError(
            f"bounds must satisfy 0 <= low <= high <= 1; got {tuple(bounds)!r}."
        )
    if not (isinstance(default, Real) and 0 <= default <= 1):
        raise ValueError(f"default must be a threshold in [0, 1]; got {default!r}.")
    if not (isinstance(shrinkage, Real) and 0 <= shrinkage < np.inf):
        raise ValueError(
            f"shrinkage must be a finite number >= 0; got {shrinkage!r}."
        )
    return proba, Y


def tune_thresholds(proba, Y, default=0.5, bounds=(0.1, 0.9), shrinkage=4.0):
    """Per-label thresholds maximising each label's F1 on held-out data.

    For a label with positives, the threshold is the midpoint between the
    lowest score predicted positive at the best F1 and the next score
    below it, clipped to ``bounds``: a rare label whose only held-out
    positive scored 0.01 would otherwise call every document with a score
    above 0.01 positive (on Reuters, unclipped thresholds cost 15 points of
    micro-F1 on held-out data). Labels without a held-out positive get the
    one global threshold (on a grid of step 0.02) that maximises micro-F1
    over all labels. A label's own optimum :math:`t_c` from :math:`n_c`
    held-out positives is shrunk towards the global threshold :math:`g`:
    :math:`(n_c t_c + k g) / (n_c + k)` with ``k = shrinkage`` (few positives
    make a noisy optimum; on a validation split of Reuters' training set,
    ``k = 4`` gave BBSN +3 points of micro-F1 and +1 of macro-F1 over no
    shrinkage).

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.2], [0.4, 0.1], [0.3, 0.3]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 0]])
    >>> tune_thresholds(proba, Y, shrinkage=0).round(2).tolist()
    [0.35, 0.3]
    """
    proba, Y = _check_tune_thresholds_args(proba, Y, default, bounds, shrinkage)
    Y = Y >= 0.5
    n, n_labels = proba.shape
    # the global threshold: best micro-F1 over a grid
    grid = np.linspace(0.02, 0.98, 49)
    best_global, best_f1 = default, -1.0
    n_pos = Y.sum()
    for t in grid:
        P = proba >= t
        tp = (P & Y).sum()
        f1 = 2 * tp / (P.sum() + n_pos) if (P.sum() + n_pos) else 0.0
        if f1 > best_f1:
            best_f1, best_global = f1, float(t)
    thresholds = np.full(n_labels, best_global)
    positives = Y.sum(axis=0)
    order = np.argsort(-proba, axis=0, kind="stable")
    for c in range(n_labels):
        pos = Y[:, c].sum()
        if pos == 0:
            continue
        s = proba[order[:, c], c]
        tp = np.cumsum(Y[order[:, c], c])
        k = np.arange(1, n + 1)
        f1 = 2 * tp / (k + pos)
        # only cut between distinct scores
        valid = np.append(s[:-1] > s[1:], True)
        f1 = np.where(valid, f1, -1.0)
        j = int(np.argmax(f1))
        below = s[j + 1] if j + 1 < n else max(0.0, s[j] - 1e-3)
        thresholds[c] = 0.5 * (s[j] + below)
    has = positives > 0  # the others have the global threshold already
    thresholds[has] = (positives[has] * thresholds[has] + shrinkage * best_global) / (
        positives[has] + shrinkage
    )
    return np.clip(thresholds, *bounds)


def validation_split(Y, fraction, rng):
    """Training and validation rows; every label keeps a training document.

    Rows are split at random; then, for each label whose documents all fell
    in the validation part, one of them goes back to training.
    """
    n = len(Y)
    n_valid = int(round(fraction * n))
    if n_valid < 1 or n - n_valid < 1:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training or no validation "
            f"sample of {n}."
        )
    perm = rng.permutation(n)
    is_valid = np.zeros(n, dtype=bool)
    is_valid[perm[:n_valid]] = True
    member = np.asarray(Y) >= 0.5
    for c in np.flatnonzero(member.any(axis=0)):
        docs = np.flatnonzero(member[:, c])
        if is_valid[docs].all():
            is_valid[docs[rng.integers(len(docs))]] = False
    return np.flatnonzero(~is_valid), np.flatnonzero(is_valid)


# -- the base estimator -----------------------------------------------------------
class BaseMultiLabelNet(ClassifierMixin, BaseNeuralEstimator):
    """Fit/predict of the multi-label nets; subclasses build the module.

    Subclasses implement ``_build_module(data, target, **info)`` and may
    override ``_train_dataset(X, Y)`` and ``_extra_callbacks()``.
    """

    # train on our own datasets (batch indexing), never skorch's split
    _batched_loader = True
    # no skorch early stopping: model selection is on validation F1
    early_stopping = False

    _parameter_constraints: dict = {
        **{
            k: v
            for k, v in BaseNeuralEstimator._parameter_constraints.items()
            if k not in ("early_stopping", "n_iter_no_change", "accelerator")
        },
        "hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "module_params": [dict, None],
        "threshold": [Interval(Real, 0, 1, closed="neither"), StrOptions({"tuned"})],
        "model_selection": [StrOptions({"last", "best", "faithful"})],
        "warmup": [Interval(Real, 0, 1, closed="left"), None],
        "aggregator": "no_validation",
    }

    # -- data -------------------------------------------------------------
    def _check_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=np.float32)
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            X.sort_indices()
        return X

    def _dataset(self, X, Y=None):
        from ._modules import RowData

        return RowData(X, Y, dense=self.module is not None)

    def _train_dataset(self, X, Y):
        return self._dataset(X, Y)

    def _extra_callbacks(self):
        return []

    def _skorch_callbacks(self):
        from skorch.callbacks import ProgressBar

        from ._modules import WarmupLinear

        callbacks = [] if self.callbacks is None else list(self.callbacks)
        if self.warmup is not None:
            callbacks.append(("warmup_linear", WarmupLinear(self.warmup)))
        callbacks += self._extra_callbacks()
        selection = getattr(self, "_selection_callback", None)
        if selection is not None:
            callbacks.append(("validation_selection", selection))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _train_split(self, seed):
        return None

    def _optimizer_class(self):
        if self.optimizer in ("adam", "adamw"):
            from ._modules import LazyAdamW

            return LazyAdamW
        return super()._optimizer_class()

    def _sparse_grad(self):
        return self.optimizer in ("adam", "adamw")

    def _make_encoder(self, X, data):
        from ._modules import build_encoder

        sample = None
        if self.module is not None:
            sample, _ = data[np.arange(min(len(data), 8))]
        enc, size = build_encoder(
            self.module,
            X.shape[1],
            self.hidden_units,
            self.dropout,
            self.module_params or {},
            sample,
        )
        if hasattr(enc, "sparse_grad"):
            enc.sparse_grad = self._sparse_grad()
        return enc, size

    # -- fit ----------------------------------------------------------------
    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features; a sparse matrix (e.g. TF-IDF) is read batch by batch
            and never densified whole.
        y : array-like of shape (n_samples, n_labels), (n_samples,) or \
                (n_samples, n_workers, n_labels)
            A multi-label indicator matrix, or label probabilities in
            ``[0, 1]`` (soft targets); a 1-D vector of class labels (one
            label per sample, predicted by the most probable label); or a
            crowd of multi-label annotations with NaN where a worker did not
            annotate, aggregated per label first (``aggregator``).

        Returns
        -------
        self : object
        """
        self._validate_params()
        if self.model_selection != "last" and self.validation_fraction is None:
            raise ValueError(
                f"model_selection={self.model_selection!r} needs a "
                "validation_fraction in (0, 1)."
            )
        if self.threshold == "tuned" and self.validation_fraction is None:
            raise ValueError('threshold="tuned" needs a validation_fraction in (0, 1).')
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        check_consistent_length(X, y)
        X = self._check_X(X, reset=True)
        Y, kind, classes, crowd = check_multilabel_target(y, X.shape[0])
        if kind == "crowd":
            if crowd.shape[0] != X.shape[0]:
                raise ValueError("X and the crowd y have different numbers of samples.")
            proba, self.aggregator_ = aggregate_multilabel_crowd(crowd, self.aggregator)
            Y = proba.astype(np.float32)
        self.target_type_ = kind
        self.classes_ = classes
        self.n_labels_ = Y.shape[1]
        rng = check_random_state(self.random_state)
        split_seed = int(rng.randint(np.iinfo(np.int32).max))
        self._selection_callback = None
        valid = None
        if self.validation_fraction is not None:
            train, valid = validation_split(
                Y, self.validation_fraction, np.random.default_rng([split_seed, 7])
            )
            Xv, Yv = X[valid], Y[valid]
            X, Y = X[train], Y[train]
            if self.model_selection != "last":
                from ._modules import ValidationSelection

                self._selection_callback = ValidationSelection(
                    self._dataset(Xv, None),
                    Yv,
                    self._selection_score,
                    reload=self.model_selection == "faithful",
                )
        self.label_counts_ = Y.sum(axis=0).astype(np.float64)
        data = self._train_dataset(X, Y)
        try:
            self._fit_net(data, None, features=X, labels=Y)
        finally:
            self._selection_callback = None
        self._set_thresholds(None if valid is None else (Xv, Yv))
        return self

    def _selection_score(self, logits, Yv):
        proba = _sigmoid(logits)
        if not np.isfinite(proba).all():
            # weights that diverged to NaN: no score, so never the best epoch
            # (tune_thresholds raised "proba contains NaN" mid-training)
            return np.nan, np.nan
        thresholds = (
            tune_thresholds(proba, Yv) if self.threshold == "tuned" else self.threshold
        )
        return f1_scores(Yv, proba >= thresholds)

    def _set_thresholds(self, valid):
        if self.threshold == "tuned":
            Xv, Yv = valid
            self.threshold_ = tune_thresholds(self._proba_rows(Xv), Yv)
        else:
            self.threshold_ = np.full(self.n_labels_, float(self.threshold))

    # -- predict -------------------------------------------------------------
    def _proba_rows(self, X):
        import torch

        with torch.random.fork_rng(devices=self._cuda_devices()):
            out = self._forward(self._dataset(X, None))
        return _sigmoid(out.double().numpy())

    def _label_proba(self, X):
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self._proba_rows(X)

    def predict_proba(self, X):
        """Probability of each label (independent sigmoids).

        For a model fitted on 1-D class labels, the probabilities are
        normalised over the classes (they sum to 1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        proba = self._label_proba(X)
        if self.target_type_ == "single-label":
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(
                proba,
                total,
                out=np.full_like(proba, 1.0 / proba.shape[1]),
                where=total > 0,
            )
        return proba

    def predict(self, X):
        """Labels of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples, n_labels) or (n_samples,)
            The 0/1 indicator matrix (probability at least ``threshold_``);
            for a model fitted on 1-D class labels, the most probable class.
        """
        proba = self._label_proba(X)
        if self.target_type_ == "single-label":
            return self.classes_[np.argmax(proba, axis=1)]
        return (proba >= self.threshold_).astype(np.int64)

    def score(self, X, y, sample_weight=None):
        """Subset accuracy (scikit-learn's convention for multi-label y).

        A crowd ``y`` (3-D) is not a gold standard: score against gold
        labels, or with ``skcrowd.metrics`` on the predictions.
        """
        if np.ndim(y) == 3:
            raise ValueError(
                "score needs gold labels (1-D or an indicator matrix), not a crowd."
            )
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.classifier_tags.multi_label = True
        return tags


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))
