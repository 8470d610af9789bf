"""Mixins shared by the supervised crowd estimators.

``CrowdClassifierMixin`` gives crowd-aware validation of ``(X, Y)`` and the
``score`` of a classifier trained from a crowd (DESIGN.md §3.6).
"""

from __future__ import annotations

from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_consistent_length, validate_data

from .utils.validation import _check_worker_ids, check_crowd_matrix

__all__ = ["CrowdClassifierMixin"]


class CrowdClassifierMixin(ClassifierMixin):
    """Mixin for classifiers trained from a crowd label matrix.

    ``score(X, Y)`` is the accuracy for a 1-D ``Y`` and, for a crowd, the
    agreement of the predictions with the observed crowd labels (the mean
    over labels, so items with more labels weigh more). To score against
    gold labels use :func:`skcrowd.metrics.make_gold_scorer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import MajorityVote
    >>> from skcrowd.base import CrowdClassifierMixin
    >>> from skcrowd.classification import AggregatedClassifier
    >>> issubclass(AggregatedClassifier, CrowdClassifierMixin)
    True
    >>> X = np.array([[0.0], [0.2], [0.9], [1.0]])
    >>> Y = np.array([[0, 0, 1], [0, np.nan, 0], [1, 1, 0], [1, 1, np.nan]])
    >>> clf = AggregatedClassifier(MajorityVote(random_state=0)).fit(X, Y)
    >>> clf.score(X, Y)  # 8 of the 10 crowd labels agree with the predictions
    0.8
    >>> clf.score(X, [0, 0, 1, 1])  # a 1-D y: the accuracy
    1.0
    """

    def _validate_crowd_data(self, X, Y, *, reset, **check_params):
        """Validate features and crowd together; return ``(X, crowd)``."""
        if Y is not None:
            check_consistent_length(X, Y)
        X = validate_data(self, X, reset=reset, **check_params)
        crowd = check_crowd_matrix(
            Y, missing_label=self.missing_label, n_samples=X.shape[0], input_name="y"
        )
        if reset and hasattr(self, "workers_"):  # an earlier fit's
            del self.workers_
        _check_worker_ids(self, Y, reset=reset)
        return X, crowd

    def score(self, X, y, sample_weight=None):
        """Agreement of the predictions with the (crowd) labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_workers)
            True labels, or a crowd label matrix with missing entries.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy for 1-D ``y``; for a crowd, the fraction of observed
            labels that equal their item's prediction.
        """
        from .metrics import crowd_agreement

        return crowd_agreement(
            self.predict(X),
            y,
            missing_label=self.missing_label,
            sample_weight=sample_weight,
        )
