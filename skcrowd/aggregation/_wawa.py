"""Weighted majority votes: Wawa and ZeroBasedSkill."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BaseAggregator, vote_proba
from ._majority_vote import break_ties

__all__ = ["Wawa", "ZeroBasedSkill"]


def _agreement(crowd, labels):
    """Fraction of each worker's labels equal to ``labels`` (NaN: no label)."""
    n = crowd.labels_per_worker()
    hit = (labels[crowd.item] == crowd.label).astype(float)
    agree = np.bincount(crowd.worker, weights=hit, minlength=crowd.n_workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, agree / np.maximum(n, 1), np.nan)


def _weighted_vote(crowd, skill, gold=None):
    """Vote fractions with each label weighted by its worker's skill.

    A NaN skill (a worker unseen in ``fit``) weighs 0; an item whose votes all
    weigh 0 gets the uniform distribution.
    """
    weights = np.nan_to_num(np.asarray(skill, dtype=float), nan=0.0)
    return vote_proba(crowd, weights=weights[crowd.worker], gold=gold)


class _WeightedVoteMixin:
    """Prediction with the fitted skills as vote weights; seeded tie-breaking."""

    def _argmax(self, proba):
        return break_ties(proba, self.random_state)

    def _posterior(self, crowd):
        return _weighted_vote(crowd, self.skill_)


