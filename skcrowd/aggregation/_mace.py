"""MACE: multi-annotator competence estimation (spammers vs. competent workers)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseEMAggregator, clamp_gold, normalize_log, vote_proba

__all__ = ["MACE"]

_TINY = 1e-300


class MACE(BaseEMAggregator):
    r"""MACE truth inference: each worker is competent or spams.

    Each item ``i`` has an unknown true class :math:`t_i \sim \rho`. On each
    item, worker ``r`` spams with probability :math:`\theta_r` (the paper's
    :math:`1 - \theta_j`: here :math:`\theta_r` is the *spam* probability)
    and then draws a label from their own strategy :math:`\xi_r` (a
    distribution over the ``K`` labels, e.g. always "yes"); otherwise they
    give the true label. Marginally over the spam indicator,

    .. math:: P(y_{ir} = l \mid t_i = k) = (1 - \theta_r)\,[l = k]
              + \theta_r\, \xi_{rl},

    a one-coin confusion matrix whose errors follow the worker's strategy.
    EM treats both the true classes and the spam indicators as latent. The
    E-step computes the posterior :math:`q_{ik}` of the true classes; for a
    label :math:`y_{ir} = l` the expected spam indicator is then

    .. math:: s_{ir} = (1 - q_{il}) + q_{il}\,
              \frac{\theta_r \xi_{rl}}{\theta_r \xi_{rl} + 1 - \theta_r},

    and the M-step is the MAP update under a Beta prior on
    :math:`\theta_r` and a Dirichlet prior on :math:`\xi_r`, written as
    pseudo-counts :math:`(a_{spam}, a_{comp})` and :math:`c_l` (each the
    density's parameter minus one),

    .. math:: \theta_r = \frac{a_{spam} + \sum_i s_{ir}}
              {a_{spam} + a_{comp} + n_r}, \qquad
              \xi_{rl} \propto c_l + \sum_{i: y_{ir} = l} s_{ir}.

    Every pseudo-count includes ``smoothing`` (the paper's EM adds
    ``0.01 / K`` to all fractional counts). This is the paper's EM with
    smoothing, i.e. MAP EM; its variational-Bayes variant is not
    implemented. The reported objective is the log posterior (log-likelihood
    plus the log-priors, up to their normalising constants), which this EM
    never decreases. Both steps are ``bincount`` reductions over the observed
    labels: an iteration costs ``O(n_labels + (n_samples + n_workers) * K)``.

    The paper keeps the true class uniform a priori; here the class prior is
    estimated by default (``class_prior="estimate"``): with a uniform prior
    MACE explains the majority class of an imbalanced crowd as a spam
    strategy (on the ``product`` set, 88% one class, the accuracy drops from
    0.939 to 0.838). As in the paper, EM can be restarted from random
    parameters (``n_restarts``), keeping the run with the highest objective.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations (per restart).
    tol : float, default=1e-7
        Stop when the objective changes by less than ``tol`` per label.
    smoothing : float, default=None
        Pseudo-count added to the expected competent and spam counts and to
        every strategy entry. ``None`` uses ``0.01 / K``, as the paper's code.
    competence_prior : tuple of 2 floats, default=None
        Extra Beta pseudo-counts ``(a_comp, a_spam)`` added to each worker's
        expected numbers of competent and spam labels; e.g. ``(2, 1)`` encodes
        the belief that workers are more often competent. ``None`` adds none.
    strategy_prior : float or array-like of shape (n_classes,), default=None
        Extra Dirichlet pseudo-counts for the spam strategies (in the order of
        ``classes_``). ``None`` adds none.
    class_prior : {"estimate", "uniform"} or array-like of shape (n_classes,), \
            default="estimate"
        The class prior :math:`\rho`: estimated by maximum likelihood in the
        M-step, uniform (as in the paper), or fixed to the given proportions
        (in the order of ``classes_``).
    n_restarts : int, default=1
        Number of EM runs. The first starts from the majority vote; the
        others from random parameters (spam probability and strategies drawn
        uniformly around 0.5 and uniform, as in the paper). The run with the
        highest final objective is kept.
    random_state : int, RandomState instance or None, default=None
        Seed of the random restarts (unused when ``n_restarts=1``).
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        Estimated true label of each training item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Posterior of each training item's true class.
    skill_ : ndarray of shape (n_workers,)
        Competence :math:`1 - \theta_r`: the probability that the worker gives
        the true label on purpose rather than spamming.
    spam_strategy_ : ndarray of shape (n_workers, n_classes)
        :math:`\xi_r`: the distribution of the worker's labels when spamming.
    confusion_ : ndarray of shape (n_workers, n_classes, n_classes)
        The implied confusion matrices, ``confusion_[r, k, l]`` =
        :math:`(1 - \theta_r)[l = k] + \theta_r \xi_{rl}`. Computed from
        ``skill_`` and ``spam_strategy_`` when read (it holds
        ``n_workers * K * K`` floats, too many to store for large ``K``).
    class_prior_ : ndarray of shape (n_classes,)
        The class prior (estimated, uniform or given).
    n_iter_ : int
        Number of EM iterations of the kept run.
    log_likelihood_ : ndarray of shape (n_iter_,)
        Log posterior after each iteration of the kept run; never decreases.
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_`` (scikit-learn convention).

    See Also
    --------
    DawidSkene : a full confusion matrix per worker.

    References
    ----------
    D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy. "Learning whom to
    trust with MACE." Proceedings of NAACL-HLT 2013, 1120–1130.

    Examples
    --------
    Workers 0 and 1 are reliable; worker 2 answers "1" whatever the item:

    >>> import numpy as np
    >>> from skcrowd.aggregation import MACE
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 1], [1, 1, 1], [0, 0, 1]])
    >>> mace = MACE().fit(Y)
    >>> mace.labels_
    array([0, 1, 0, 1, 0])
    >>> mace.skill_.round(2)
    array([1., 1., 0.])
    >>> mace.spam_strategy_[2].round(2)
    array([0., 1.])
    """

    _parameter_constraints: dict = {
        **BaseEMAggregator._parameter_constraints,
        "smoothing": [Interval(Real, 0, None, closed="left"), None],
        "competence_prior": ["array-like", None],
        "strategy_prior": [Interval(Real, 0, None, closed="left"), "array-like", None],
        "class_prior": [StrOptions({"uniform", "estimate"}), "array-like"],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-7,
        smoothing=None,
        competence_prior=None,
        strategy_prior=None,
        class_prior="estimate",
        n_restarts=1,
        random_state=None,
        missing_label=np.nan,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.competence_prior = competence_prior
        self.strategy_prior = strategy_prior
        self.class_prior = class_prior
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.missing_label = missing_label

    # -- priors -------------------------------------------------------------
    def _pseudo_counts(self, k):
        smoothing = 0.01 / k if self.smoothing is None else float(self.smoothing)
        comp = spam = smoothing
        if self.competence_prior is not None:
            prior = np.asarray(self.competence_prior, dtype=float).ravel()
            if prior.shape != (2,) or not np.all(np.isfinite(prior) & (prior >= 0)):
                raise ValueError(
                    "competence_prior must be two finite non-negative pseudo-counts "
                    f"(a_comp, a_spam); got {self.competence_prior!r}."
                )
            comp, spam = comp + prior[0], spam + prior[1]
        strategy = np.full(k, smoothing)
        if self.strategy_prior is not None:
            prior = np.asarray(self.strategy_prior, dtype=float)
            if prior.ndim == 0:
                prior = np.full(k, float(prior))
            if prior.shape != (k,) or not np.all(np.isfinite(prior) & (prior >= 0)):
                raise ValueError(
                    "strategy_prior must be a non-negative scalar or have shape "
                    f"({k},); got {self.strategy_prior!r}."
                )
            strategy = strategy + prior
        return comp, spam, strategy

    def _fixed_class_prior(self, k):
        if isinstance(self.class_prior, str):
            return np.full(k, 1.0 / k) if self.class_prior == "uniform" else None
        prior = np.asarray(self.class_prior, dtype=float).ravel()
        if prior.shape != (k,):
            raise ValueError(f"class_prior must have shape ({k},); got {prior.shape}.")
        if np.any(prior < 0) or not np.all(np.isfinite(prior)) or prior.sum() <= 0:
            raise ValueError("class_prior must be finite, non-negative, not all zero.")
        return prior / prior.sum()

    # -- EM hooks -----------------------------------------------------------
    def _init_params(self, crowd):
        k = crowd.n_classes
        comp, spam, strategy = self._pseudo_counts(k)
        return {
            "comp": comp,
            "spam": spam,
            "strategy": strategy,
            "fixed_prior": self._fixed_class_prior(k),
            "rng": getattr(self, "_restart_rng", None),
            # the parameters whose spam posteriors the next M-step uses
            "params": {
                "theta": np.full(crowd.n_workers, 0.5),
                "xi": np.full((crowd.n_workers, k), 1.0 / k),
            },
        }

    def _initial_proba(self, crowd, gold, state):
        rng = state["rng"]
        if rng is None:
            return vote_proba(crowd, gold=gold)
        # the paper's random start: parameters drawn uniformly in [1, 1.5]
        # and normalised, then an E-step
        k = crowd.n_classes
        spam, comp = rng.uniform(1.0, 1.5, size=(2, crowd.n_workers))
        xi = rng.uniform(1.0, 1.5, size=(crowd.n_workers, k))
        params = {
            "theta": spam / (spam + comp),
            "xi": xi / xi.sum(axis=1, keepdims=True),
            "prior": (
                state["fixed_prior"]
                if state["fixed_prior"] is not None
                else np.full(k, 1.0 / k)
            ),
        }
        proba = normalize_log(self._e_step(crowd, params, state))[0]
        return clamp_gold(proba, gold)

    def _m_step(self, crowd, proba, state):
        k = crowd.n_classes
        previous = state["params"]
        theta_l = previous["theta"][crowd.worker]
        spam_l = theta_l * previous["xi"][crowd.worker, crowd.label]
        total_l = spam_l + (1.0 - theta_l)
        # P(spam | truth is the given label): a label naming the truth is
        # either spam that happens to hit it or a competent answer
        spam_if_right = np.divide(
            spam_l, total_l, out=np.ones_like(spam_l), where=total_l > 0
        )
        p = proba[crowd.item, crowd.label]
        e_comp = p * (1.0 - spam_if_right)
        e_spam = 1.0 - e_comp
        n_comp = np.bincount(crowd.worker, weights=e_comp, minlength=crowd.n_workers)
        n_spam = np.bincount(crowd.worker, weights=e_spam, minlength=crowd.n_workers)
        n_comp += state["comp"]
        n_spam += state["spam"]
        n = n_comp + n_spam
        theta = np.divide(n_spam, n, out=np.full_like(n, 0.5), where=n > 0)
        counts = np.bincount(
            crowd.worker * k + crowd.label,
            weights=e_spam,
            minlength=crowd.n_workers * k,
        ).reshape(crowd.n_workers, k)
        counts += state["strategy"][None, :]
        totals = counts.sum(axis=1, keepdims=True)
        xi = np.divide(
            counts, totals, out=np.full_like(counts, 1.0 / k), where=totals > 0
        )
        if state["fixed_prior"] is not None:
            prior = state["fixed_prior"]
        else:
            prior = proba.sum(axis=0)
            prior = prior / prior.sum()
        return {"theta": theta, "xi": xi, "prior": prior}

    def _e_step(self, crowd, params, state):
        state["params"] = params
        theta_l = params["theta"][crowd.worker]
        spam_l = theta_l * params["xi"][crowd.worker, crowd.label]
        # every label contributes log(theta xi_l) to all classes, and
        # log(theta xi_l + 1 - theta) - log(theta xi_l) to the class it names
        log_spam = np.log(np.maximum(spam_l, _TINY))
        log_any = np.log(np.maximum(spam_l + (1.0 - theta_l), _TINY))
        base = np.bincount(crowd.item, weights=log_spam, minlength=crowd.n_samples)
        bonus = crowd.vote_counts(log_any - log_spam).toarray()
        log_prior = np.log(np.maximum(params["prior"], _TINY))
        return log_prior[None, :] + base[:, None] + bonus

    def _log_prior(self, params, state):
        theta = np.clip(params["theta"], _TINY, 1.0)
        comp = np.maximum(1.0 - params["theta"], _TINY)
        xi = np.maximum(params["xi"], _TINY)
        return float(
            state["spam"] * np.log(theta).sum()
            + state["comp"] * np.log(comp).sum()
            + (np.log(xi) @ state["strategy"]).sum()
        )

    def _set_fitted(self, params, state):
        self.skill_ = 1.0 - params["theta"]
        self.spam_strategy_ = params["xi"]
        self.class_prior_ = params["prior"]

    # -- restarts -----------------------------------------------------------
    def _fit_crowd(self, crowd, gold):
        rng = check_random_state(self.random_state) if self.n_restarts > 1 else None
        best = None
        try:
            for restart in range(self.n_restarts):
                self._restart_rng = None if restart == 0 else rng
                proba = super()._fit_crowd(crowd, gold)
                run = (self.log_likelihood_[-1], proba, self._params_,
                       self.log_likelihood_, self.n_iter_)
                if best is None or run[0] > best[0]:
                    best = run
        finally:
            del self._restart_rng
        _, proba, params, history, n_iter = best
        self._params_, self.log_likelihood_, self.n_iter_ = params, history, n_iter
        self._set_fitted(params, None)
        return proba

    @property
    def confusion_(self):
        """Implied confusion matrices, ``(n_workers, K, K)`` (see class doc)."""
        check_is_fitted(self, "skill_")
        theta = 1.0 - self.skill_
        k = self.spam_strategy_.shape[1]
        conf = theta[:, None, None] * self.spam_strategy_[:, None, :]
        conf = np.broadcast_to(conf, (len(theta), k, k)).copy()
        conf[:, np.arange(k), np.arange(k)] += self.skill_[:, None]
        return conf
