"""Aggregate the crowd, then fit any scikit-learn classifier."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    has_fit_parameter,
)

from ..base import CrowdClassifierMixin

__all__ = ["AggregatedClassifier"]

_SPARSE = ("csr", "csc")


class AggregatedClassifier(CrowdClassifierMixin, BaseEstimator):
    """Two-stage learning from crowds: aggregate the labels, then fit a classifier.

    The aggregator (truth inference) estimates each item's true label from
    the crowd; the classifier is then trained on the features with those
    labels. With ``soft=True`` it learns from the full posterior: each item
    is repeated once per class with weight equal to the posterior of that
    class (times its ``sample_weight``), which requires an estimator whose
    ``fit`` accepts ``sample_weight``.

    Parameters
    ----------
    aggregator : aggregator, default=None
        An unfitted skcrowd aggregator (e.g. ``DawidSkene()``). ``None`` uses
        :class:`~skcrowd.aggregation.DawidSkene`.
    estimator : classifier, default=None
        Any scikit-learn classifier. ``None`` uses ``LogisticRegression``.
    soft : bool, default=True
        Train on the posterior (weighted expansion) rather than the hard
        aggregated labels.
    min_weight : float, default=1e-3
        With ``soft=True``, expanded rows whose posterior is below this are
        dropped (they carry no information, only cost).
    missing_label : scalar, default=np.nan
        Marker of a missing crowd label.

    Attributes
    ----------
    aggregator_ : aggregator
        The fitted aggregator (its ``proba_``, ``confusion_``,
        ``worker_report()``...).
    estimator_ : classifier
        The fitted classifier.
    classes_ : ndarray of shape (n_classes,)
        The crowd's classes.
    n_features_in_ : int
        Number of features seen in ``fit``.
    workers_ : ndarray of shape (n_workers,)
        The worker ids (column names) of a crowd given as a DataFrame; only
        then.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.classification import AggregatedClassifier
    >>> from skcrowd.aggregation import MajorityVote
    >>> X = np.array([[0.0], [0.2], [0.9], [1.0]])
    >>> Y = np.array([[0, 0, 1], [0, np.nan, 0], [1, 1, 0], [1, 1, np.nan]])
    >>> clf = AggregatedClassifier(MajorityVote(random_state=0)).fit(X, Y)
    >>> clf.predict([[0.1], [0.95]])
    array([0., 1.])
    """

    _parameter_constraints: dict = {
        "aggregator": [HasMethods(["fit", "predict_proba"]), None],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "soft": ["boolean"],
        "min_weight": [float, int],
        "missing_label": "no_validation",
    }

    def __init__(
        self,
        aggregator=None,
        estimator=None,
        *,
        soft=True,
        min_weight=1e-3,
        missing_label=np.nan,
    ):
        self.aggregator = aggregator
        self.estimator = estimator
        self.soft = soft
        self.min_weight = min_weight
        self.missing_label = missing_label

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Aggregate the crowd ``y``, then fit the classifier on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples, n_workers) or (n_samples,), or sparse
            Crowd label matrix; a 1-D ``y`` is a single worker.
        sample_weight : array-like of shape (n_samples,), default=None
            Item weights, passed on to the classifier.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, _ = self._validate_crowd_data(X, y, reset=True, accept_sparse=_SPARSE)
        from ..aggregation import DawidSkene

        if self.aggregator is None:
            aggregator = DawidSkene(missing_label=self.missing_label)
        else:
            aggregator = clone(self.aggregator)
        self.aggregator_ = aggregator.fit(y)
        self.classes_ = self.aggregator_.classes_
        proba = self.aggregator_.proba_
        estimator = LogisticRegression() if self.estimator is None else self.estimator
        self.estimator_ = clone(estimator)
        sw = _check_sample_weight(sample_weight, X)
        if self.soft:
            if not has_fit_parameter(self.estimator_, "sample_weight"):
                raise ValueError(
                    f"soft=True needs an estimator whose fit accepts sample_weight; "
                    f"{type(self.estimator_).__name__} does not. Use soft=False."
                )
            rows, cols = np.nonzero(proba >= self.min_weight)
            weights = proba[rows, cols] * sw[rows]
            self.estimator_.fit(
                X[rows], self.classes_[cols], sample_weight=weights
            )
        else:
            labels = self.aggregator_.labels_
            if sample_weight is None:
                self.estimator_.fit(X, labels)
            else:
                self.estimator_.fit(X, labels, sample_weight=sw)
        return self

    def predict_proba(self, X):
        """Class probabilities of the classifier, in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Classes the classifier never saw in training get probability 0.
        """
        check_is_fitted(self)
        from sklearn.utils.validation import validate_data

        X = validate_data(self, X, reset=False, accept_sparse=_SPARSE)
        inner = self.estimator_.predict_proba(X)
        proba = np.zeros((inner.shape[0], len(self.classes_)))
        cols = np.searchsorted(self.classes_, self.estimator_.classes_)
        proba[:, cols] = inner
        return proba

    def predict(self, X):
        """Predicted class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if hasattr(self.estimator_, "predict_proba"):
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        from sklearn.utils.validation import validate_data

        X = validate_data(self, X, reset=False, accept_sparse=_SPARSE)
        return self.estimator_.predict(X)
