"""Iterative weighted majority voting (Li & Yu, 2014)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.utils._param_validation import Interval

from ._base import BaseAggregator, clamp_gold
from ._majority_vote import break_ties, top_classes

__all__ = ["IWMV"]


def _scores(crowd, weights):
    """Dense ``(n_samples, n_classes)`` sums of the vote weights per class."""
    return crowd.vote_counts(weights[crowd.worker]).toarray()


def _tie_shares(scores, gold):
    """Uniform distribution over each item's top-scoring classes.

    The expected one-hot label under uniform tie-breaking: deterministic, so
    the skills do not depend on how ties would be broken. Items with a known
    gold label put all their mass on it.
    """
    tied = top_classes(scores).astype(float)
    return clamp_gold(tied / tied.sum(axis=1, keepdims=True), gold)


class IWMV(BaseAggregator):
    r"""Iterative weighted majority voting (IWMV).

    Li and Yu's algorithm for the one-coin model with ``K`` classes, in
    which worker ``r`` gives the true label with probability :math:`w_r`
    and any other with equal probability. Starting from the plain majority
    vote it alternates two steps until the labels stop changing:

    - each worker's accuracy is estimated as their agreement with the
      current labels, :math:`\hat w_r = \frac{1}{|R_r|} \sum_{i \in R_r}
      [y_{ir} = \hat t_i]`;
    - each label is the vote weighted by :math:`v_r = K \hat w_r - 1`,
      :math:`\hat t_i = \arg\max_k \sum_{r \in R_i} v_r [y_{ir} = k]`.

    The weight :math:`K w - 1` is the one that minimises the paper's bound
    on the error rate of a weighted vote: a worker at chance level weighs
    0, and a worker below chance weighs against the labels they give.

    Ties are not broken at random inside the loop: an item whose top score
    is shared by several classes counts as the uniform distribution over
    them, so a worker's agreement is its expectation under uniform
    tie-breaking, and the skills are the same whatever the seed. Only the
    final labels of items still tied are drawn, seeded by
    ``random_state``. Items with known ``y_gold`` take their gold label in
    every step.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of iterations.
    tol : float, default=0.0
        Stop once no skill moves by more than ``tol`` in an iteration (the
        default stops at a fixed point, where more iterations change
        nothing).
    random_state : int, RandomState instance or None, default=None
        Seed of the draw that breaks the ties left among the final labels.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        The weighted-vote label of each training item.
    proba_ : ndarray of shape (n_samples, n_classes)
        The softmax of the weighted votes :math:`\sum_r v_r [y_{ir} = k]`:
        the one-coin posterior when the weights are read as log-odds. Its
        argmax is the weighted vote, and an item without labels gets the
        uniform distribution.
    skill_ : ndarray of shape (n_workers,)
        Estimated accuracy :math:`\hat w_r` of each worker (NaN for a
        worker with no label).
    weights_ : ndarray of shape (n_workers,)
        Vote weights :math:`K \hat w_r - 1` (0 for a worker with no label).
    n_iter_ : int
        Number of iterations run.
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_``.

    See Also
    --------
    ZeroBasedSkill : Votes weighted by the agreement itself.
    OneCoinDawidSkene : The same worker model, fitted by EM.

    References
    ----------
    H. Li and B. Yu. "Error rate bounds and iterative weighted majority
    voting for crowdsourcing." arXiv:1411.4086, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import IWMV
    >>> Y = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1], [1, 0, 0]])
    >>> iwmv = IWMV(random_state=0).fit(Y)
    >>> iwmv.skill_
    array([0.8, 1. , 0.6])
    >>> iwmv.weights_
    array([0.6, 1. , 0.2])
    >>> iwmv.labels_
    array([0, 1, 0, 1, 0])
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, max_iter=100, tol=0.0, random_state=None,
                 missing_label=np.nan):
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.missing_label = missing_label

    def _fit_crowd(self, crowd, gold):
        n = crowd.labels_per_worker()
        seen = n > 0
        k = crowd.n_classes
        weights = np.ones(crowd.n_workers)  # the plain majority vote
        skill = np.full(crowd.n_workers, np.nan)
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            shares = _tie_shares(_scores(crowd, weights), gold)
            hits = shares[crowd.item, crowd.label]
            agree = np.bincount(crowd.worker, weights=hits, minlength=crowd.n_workers)
            new_skill = np.where(seen, agree / np.maximum(n, 1), np.nan)
            # the first skills have nothing to move from
            moved = (
                np.inf if n_iter == 1
                else np.nanmax(np.abs(new_skill - skill), initial=0.0)
            )
            skill = new_skill
            weights = np.where(seen, k * np.nan_to_num(skill) - 1.0, 0.0)
            if moved <= self.tol:
                break
        self.n_iter_ = n_iter
        self.skill_ = skill
        self.weights_ = weights
        return clamp_gold(softmax(_scores(crowd, weights), axis=1), gold)

    def _argmax(self, proba):
        return break_ties(proba, self.random_state)

    def _posterior(self, crowd):
        return softmax(_scores(crowd, self.weights_), axis=1)
