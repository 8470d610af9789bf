"""Scoring a crowd-trained model on gold labels through metadata routing."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
from sklearn.base import is_regressor
from sklearn.metrics import accuracy_score, get_scorer
from sklearn.metrics._scorer import (
    _cached_call,
    _check_response_method,
    _get_func_repr_or_name,
    _get_response_method_name,
    _raise_for_params,
    _routing_enabled,
    _Scorer,
)
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import _num_samples

from ..utils.validation import is_missing_label

__all__ = ["make_gold_scorer"]


def _tighten(values):
    """An object array of plain numbers or strings, given its natural dtype."""
    if values.dtype.kind != "O" or len(values) == 0:
        return values
    tightened = np.array(values.tolist())
    return tightened if tightened.dtype.kind != "O" else values


class _GoldScorer(_Scorer):
    """A scorer that ignores the crowd ``y`` and scores on ``y_gold``.

    It requests the ``y_gold`` metadata of ``score`` by default, so a
    meta-estimator (``GridSearchCV``, ``cross_validate``) routes the gold
    labels, split per fold, to it and to nothing else.
    """

    def __init__(self, score_func, sign, kwargs, response_method, missing_label):
        super().__init__(score_func, sign, kwargs, response_method)
        self._missing_label = missing_label
        self._metadata_request = MetadataRequest(owner=self)
        self._metadata_request.score.add_request(param="y_gold", alias=True)

    def __repr__(self):
        sign = "" if self._sign > 0 else ", greater_is_better=False"
        kwargs = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return (
            f"make_gold_scorer({_get_func_repr_or_name(self._score_func)}{sign}, "
            f"response_method={self._response_method!r}{kwargs})"
        )

    def set_score_request(self, **kwargs):
        """Set the metadata requested by the scorer; ``y_gold`` stays requested.

        Parameters
        ----------
        **kwargs : dict
            ``param=alias`` pairs with alias one of ``{True, False, None,
            str}``, e.g. ``sample_weight=True`` or ``y_gold="y_expert"`` to
            read the gold labels from metadata passed as ``y_expert``.

        Returns
        -------
        self : object
            The scorer.
        """
        kwargs.setdefault("y_gold", True)
        return super().set_score_request(**kwargs)

    def __call__(self, estimator, X, y_true=None, *, y_gold=None, **kwargs):
        """Score ``estimator`` on the items of ``X`` that have a gold label.

        Parameters
        ----------
        estimator : object
            A fitted estimator.
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The items to predict.
        y_true : object, default=None
            The crowd labels of the items; ignored.
        y_gold : array-like of shape (n_samples,)
            The gold labels, missing (NaN/None/``missing_label``) for the
            items without one.
        **kwargs : dict
            Further metadata (e.g. ``sample_weight``); requires metadata
            routing to be enabled, as for scikit-learn's scorers.

        Returns
        -------
        score : float
        """
        _raise_for_params(kwargs, self, None)
        return self._score(
            partial(_cached_call, None), estimator, X, y_true, y_gold=y_gold, **kwargs
        )

    def _score(self, method_caller, estimator, X, y_true, y_gold=None, **kwargs):
        if y_gold is None:
            hint = (
                ""
                if _routing_enabled()
                else " Metadata routing is disabled: enable it with "
                "sklearn.set_config(enable_metadata_routing=True) so that "
                "GridSearchCV(...).fit(X, Y, y_gold=g) routes y_gold to the scorer."
            )
            raise ValueError(
                "The gold scorer needs the gold labels: pass y_gold=... (missing "
                f"where unknown).{hint}"
            )
        self._warn_overlap(
            message=(
                "There is an overlap between set kwargs of this scorer instance and"
                " passed metadata. Please pass them either as kwargs to"
                " make_gold_scorer or metadata, but not both."
            ),
            kwargs=kwargs,
        )
        y_gold = np.asarray(y_gold)
        n_samples = _num_samples(X)
        if y_gold.ndim != 1 or len(y_gold) != n_samples:
            raise ValueError(
                f"y_gold must be 1-D with one entry per item of X ({n_samples}); "
                f"got shape {y_gold.shape}."
            )
        known = np.flatnonzero(~is_missing_label(y_gold, self._missing_label))
        if len(known) == 0:
            warnings.warn(
                "No item of this split has a gold label: the gold score is NaN.",
                UserWarning,
                stacklevel=2,
            )
            return np.nan

        # predict on all of X (the prediction may be cached and shared with
        # other scorers), then keep the items with a gold label
        pos_label = None if is_regressor(estimator) else self._get_pos_label()
        response_method = _check_response_method(estimator, self._response_method)
        y_pred = method_caller(
            estimator,
            _get_response_method_name(response_method),
            X,
            pos_label=pos_label,
        )
        y_pred = _safe_indexing(y_pred, known)
        y_known = _tighten(y_gold[known])
        metadata = {
            key: _safe_indexing(np.asarray(value), known)
            if _is_per_sample(value, n_samples)
            else value
            for key, value in kwargs.items()
        }
        scoring_kwargs = {**self._kwargs, **metadata}
        return self._sign * self._score_func(y_known, y_pred, **scoring_kwargs)


def _is_per_sample(value, n_samples):
    try:
        return np.ndim(value) >= 1 and len(value) == n_samples
    except TypeError:
        return False


def make_gold_scorer(
    score_func=accuracy_score,
    *,
    response_method="predict",
    greater_is_better=True,
    missing_label=np.nan,
    **kwargs,
):
    """Make a scorer that evaluates a crowd-trained model on gold labels.

    Model selection on a crowd needs a score, and the crowd label matrix
    ``Y`` that ``GridSearchCV`` and ``cross_validate`` pass to the scorer is
    not the truth: scoring against it fails (``ClassifierMixin.score``
    rejects a 2-D ``y``) or measures agreement with noisy workers. This
    scorer ignores the crowd ``y`` it is given and scores the predictions
    on the *gold* labels, passed as the metadata ``y_gold``. It requests
    ``y_gold`` by default, so with metadata routing enabled

    ``GridSearchCV(est, grid, scoring=make_gold_scorer()).fit(X, Y, y_gold=g)``

    splits ``g`` with the folds and hands each test fold's gold labels to the
    scorer only: the estimator's ``fit`` never sees them. Items whose gold
    label is missing (NaN, None or ``missing_label``) are left out of the
    score, so a few hundred expert labels among many crowd-labelled items
    are enough.

    Metadata routing must be enabled:
    ``sklearn.set_config(enable_metadata_routing=True)`` or, locally,
    ``with sklearn.config_context(enable_metadata_routing=True):``. Without
    it scikit-learn passes ``y_gold`` to the estimator's ``fit`` instead. If
    the estimator's ``fit`` itself accepts a ``y_gold`` parameter (the
    aggregators do), tell the router not to give it the gold labels:
    ``est.set_fit_request(y_gold=False)``.

    Parameters
    ----------
    score_func : callable or str, default=accuracy_score
        A score function ``score_func(y_true, y_pred, **kwargs)``, or the
        name of a scikit-learn scorer (``"balanced_accuracy"``,
        ``"neg_log_loss"``, ``"f1_macro"``...), whose function, sign and
        response method are then used.
    response_method : str or list of str, default="predict"
        The estimator's method producing ``y_pred`` (``"predict"``,
        ``"predict_proba"``, ``"decision_function"``, or a list tried in
        order). Ignored when ``score_func`` is a scorer name.
    greater_is_better : bool, default=True
        Whether higher scores are better; if not the score is negated (as
        ``make_scorer`` does). Ignored when ``score_func`` is a scorer name.
    missing_label : scalar, default=np.nan
        Marker of a missing gold label (``NaN`` and ``None`` are always
        missing).
    **kwargs : dict
        Further arguments of ``score_func`` (e.g. ``labels=...`` for
        ``log_loss``).

    Returns
    -------
    scorer : callable
        A scikit-learn scorer ``scorer(estimator, X, y, y_gold=...)`` with
        ``y_gold`` requested for ``score``. The crowd ``y`` is ignored. When
        no item of a test fold has a gold label the score is NaN (with a
        warning).

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.model_selection import cross_validate
    >>> from skcrowd.metrics import make_gold_scorer
    >>> X = np.zeros((6, 1))
    >>> Y = np.array([1, 1, 1, 1, 0, 0])        # a one-worker crowd
    >>> y_gold = np.array([1, 0, np.nan, 1, 0, np.nan])
    >>> scorer = make_gold_scorer()
    >>> scorer
    make_gold_scorer(accuracy_score, response_method='predict')
    >>> scorer(DummyClassifier().fit(X, Y), X, Y, y_gold=y_gold)
    0.5
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     cv = cross_validate(DummyClassifier(), X, Y, cv=2, scoring=scorer,
    ...                         params={"y_gold": y_gold})
    >>> cv["test_score"]
    array([0.33333333, 1.        ])
    """
    if isinstance(score_func, str):
        base = get_scorer(score_func)
        if not isinstance(base, _Scorer):
            raise ValueError(
                f"The scorer {score_func!r} cannot be turned into a gold scorer."
            )
        return _GoldScorer(
            base._score_func,
            base._sign,
            {**base._kwargs, **kwargs},
            base._response_method,
            missing_label,
        )
    if not callable(score_func):
        raise TypeError(
            "score_func must be a callable score_func(y_true, y_pred) or the name "
            f"of a scikit-learn scorer; got {score_func!r}."
        )
    sign = 1 if greater_is_better else -1
    return _GoldScorer(score_func, sign, kwargs, response_method, missing_label)
