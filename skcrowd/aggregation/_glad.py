"""GLAD: worker ability times item difficulty, estimated by generalised EM."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.utils._param_validation import Interval, StrOptions

from ._backend import get_backend
from ._base import BACKEND_CONSTRAINTS, BaseEMAggregator, normalize_log

__all__ = ["GLAD"]

_TINY = 1e-300
# The likelihood sees the log inverse difficulty b_i = log(beta_i) clipped to
# [-_B_BOUND, _B_BOUND] so that exp(b) stays finite (under the default N(1, 1)
# prior the bound is 29 standard deviations away). The likelihood is flat
# beyond it and the prior mean lies inside, so projecting b back into the box
# after an M-step never decreases the objective. (Bounds are not passed to
# L-BFGS-B: scipy's wrapper loops over them in Python, which costs more than
# the whole objective on a 10k-item crowd.)
_B_BOUND = 30.0


_THREADPOOL_CONTROLLER = None


def _single_blas_thread():
    """Context limiting BLAS to one thread around the L-BFGS-B M-steps.

    scipy's L-BFGS-B makes many tiny BLAS calls; with a multi-threaded
    OpenBLAS on a busy machine they cost milliseconds each, ten times the
    objective itself (scikit-learn's KMeans limits BLAS the same way).
    """
    global _THREADPOOL_CONTROLLER
    if _THREADPOOL_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _THREADPOOL_CONTROLLER = ThreadpoolController()
    return _THREADPOOL_CONTROLLER.limit(limits=1, user_api="blas")


def _log_sigmoid(x, xp=None):
    """``log(sigmoid(x))``, stable, with one exp and one log1p (no logaddexp)."""
    if xp is None:
        return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))
    return xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))


class GLAD(BaseEMAggregator):
    r"""GLAD truth inference: worker ability and item difficulty.

    Each item ``i`` has an unknown true class :math:`t_i \sim \rho`, an
    inverse difficulty :math:`\beta_i = e^{b_i} > 0`, and each worker ``r``
    an ability :math:`\alpha_r \in \mathbb{R}` (negative: adversarial, zero:
    guessing). Worker ``r`` labels item ``i`` correctly with probability

    .. math:: a_{ir} = \sigma(\alpha_r \beta_i), \qquad
              P(y_{ir} = l \mid t_i = k) =
              \begin{cases} a_{ir} & l = k \\
              (1 - a_{ir}) / (K - 1) & l \neq k, \end{cases}

    so wrong labels are uniform over the other ``K - 1`` classes. The priors
    are Gaussian, :math:`\alpha_r \sim \mathcal N(\mu_\alpha, v_\alpha)` and
    :math:`b_i \sim \mathcal N(\mu_b, v_b)` (as in the paper and crowd-kit:
    means 1, variances 1).

    Fitting is a generalised EM. The E-step computes the posterior
    :math:`q_{ik}` of the true classes; the M-step updates the class prior
    in closed form when it is estimated (:math:`\rho \propto \sum_i q_i`,
    ``class_prior="estimate"``; by default it stays uniform) and increases the
    expected complete log-likelihood plus log-prior

    .. math:: Q(\alpha, b) = \sum_{(i, r)} \Big[ p_{ir} \log a_{ir}
              + (1 - p_{ir}) \log \tfrac{1 - a_{ir}}{K - 1} \Big]
              - \sum_r \frac{(\alpha_r - \mu_\alpha)^2}{2 v_\alpha}
              - \sum_i \frac{(b_i - \mu_b)^2}{2 v_b},

    with :math:`p_{ir} = q_{i y_{ir}}`, jointly over all abilities and
    difficulties by at most ``m_step_max_iter`` L-BFGS-B iterations
    warm-started from the previous parameters. The gradient is analytic,
    :math:`\partial Q / \partial \alpha_r = \sum_i (p_{ir} - a_{ir}) \beta_i -
    (\alpha_r - \mu_\alpha) / v_\alpha` and :math:`\partial Q / \partial b_i =
    \sum_r (p_{ir} - a_{ir}) \alpha_r \beta_i - (b_i - \mu_b) / v_b`, and is
    summed over the observed labels with ``np.bincount``. A step that does not
    increase :math:`Q` is rejected, so the reported objective (log-likelihood
    plus log-prior) never decreases. Each L-BFGS-B evaluation costs
    ``O(n_labels + n_samples + n_workers)`` and each E-step ``O(n_labels +
    n_samples * K)``. The log difficulties are kept in ``[-30, 30]`` so that
    :math:`\beta` stays finite.

    ``predict_proba`` on a new crowd keeps the workers' abilities and the
    class prior and estimates each new item's difficulty by EM, starting
    from the prior mean. Given the abilities the items are independent, so
    this M-step is a safeguarded 1-D Newton step per item (vectorised), and
    an item's posterior does not depend on the other items of the crowd. On
    the training crowd it recovers ``proba_`` up to the EM tolerance.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-6
        Stop when the objective changes by less than ``tol`` per label.
    m_step_max_iter : int, default=10
        Maximum number of L-BFGS-B iterations in each M-step.
    alpha_prior_mean : float, default=1.0
        Prior mean :math:`\mu_\alpha` of the workers' abilities.
    alpha_prior_var : float, default=1.0
        Prior variance :math:`v_\alpha` of the abilities.
    beta_prior_mean : float, default=1.0
        Prior mean :math:`\mu_b` of the log inverse difficulties
        :math:`b_i = \log \beta_i` (so a typical item has
        :math:`\beta = e^{\mu_b}`).
    beta_prior_var : float, default=1.0
        Prior variance :math:`v_b` of the log inverse difficulties.
    class_prior : {"uniform", "estimate"} or array-like of shape (n_classes,), \
            default="uniform"
        The class prior :math:`\rho`. ``"uniform"`` keeps it uniform, as in
        the paper and crowd-kit; ``"estimate"`` fits it by maximum likelihood
        in the M-step; an array fixes it (in the order of ``classes_``). With a
        symmetric noise model the estimated prior tends to drift towards the
        majority class on imbalanced crowds (on the ``product`` set it reaches
        0.97 for a class that is 88% of the gold labels, and the accuracy
        drops from 0.928 to 0.898), hence the uniform default.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).
    backend : {"numpy", "torch"}, default="numpy"
        Array library of the EM iterations' sums over the labels (torch in
        float64, so the result equals numpy's to rounding). The L-BFGS-B
        iterations run on the host with scipy whatever the backend; each of
        their function evaluations is one pass over the labels on the
        backend. ``predict_proba`` on a new crowd runs on numpy.
    device : str, default="cpu"
        Where the torch backend runs (``"cuda"``, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        Estimated true label of each training item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Posterior of each training item's true class.
    alphas_ : ndarray of shape (n_workers,)
        Estimated ability :math:`\alpha_r` of each worker.
    betas_ : ndarray of shape (n_samples,)
        Estimated inverse difficulty :math:`\beta_i = e^{b_i}` of each
        training item (large: easy).
    skill_ : ndarray of shape (n_workers,)
        The model's probability that the worker's label is correct,
        :math:`\sigma(\alpha_r \beta_i)`, averaged over the items the worker
        labelled (for a worker without labels: at the prior-mean difficulty
        :math:`\beta = e^{\mu_b}`). It orders workers like ``alphas_`` on a
        common set of items, but on the probability scale.
    class_prior_ : ndarray of shape (n_classes,)
        Estimated (or the given) class proportions.
    n_iter_ : int
        Number of EM iterations run.
    log_likelihood_ : ndarray of shape (n_iter_,)
        Log-likelihood plus log-prior (Gaussian densities of the abilities and
        log difficulties) after each iteration; never decreases.
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_`` (scikit-learn convention).

    See Also
    --------
    DawidSkene : one full confusion matrix per worker, no item difficulty.

    References
    ----------
    J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan. "Whose vote
    should count more: optimal integration of labels from labelers of unknown
    expertise." Advances in Neural Information Processing Systems 22 (NeurIPS
    2009), 2035–2043.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import GLAD
    >>> Y = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1], [0, 0, 1]])
    >>> glad = GLAD().fit(Y)
    >>> glad.labels_
    array([0, 1, 0, 1, 0])
    >>> bool(glad.alphas_[0] > glad.alphas_[2])
    True
    >>> glad.skill_.round(2)
    array([0.98, 0.98, 0.42])
    """

    _parameter_constraints: dict = {
        **BaseEMAggregator._parameter_constraints,
        "m_step_max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha_prior_mean": [Interval(Real, None, None, closed="neither")],
        "alpha_prior_var": [Interval(Real, 0, None, closed="neither")],
        "beta_prior_mean": [Interval(Real, -_B_BOUND, _B_BOUND, closed="neither")],
        "beta_prior_var": [Interval(Real, 0, None, closed="neither")],
        "class_prior": [StrOptions({"uniform", "estimate"}), "array-like"],
        **BACKEND_CONSTRAINTS,
    }
    _backend_aware = True
    _supports_dask = True
    #: parameters indexed by item (sliced per partition on Dask)
    _item_params = ("b",)

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-6,
        m_step_max_iter=10,
        alpha_prior_mean=1.0,
        alpha_prior_var=1.0,
        beta_prior_mean=1.0,
        beta_prior_var=1.0,
        class_prior="uniform",
        missing_label=np.nan,
        backend="numpy",
        device="cpu",
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.m_step_max_iter = m_step_max_iter
        self.alpha_prior_mean = alpha_prior_mean
        self.alpha_prior_var = alpha_prior_var
        self.beta_prior_mean = beta_prior_mean
        self.beta_prior_var = beta_prior_var
        self.class_prior = class_prior
        self.missing_label = missing_label
        self.backend = backend
        self.device = device

    # -- EM hooks -----------------------------------------------------------
    def _fixed_class_prior(self, k):
        if isinstance(self.class_prior, str):
            return np.full(k, 1.0 / k) if self.class_prior == "uniform" else None
        fixed_prior = np.asarray(self.class_prior, dtype=float).ravel()
        if fixed_prior.shape != (k,):
            raise ValueError(
                f"class_prior must have shape ({k},); got {fixed_prior.shape}."
            )
        if np.any(fixed_prior < 0) or not np.all(np.isfinite(fixed_prior)):
            raise ValueError("class_prior must be finite and non-negative.")
        if fixed_prior.sum() <= 0:
            raise ValueError("class_prior must have a positive sum.")
        return fixed_prior / fixed_prior.sum()

    def _init_params(self, crowd):
        xp = crowd.xp
        k = crowd.n_classes
        fixed_prior = self._fixed_class_prior(k)
        return {
            "xp": xp,
            "crowd": crowd,
            "log_km1": np.log(max(k - 1, 1)),
            "fixed_prior": None if fixed_prior is None else xp.asarray(fixed_prior),
            # flat index of (item, label) in an (n_samples, K) array
            "cell": xp.flat_index(crowd.item, k, crowd.label, crowd.n_samples * k),
            # the parameters the next M-step warm-starts from (numpy: the
            # L-BFGS-B iterations run on the host)
            "alpha": np.full(crowd.n_workers, float(self.alpha_prior_mean)),
            "b": np.full(crowd.n_samples, float(self.beta_prior_mean)),
        }

    def _neg_q_labels(self, alpha, b, crowd, p):
        """The sums over the labels of :meth:`_neg_q`, on the crowd's backend.

        Returns ``(q, grad_alpha, grad_b)`` of the likelihood terms only
        (no prior), ``q`` a float and the gradients backend arrays; ``b``
        holds the log inverse difficulties of the crowd's items. Every term
        is a sum over labels, so the terms of disjoint sets of items add up
        (the Dask path sums them over partitions).
        """
        xp = crowd.xp
        beta = xp.exp(xp.clip(b, -_B_BOUND, _B_BOUND))
        beta_l = beta[crowd.item]
        x = alpha[crowd.worker] * beta_l
        # one exp and one log1p per label: log sigma(x) = min(x, 0) - log1p(e^-|x|)
        e = xp.exp(-xp.abs(x))
        inv = 1.0 / (1.0 + e)
        sig = xp.where(x >= 0, inv, e * inv)
        # p log a + (1 - p) log(1 - a), with log(1 - a) = log a - x
        q = (
            float(xp.sum(xp.minimum(x, 0.0)))
            - float(xp.sum(xp.log1p(e)))
            - float(xp.dot(1.0 - p, x))
        )
        resid = p - sig
        grad_alpha = xp.bincount(crowd.worker, resid * beta_l, crowd.n_workers)
        grad_b = xp.bincount(crowd.item, resid * x, crowd.n_samples)
        return q, grad_alpha, grad_b

    def _neg_q_prior(self, alpha, b, q, grad_alpha, grad_b):
        """Add the Gaussian log-priors to the label terms; return minus all.

        Everything here is numpy on the host (``alpha`` and ``b`` are the
        L-BFGS-B variables).
        """
        za = alpha - self.alpha_prior_mean
        zb = b - self.beta_prior_mean
        q -= 0.5 * (za @ za / self.alpha_prior_var + zb @ zb / self.beta_prior_var)
        grad_alpha = grad_alpha - za / self.alpha_prior_var
        grad_b = grad_b * (np.abs(b) < _B_BOUND) - zb / self.beta_prior_var
        return -q, -grad_alpha, -grad_b

    def _neg_q(self, alpha, b, crowd, p):
        """Minus (expected complete log-likelihood + log-prior) and its gradient.

        Only the terms that depend on ``alpha`` and ``b`` are included (the
        constant ``-(1 - p) log(K - 1)`` is left out). ``alpha`` and ``b``
        are numpy arrays; the sums over the labels run on the crowd's
        backend.
        """
        xp = crowd.xp
        q, grad_alpha, grad_b = self._neg_q_labels(
            xp.asarray(alpha), xp.asarray(b), crowd, p
        )
        return self._neg_q_prior(
            alpha, b, q, xp.to_numpy(grad_alpha), xp.to_numpy(grad_b)
        )

    def _suff_stats(self, crowd, proba, state):
        # the class totals; the rest of the M-step needs the posterior per
        # label (see _dask_m_step)
        return {"prior": crowd.xp.sum(proba, axis=0)}

    def _dask_m_step(self, engine, handle, state):
        """The M-step on a Dask crowd: one pass per L-BFGS-B evaluation."""
        from ._dask import glad_m_step

        return glad_m_step(self, engine, handle, state)

    def _class_prior(self, prior_sums, state):
        """The class prior: fixed, or the normalised sums of the posterior."""
        if state["fixed_prior"] is not None:
            return state["fixed_prior"]
        return prior_sums / state["xp"].sum(prior_sums)

    def _lbfgs(self, fun, state):
        """At most ``m_step_max_iter`` L-BFGS-B iterations from the state.

        ``fun(alpha, b)`` returns minus Q and its gradients (numpy). A step
        that does not decrease it is rejected (generalised EM). Updates the
        warm start in ``state`` and returns the new ``(alpha, b)``.
        """
        n_workers = len(state["alpha"])

        def flat_fun(v):
            f, ga, gb = fun(v[:n_workers], v[n_workers:])
            return f, np.concatenate([ga, gb])

        x0 = np.concatenate([state["alpha"], state["b"]])
        f0 = flat_fun(x0)[0]
        with np.errstate(over="ignore"):
            res = minimize(
                flat_fun,
                x0,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": self.m_step_max_iter},
            )
        # generalised EM: only accept a step that increases Q
        x = res.x if np.isfinite(res.fun) and res.fun <= f0 else x0
        state["alpha"] = x[:n_workers].copy()
        state["b"] = np.clip(x[n_workers:], -_B_BOUND, _B_BOUND)
        return state["alpha"], state["b"]

    def _m_step(self, crowd, proba, state):
        xp = crowd.xp
        p = proba.reshape(-1)[state["cell"]]
        alpha, b = self._lbfgs(
            lambda alpha, b: self._neg_q(alpha, b, crowd, p), state
        )
        return {
            "alpha": xp.asarray(alpha),
            "b": xp.asarray(b),
            "prior": self._class_prior(xp.sum(proba, axis=0), state),
        }

    def _e_step(self, crowd, params, state):
        xp = crowd.xp
        k = crowd.n_classes
        log_km1 = state["log_km1"]
        x = params["alpha"][crowd.worker] * xp.exp(params["b"][crowd.item])
        # every label contributes log((1 - a) / (K - 1)) to all classes, and
        # log(a) - log((1 - a) / (K - 1)) = x + log(K - 1) to the class it names
        wrong = xp.bincount(
            crowd.item, _log_sigmoid(-x, xp) - log_km1, crowd.n_samples
        )
        right = xp.bincount(
            state["cell"], x + log_km1, crowd.n_samples * k
        ).reshape(crowd.n_samples, k)
        log_prior = xp.safe_log(params["prior"])
        return log_prior[None, :] + wrong[:, None] + right

    def _log_prior(self, params, state):
        xp = state["xp"]
        za = params["alpha"] - self.alpha_prior_mean
        zb = params["b"] - self.beta_prior_mean
        return float(
            -0.5
            * (
                float(xp.dot(za, za)) / self.alpha_prior_var
                + float(xp.dot(zb, zb)) / self.beta_prior_var
            )
            - 0.5 * za.shape[0] * np.log(2 * np.pi * self.alpha_prior_var)
            - 0.5 * zb.shape[0] * np.log(2 * np.pi * self.beta_prior_var)
        )

    def _set_fitted(self, params, state):
        self.alphas_ = params["alpha"]
        self.betas_ = np.exp(params["b"])
        self.class_prior_ = params["prior"]
        crowd = state["crowd"]
        xp = crowd.xp
        n, total = self._skill_sums(crowd, xp.tree_asarray(params))
        self.skill_ = self._skill_from_sums(
            xp.to_numpy(n), xp.to_numpy(total), params["alpha"]
        )

    def _fit_crowd(self, crowd, gold):
        with _single_blas_thread():
            return super()._fit_crowd(crowd, gold)

    @staticmethod
    def _skill_sums(crowd, params):
        """Per worker: number of labels and sum of ``sigma(alpha_r beta_i)``."""
        xp = crowd.xp
        x = params["alpha"][crowd.worker] * xp.exp(params["b"][crowd.item])
        a = xp.exp(_log_sigmoid(x, xp))
        n = xp.bincount(crowd.worker, None, crowd.n_workers)
        return n, xp.bincount(crowd.worker, a, crowd.n_workers)

    def _skill_from_sums(self, n, total, alpha):
        typical = expit(alpha * np.exp(self.beta_prior_mean))
        return np.where(n > 0, total / np.maximum(n, 1), typical)

    # -- new crowds -----------------------------------------------------------
    def _posterior(self, crowd):
        with _single_blas_thread():
            return self._posterior_fixed_abilities(crowd)

    def _posterior_fixed_abilities(self, crowd):
        """Posterior on a new crowd: abilities fixed, difficulties re-estimated.

        Given the abilities, each item's difficulty is a separate 1-D problem:
        EM with safeguarded Newton M-steps, vectorised over items, so that an
        item's result does not depend on the other items of the crowd.
        """
        params = self._params_
        crowd = get_backend("numpy").view(crowd)
        state = self._init_params(crowd)
        alpha_l = params["alpha"][crowd.worker]
        b = state["b"]
        proba = None
        for _ in range(self.max_iter):
            current = {"alpha": params["alpha"], "b": b, "prior": params["prior"]}
            proba = normalize_log(self._e_step(crowd, current, state))[0]
            p = proba[crowd.item, crowd.label]
            b_new = b
            for _ in range(self.m_step_max_iter):
                b_step = self._newton_step(crowd, alpha_l, b_new, p)
                done = np.max(np.abs(b_step - b_new), initial=0.0) <= 1e-12
                b_new = b_step
                if done:
                    break
            change = np.max(np.abs(b_new - b), initial=0.0)
            b = b_new
            if change <= 1e-12:
                break
        return proba

    def _item_q(self, crowd, alpha_l, b, p):
        """Per-item expected complete log-likelihood + log-prior of ``b``."""
        x = alpha_l * np.exp(np.clip(b, -_B_BOUND, _B_BOUND))[crowd.item]
        e = np.exp(-np.abs(x))
        terms = np.minimum(x, 0.0) - np.log1p(e) - (1.0 - p) * x
        q = np.bincount(crowd.item, weights=terms, minlength=crowd.n_samples)
        return q - 0.5 * (b - self.beta_prior_mean) ** 2 / self.beta_prior_var, x, e

    def _newton_step(self, crowd, alpha_l, b, p):
        """One Newton step per item on its 1-D problem, halved until Q rises."""
        q0, x, e = self._item_q(crowd, alpha_l, b, p)
        sig = np.where(x >= 0, 1.0, e) / (1.0 + e)
        resid = p - sig
        n = crowd.n_samples
        grad = np.bincount(crowd.item, weights=resid * x, minlength=n)
        grad -= (b - self.beta_prior_mean) / self.beta_prior_var
        hess = np.bincount(
            crowd.item, weights=resid * x - sig * (1.0 - sig) * x * x, minlength=n
        ) - 1.0 / self.beta_prior_var
        # Newton where the problem is locally concave, else a gradient step
        safe = np.where(hess < 0, hess, -1.0)
        step = np.clip(-grad / safe, -1.0, 1.0)
        pending = step != 0
        for _ in range(30):
            if not pending.any():
                break
            candidate = np.clip(b + step, -_B_BOUND, _B_BOUND)
            better = pending & (self._item_q(crowd, alpha_l, candidate, p)[0] >= q0)
            b = np.where(better, candidate, b)
            pending &= ~better
            step = np.where(pending, 0.5 * step, 0.0)
        return b
