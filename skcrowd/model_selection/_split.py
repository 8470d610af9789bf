"""Cross-validation splitters for a crowd label matrix ``y``."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection._split import _BaseKFold
from sklearn.utils.validation import _num_samples, indexable

__all__ = ["CrowdStratifiedKFold"]


class CrowdStratifiedKFold(_BaseKFold):
    """Stratified K-fold on the majority vote of a crowd label matrix.

    scikit-learn's splitters cannot take a crowd as ``y``:
    ``StratifiedKFold`` rejects a 2-D ``y`` (and NaN), and ``cv=5`` on a
    crowd either raises or silently becomes an unshuffled ``KFold``. This
    splitter reads the crowd ``Y`` that ``cross_val_score`` or
    ``GridSearchCV`` pass to ``split``, takes each item's majority label
    (:class:`~skcrowd.aggregation.MajorityVote`, ties broken with
    ``random_state``) and makes folds that preserve the proportions of those
    labels, exactly as ``StratifiedKFold`` does on a 1-D ``y``. A label held
    by fewer than ``n_splits`` items triggers ``StratifiedKFold``'s warning;
    items without any label are assigned a random class by the tie-breaking
    and so spread over the folds.

    Pass it explicitly as ``cv=CrowdStratifiedKFold(...)`` wherever ``y`` is a
    crowd. With ``y=None`` (an aggregator, fitted as ``fit(Y)``) the folds are
    stratified on ``X``, the crowd.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2.
    shuffle : bool, default=True
        Shuffle each class's items before splitting them into folds (crowd
        data often comes sorted by task or by batch).
    random_state : int, RandomState instance or None, default=None
        Seeds the majority-vote tie-breaking and, when ``shuffle`` is True,
        the shuffling. Pass an int for reproducible folds.
    missing_label : scalar, default=np.nan
        Marker of a missing label in the crowd (``NaN`` and ``None`` are
        always missing).

    See Also
    --------
    cross_val_predict_proba : Out-of-fold probabilities for a crowd.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.model_selection import CrowdStratifiedKFold
    >>> Y = np.array([[0, 0, np.nan], [0, 1, 0], [1, 1, np.nan],
    ...               [1, np.nan, 1], [0, 0, 0], [1, 1, 0]])
    >>> X = np.zeros((6, 2))

    The majority labels are ``[0, 0, 1, 1, 0, 1]``: every test fold gets one
    item of each.

    >>> cv = CrowdStratifiedKFold(n_splits=3, random_state=0)
    >>> for train, test in cv.split(X, Y):
    ...     print(test)
    [3 4]
    [1 5]
    [0 2]
    """

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None,
                 missing_label=np.nan):
        # not _BaseKFold.__init__: random_state also seeds the tie-breaking, so
        # it is meaningful with shuffle=False
        if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool):
            raise ValueError(
                "The number of folds must be of Integral type. "
                f"{n_splits!r} of type {type(n_splits)} was passed."
            )
        if n_splits <= 1:
            raise ValueError(
                "k-fold cross-validation requires at least one train/test split "
                f"by setting n_splits=2 or more, got n_splits={n_splits}."
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state
        self.missing_label = missing_label

    def _strata(self, Y):
        from ..aggregation import MajorityVote

        mv = MajorityVote(random_state=self.random_state,
                          missing_label=self.missing_label)
        return mv.fit(Y).labels_

    def split(self, X, y=None, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples, n_workers) or (n_samples,), or sparse
            The crowd label matrix; folds are stratified on its majority
            vote. ``None`` takes ``X`` as the crowd, as for the aggregators
            of :mod:`skcrowd.aggregation`, which read the crowd in the ``X``
            position.
        groups : object
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split.
        """
        X, y, groups = indexable(X, y, groups)
        n_samples = _num_samples(X)
        if self.n_splits > n_samples:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater "
                f"than the number of samples: n_samples={n_samples}."
            )
        if y is not None:
            strata = self._strata(y)
        else:
            # the aggregators' convention: the crowd is X, there is no y
            try:
                strata = self._strata(X)
            except ValueError as exc:
                raise ValueError(
                    "CrowdStratifiedKFold stratifies on the crowd: call "
                    "split(X, Y) with the crowd label matrix Y (with y=None, X "
                    f"is taken as the crowd, and failed: {exc})"
                ) from exc
        skf = StratifiedKFold(
            self.n_splits,
            shuffle=self.shuffle,
            random_state=self.random_state if self.shuffle else None,
        )
        yield from skf.split(np.zeros((n_samples, 1)), strata)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splitting iterations, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits
