"""One-coin Dawid–Skene: one accuracy per worker, estimated by EM."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BACKEND_CONSTRAINTS, BaseEMAggregator

__all__ = ["OneCoinDawidSkene"]


class OneCoinDawidSkene(BaseEMAggregator):
    r"""One-coin Dawid–Skene truth inference (EM over one skill per worker).

    The Dawid–Skene model with each worker's confusion matrix reduced to a
    single parameter, the worker's accuracy (skill) :math:`s_r`: whatever the
    true class, worker ``r`` answers it with probability :math:`s_r` and
    otherwise picks one of the other ``K - 1`` classes uniformly,

    .. math:: p(y_{ir} = l \mid t_i = k) =
              \begin{cases} s_r & l = k \\ \frac{1 - s_r}{K - 1} & l \neq k
              \end{cases},
              \qquad t_i \sim \rho .

    EM alternates the posterior of the true classes

    .. math:: q_{ik} \propto \rho_k \prod_{r \in R_i} p(y_{ir} \mid t_i = k)

    with the MAP update of the skills and the class prior. The prior of a
    skill is the one a symmetric Dirichlet of ``alpha`` pseudo-counts per
    cell puts on one confusion row: ``alpha`` pseudo-counts for a correct
    answer and ``(K - 1) * alpha`` for a wrong one, i.e. a
    :math:`\mathrm{Beta}(1 + \alpha, 1 + (K - 1)\alpha)` density, whose
    mode is chance level :math:`1/K`,

    .. math:: s_r = \frac{\alpha + \sum_{i \in R_r} q_{i y_{ir}}}
                         {K\alpha + |R_r|}, \qquad
              \rho_k \propto \alpha + \sum_i q_{ik}.

    A worker without labels gets :math:`s_r = 1/K`, whose answers carry no
    information. The model has ``n_workers + K - 1`` parameters instead of
    Dawid–Skene's ``n_workers * K * (K - 1) + K - 1``, so it suits crowds
    with few labels per worker and many classes. It works in log space and
    reports the log posterior (log-likelihood plus log-prior), which EM never
    decreases; each step is a ``bincount`` over the observed labels,
    ``O(n_labels + n_samples * K)`` per iteration.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-7
        Stop when the objective changes by less than ``tol`` per label.
    alpha : float, default=0.01
        Smoothing pseudo-counts: ``alpha`` per class for the class prior,
        and ``alpha`` (correct) and ``(K - 1) * alpha`` (wrong) for each
        skill. ``0`` gives maximum-likelihood EM.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).
    backend : {"numpy", "torch"}, default="numpy"
        Array library of the EM iterations (torch runs in float64: the
        result equals numpy's to rounding).
    device : str, default="cpu"
        Where the torch backend runs (``"cuda"``, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        Estimated true label of each training item (a lazy Dask Series
        indexed by task after a fit on a Dask DataFrame in long format).
    proba_ : ndarray of shape (n_samples, n_classes)
        Posterior of each training item's true class (a lazy Dask DataFrame
        after a fit on a Dask DataFrame).
    skill_ : ndarray of shape (n_workers,)
        Estimated probability that each worker's label is correct.
    class_prior_ : ndarray of shape (n_classes,)
        Estimated class proportions.
    n_iter_ : int
        Number of EM iterations run.
    log_likelihood_ : ndarray of shape (n_iter_,)
        Log posterior of the parameters after each iteration.
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_`` (scikit-learn convention).

    See Also
    --------
    DawidSkene : A full confusion matrix per worker.

    Notes
    -----
    The implied confusion matrix of worker ``r`` is
    ``s_r * I + (1 - s_r) / (K - 1) * (1 - I)``; it is not stored (it would
    take ``n_workers * K^2`` memory), and :meth:`worker_report` reports
    ``skill_`` as the accuracy.

    References
    ----------
    A. P. Dawid and A. M. Skene. "Maximum likelihood estimation of observer
    error-rates using the EM algorithm." Journal of the Royal Statistical
    Society C, 28(1):20–28, 1979.

    Y. Zhang, X. Chen, D. Zhou and M. I. Jordan. "Spectral methods meet EM: a
    provably optimal algorithm for crowdsourcing." Journal of Machine
    Learning Research, 17(102):1–44, 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import OneCoinDawidSkene
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, np.nan, 0]])
    >>> oc = OneCoinDawidSkene().fit(Y)
    >>> oc.labels_
    array([0., 1., 0., 1.])
    >>> oc.skill_.round(2)
    array([1. , 1. , 0.5])
    """

    _parameter_constraints: dict = {
        **BaseEMAggregator._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        **BACKEND_CONSTRAINTS,
    }
    _backend_aware = True
    _supports_dask = True

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-7,
        alpha=0.01,
        missing_label=np.nan,
        backend="numpy",
        device="cpu",
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
        self.missing_label = missing_label
        self.backend = backend
        self.device = device

    def _init_params(self, crowd):
        xp = crowd.xp
        k = crowd.n_classes
        return {
            "xp": xp,
            "n": xp.bincount(crowd.worker, None, crowd.n_workers),
            # flat index of (item, label) in an (n_samples, K) array
            "cell": xp.flat_index(crowd.item, k, crowd.label, crowd.n_samples * k),
        }

    def _suff_stats(self, crowd, proba, state):
        xp = crowd.xp
        hit = proba.reshape(-1)[state["cell"]]
        return {
            "correct": xp.bincount(crowd.worker, hit, crowd.n_workers),
            "n": state["n"],
            "prior": xp.sum(proba, axis=0),
        }

    def _m_step_from_stats(self, stats, state):
        xp = state["xp"]
        k = stats["prior"].shape[0]
        total = stats["n"] + k * self.alpha
        skill = xp.where(
            total > 0,
            (stats["correct"] + self.alpha) / xp.where(total > 0, total, 1.0),
            1.0 / k,
        )
        prior = stats["prior"] + self.alpha
        prior = prior / xp.sum(prior)
        return {"skill": skill, "prior": prior}

    @staticmethod
    def _log_probs(xp, skill, k):
        """Log-probability of a correct and of one given wrong answer."""
        # floors keep impossible events finite (alpha=0): log(1e-300) ~ -690
        log_hit = xp.safe_log(skill)
        log_miss = xp.safe_log((1.0 - skill) / max(k - 1, 1))
        return log_hit, log_miss

    def _e_step(self, crowd, params, state):
        xp = crowd.xp
        k = crowd.n_classes
        log_hit, log_miss = self._log_probs(xp, params["skill"], k)
        # every label counts as a miss for every class, plus the
        # log-likelihood ratio of a hit for the class it names
        miss = xp.bincount(crowd.item, log_miss[crowd.worker], crowd.n_samples)
        ratio = xp.bincount(
            state["cell"], (log_hit - log_miss)[crowd.worker], crowd.n_samples * k
        ).reshape(crowd.n_samples, k)
        ratio += miss[:, None]
        ratio += xp.safe_log(params["prior"])[None, :]
        return ratio

    def _log_prior(self, params, state):
        xp = state["xp"]
        k = params["prior"].shape[0]
        log_hit, log_miss = self._log_probs(xp, params["skill"], k)
        skill = self.alpha * xp.sum(log_hit + (k - 1) * log_miss)
        prior = self.alpha * xp.sum(xp.safe_log(params["prior"]))
        return float(skill + prior)

    def _set_fitted(self, params, state):
        self.skill_ = params["skill"]
        self.class_prior_ = params["prior"]
