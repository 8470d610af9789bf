"""Majority vote with seeded tie-breaking."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._base import BACKEND_CONSTRAINTS, BaseAggregator, clamp_gold, vote_proba

__all__ = ["MajorityVote"]

def top_classes(scores):
    """Boolean mask of each row's highest scores, equal up to rounding."""
    best = scores.max(axis=1, keepdims=True)
    return np.isclose(scores, best, rtol=1e-12, atol=1e-12)


def break_ties(proba, random_state):
    """Argmax per row; ties broken uniformly at random by ``random_state``.

    A fresh generator is drawn from ``random_state`` on every call, so the
    same seed breaks the same ties the same way.
    """
    rng = check_random_state(random_state)
    tied = top_classes(proba)
    return np.argmax(tied + 0.5 * rng.random_sample(proba.shape), axis=1)

class MajorityVote(BaseAggregator):
    """Majority vote: each item takes the label most of its workers gave.

    ``proba_`` holds the vote fractions. Ties are broken uniformly at random
    among the tied classes with a generator seeded from ``random_state``:
    the same seed always breaks the same ties the same way (crowd-kit breaks
    ties unseeded, their issue #108). Items with known ``y_gold`` take their
    gold label.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking draw. Pass an int for reproducible output.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).
    backend : {"numpy", "torch"}, default="numpy"
        Array library counting the votes in ``fit``.
    device : str, default="cpu"
        Where the torch backend runs (``"cuda"``, ...).

    Notes
    -----
    ``fit`` also accepts a long-format Dask DataFrame (``task``, ``worker``,
    ``label``), aggregated partition by partition; ``proba_`` and
    ``labels_`` are then lazy Dask collections indexed by task, and ties are
    broken with a generator seeded per partition (see
    :mod:`skcrowd.aggregation._dask`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        The majority label of each item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Vote fractions.
    skill_ : ndarray of shape (n_workers,)
        Agreement of each worker with the majority (NaN for a worker with no
        label).
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import MajorityVote
    >>> Y = np.array([["cat", "cat", "dog"], ["dog", None, "dog"]], dtype=object)
    >>> MajorityVote().fit_predict(Y)
    array(['cat', 'dog'], dtype=object)
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "random_state": ["random_state"],
        **BACKEND_CONSTRAINTS,
    }
    _supports_dask = True

    def __init__(
        self, *, random_state=None, missing_label=np.nan, backend="numpy", device="cpu"
    ):
        self.random_state = random_state
        self.missing_label = missing_label
        self.backend = backend
        self.device = device

    def _argmax(self, proba):
        return break_ties(proba, self.random_state)

    def _fit_crowd(self, crowd, gold):
        from ._backend import get_backend

        xp = get_backend(self.backend, self.device)
        if xp.name == "numpy":
            return vote_proba(crowd, gold=gold)
        proba = xp.vote_proba(xp.view(crowd))
        return clamp_gold(xp.to_numpy(proba), gold)

    def _record_worker_stats(self, crowd, codes):
        super()._record_worker_stats(crowd, codes)
        self.skill_ = self._agreement_

    def _posterior(self, crowd):
        return vote_proba(crowd)