class Wawa(_WeightedVoteMixin, BaseAggregator):
    r"""Worker agreement with aggregate (Wawa): a majority vote weighted by
    each worker's agreement with the plain majority vote.

    Three steps: the majority vote :math:`\hat t_i` of each item; each
    worker's skill, the fraction of their labels that agree with it,

    .. math:: s_r = \frac{1}{|R_r|} \sum_{i \in R_r} [y_{ir} = \hat t_i];

    and the vote weighted by the skills,
    :math:`p_{ik} \propto \sum_{r \in R_i} s_r [y_{ir} = k]`. Items with
    known ``y_gold`` take their gold label in both votes, so the skills
    measure agreement with the gold labels where they are known. Ties in
    both votes are broken uniformly at random with a generator seeded from
    ``random_state``, as in :class:`MajorityVote`. :meth:`predict_proba` on
    a new crowd over the same workers votes with the fitted ``skill_``.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking draw. Pass an int for reproducible output.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        The weighted-vote label of each item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Weighted vote fractions.
    skill_ : ndarray of shape (n_workers,)
        Each worker's agreement with the majority vote, the weight of their
        votes (NaN for a worker with no label; such a worker's votes weigh
        0 in :meth:`predict_proba`).
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_``.

    See Also
    --------
    MajorityVote : The unweighted vote.
    ZeroBasedSkill : Iterates the weighting to a fixed point.

    References
    ----------
    Appen (Figure Eight), "Worker agreement with aggregate"; as implemented
    in crowd-kit: D. Ustalov, N. Pavlichenko and B. Tseitlin. "Learning from
    crowds with Crowd-Kit." Journal of Open Source Software, 9(96):6227, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import Wawa
    >>> Y = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1], [1, 0, 0]])
    >>> wawa = Wawa(random_state=0).fit(Y)
    >>> wawa.skill_
    array([0.8, 1. , 0.6])
    >>> wawa.labels_
    array([0, 1, 0, 1, 0])
    >>> wawa.proba_[0]
    array([0.75, 0.25])
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "random_state": ["random_state"],
    }

    def __init__(self, *, random_state=None, missing_label=np.nan):
        self.random_state = random_state
        self.missing_label = missing_label

    def _fit_crowd(self, crowd, gold):
        majority = break_ties(vote_proba(crowd, gold=gold), self.random_state)
        self.skill_ = _agreement(crowd, majority)
        return _weighted_vote(crowd, self.skill_, gold)


class ZeroBasedSkill(_WeightedVoteMixin, BaseAggregator):
    r"""Zero-based skill: a weighted majority vote whose weights move toward
    each worker's agreement with the current weighted vote.

    All skills start equal, at chance level :math:`s_r = 1/K` (so the first
    vote is the plain majority vote). Each iteration ``t`` takes the weighted
    vote :math:`\hat t_i = \arg\max_k \sum_{r \in R_i} s_r [y_{ir} = k]`
    and moves every skill toward the worker's agreement with it,

    .. math:: s_r \leftarrow s_r + \eta_t \Big(\frac{1}{|R_r|}
              \sum_{i \in R_r} [y_{ir} = \hat t_i] - s_r\Big), \qquad
              \eta_t = \eta_0 \, \gamma^{\lfloor t / T \rfloor},

    a gradient step on the squared error between the skills and the
    agreements, with the learning rate ``lr`` (:math:`\eta_0`) multiplied by
    ``lr_reduce_factor`` (:math:`\gamma`) every ``lr_steps_to_reduce``
    (:math:`T`) iterations, counting from 1, as crowd-kit 1.4.2 does. The
    labels are the vote weighted by the final skills. Items with known
    ``y_gold`` take their gold label in every vote; ties are broken
    uniformly at random with a generator seeded from ``random_state``.

    Parameters
    ----------
    n_iter : int, default=100
        Maximum number of iterations.
    lr : float, default=1.0
        Initial learning rate :math:`\eta_0`.
    lr_steps_to_reduce : int, default=20
        Multiply the learning rate by ``lr_reduce_factor`` every this many
        iterations.
    lr_reduce_factor : float, default=0.5
        Learning-rate decay factor.
    tol : float, default=0.0
        Stop once no skill moves by more than ``tol`` in an iteration. The
        default stops only at a fixed point (the skills equal the
        agreements), after which more iterations would change nothing, so
        the result is that of running all ``n_iter`` iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking draws. Pass an int for reproducible output.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        The weighted-vote label of each item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Vote fractions weighted by the final skills.
    skill_ : ndarray of shape (n_workers,)
        The final skills, the weights of the workers' votes (NaN for a worker
        with no label; such a worker's votes weigh 0 in
        :meth:`predict_proba`).
    n_iter_ : int
        Number of iterations run.
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_``.

    See Also
    --------
    Wawa : One weighting step from the majority vote.

    Notes
    -----
    crowd-kit starts the skills at :math:`1/K + 10^{-5}` (its ``eps``); the
    offset only matters when ``lr < 1``, by about :math:`10^{-5}`.

    References
    ----------
    D. Ustalov, N. Pavlichenko and B. Tseitlin. "Learning from crowds with
    Crowd-Kit." Journal of Open Source Software, 9(96):6227, 2024
    (``crowdkit.aggregation.ZeroBasedSkill``).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import ZeroBasedSkill
    >>> Y = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1], [1, 0, 0]])
    >>> zbs = ZeroBasedSkill(random_state=0).fit(Y)
    >>> zbs.skill_
    array([0.8, 1. , 0.6])
    >>> zbs.labels_
    array([0, 1, 0, 1, 0])
    >>> zbs.n_iter_
    2
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_steps_to_reduce": [Interval(Integral, 1, None, closed="left")],
        "lr_reduce_factor": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_iter=100,
        lr=1.0,
        lr_steps_to_reduce=20,
        lr_reduce_factor=0.5,
        tol=0.0,
        random_state=None,
        missing_label=np.nan,
    ):
        self.n_iter = n_iter
        self.lr = lr
        self.lr_steps_to_reduce = lr_steps_to_reduce
        self.lr_reduce_factor = lr_reduce_factor
        self.tol = tol
        self.random_state = random_state
        self.missing_label = missing_label

    def _fit_crowd(self, crowd, gold):
        seen = crowd.labels_per_worker() > 0
        skill = np.full(crowd.n_workers, 1.0 / crowd.n_classes)
        lr = float(self.lr)
        n_iter = 0
        for n_iter in range(1, self.n_iter + 1):
            if n_iter % self.lr_steps_to_reduce == 0:
                lr *= self.lr_reduce_factor
            labels = break_ties(_weighted_vote(crowd, skill, gold), self.random_state)
            agreement = _agreement(crowd, labels)
            # a worker with no label has no gradient: its skill stays put
            step = lr * np.where(seen, agreement - skill, 0.0)
            skill = skill + step
            if np.max(np.abs(step)) <= self.tol:
                break
        self.n_iter_ = n_iter
        self.skill_ = np.where(seen, skill, np.nan)
        return _weighted_vote(crowd, self.skill_, gold)
