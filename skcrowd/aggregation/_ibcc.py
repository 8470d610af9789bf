"""IBCC: Bayesian Dawid–Skene by variational Bayes."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.special import digamma, gammaln
from sklearn.utils._param_validation import Interval

from ._base import BaseEMAggregator

__all__ = ["IBCC"]


def _dirichlet_kl(post, prior):
    """KL(Dir(post) || Dir(prior)) of one Dirichlet (1-D parameters)."""
    post_sum, prior_sum = post.sum(), prior.sum()
    elog = digamma(post) - digamma(post_sum)
    return float(
        gammaln(post_sum)
        - gammaln(post).sum()
        - gammaln(prior_sum)
        + gammaln(prior).sum()
        + ((post - prior) * elog).sum()
    )


class IBCC(BaseEMAggregator):
    r"""Independent Bayesian Classifier Combination (variational Bayes).

    The Dawid–Skene model with Dirichlet priors on all its parameters: the
    class proportions :math:`\kappa \sim \mathrm{Dir}(\nu_0)`, each worker's
    confusion rows :math:`\pi^{(r)}_{k\cdot} \sim \mathrm{Dir}(A^{(r)}_{0,k\cdot})`,
    the true classes :math:`t_i \sim \kappa` and the labels
    :math:`y_{ir} \sim \pi^{(r)}_{t_i \cdot}`. Instead of point estimates,
    IBCC infers the posterior of the parameters. Variational Bayes
    approximates it by :math:`q(t)\,q(\kappa)\,q(\pi)` and alternates

    .. math:: \nu_k = \nu_{0,k} + \sum_i q_{ik}, \qquad
              A^{(r)}_{kl} = A^{(r)}_{0,kl} + \sum_{i: y_{ir} = l} q_{ik},

    .. math:: \log q_{ik} = \mathbb{E}[\log \kappa_k] +
              \sum_{r \in R_i} \mathbb{E}[\log \pi^{(r)}_{k y_{ir}}] + c_i,

    with :math:`\mathbb{E}[\log \kappa_k] = \psi(\nu_k) - \psi(\sum_j \nu_j)`
    and likewise for the confusion rows (:math:`\psi` the digamma function).
    Each update maximises the evidence lower bound (ELBO)

    .. math:: \mathcal{L} = \sum_i \log \sum_k \exp\Big(\mathbb{E}[\log
              \kappa_k] + \sum_{r \in R_i} \mathbb{E}[\log \pi^{(r)}_{k
              y_{ir}}]\Big) - \mathrm{KL}(q(\kappa) \,\|\, p(\kappa)) -
              \sum_{r, k} \mathrm{KL}(q(\pi^{(r)}_{k\cdot}) \,\|\,
              p(\pi^{(r)}_{k\cdot})),

    which ``log_likelihood_`` records and which never decreases. Items with
    known gold labels keep :math:`q_{i\cdot}` one-hot. A cell
    :math:`(r, k, l)` of a label ``l`` that worker ``r`` never gave keeps its
    prior parameter, adds nothing to the KL term and is never read by the
    E-step, so the iterations work on the given (worker, label) pairs only:
    ``O(n_labels * K + (n_samples + n_workers) * K)`` per iteration; only the fitted
    ``confusion_`` takes ``n_workers * K^2``.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of variational iterations.
    tol : float, default=1e-7
        Stop when the ELBO changes by less than ``tol`` per label.
    class_prior_alpha : float or array-like of shape (n_classes,), default=1.0
        Dirichlet parameters :math:`\nu_0` of the class proportions (``1``:
        uniform over the simplex). Must be positive.
    confusion_prior : float or array-like of shape (K, K) or (n_workers, K, K), \
            default=None
        Dirichlet parameters :math:`A_0` of the confusion rows (rows the true
        class, columns the given label, in the order of ``classes_``); a
        scalar puts the same value in every cell. ``None`` uses ``2`` on the
        diagonal and ``1`` off it: a weak belief that workers are better
        than chance, which also breaks the symmetry between the true
        classes that a symmetric prior leaves (any relabelling of the
        classes would fit as well).
        Must be positive.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        Estimated true label of each training item.
    proba_ : ndarray of shape (n_samples, n_classes)
        Variational posterior :math:`q(t_i)` of each training item.
    confusion_ : ndarray of shape (n_workers, n_classes, n_classes)
        Posterior mean of the confusion matrices: ``confusion_[r, k, l]`` is
        the probability that worker ``r`` answers ``l`` when the truth is
        ``k``.
    confusion_concentration_ : ndarray of shape (n_workers, n_classes)
        Concentration (sum of the Dirichlet parameters) of the posterior of
        each confusion row: the posterior of row ``k`` of worker ``r`` is
        ``Dirichlet(confusion_concentration_[r, k] * confusion_[r, k])``.
    class_prior_ : ndarray of shape (n_classes,)
        Posterior mean of the class proportions.
    class_prior_concentration_ : float
        Concentration of their posterior, which is
        ``Dirichlet(class_prior_concentration_ * class_prior_)``.
    n_iter_ : int
        Number of iterations run.
    log_likelihood_ : ndarray of shape (n_iter_,)
        The ELBO after each iteration (a lower bound of the log evidence).
    n_workers_ : int
        Number of workers (columns).
    n_features_in_ : int
        Same as ``n_workers_`` (scikit-learn convention).

    See Also
    --------
    DawidSkene : Point (MAP) estimates of the same model.

    Notes
    -----
    :meth:`predict_proba` on a new crowd applies the expected log
    parameters, :math:`\exp \mathbb{E}[\log \pi]`, as the variational
    E-step does; on the training crowd it reproduces ``proba_`` (up to the
    gold items, which ``proba_`` clamps).

    References
    ----------
    H.-C. Kim and Z. Ghahramani. "Bayesian classifier combination."
    Proceedings of AISTATS, PMLR 22:619–627, 2012.

    E. Simpson, S. Roberts, I. Psorakis and A. Smith. "Dynamic Bayesian
    combination of multiple imperfect classifiers." In *Decision Making and
    Imperfection*, Springer, 2013 (the variational updates).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import IBCC
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, np.nan, 0]])
    >>> ibcc = IBCC().fit(Y)
    >>> ibcc.labels_
    array([0., 1., 0., 1.])
    >>> bool(np.all(np.diff(ibcc.log_likelihood_) >= -1e-9))
    True
    >>> ibcc.confusion_.shape
    (3, 2, 2)
    """

    _parameter_constraints: dict = {
        **BaseEMAggregator._parameter_constraints,
        "class_prior_alpha": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "confusion_prior": [Interval(Real, 0, None, closed="neither"), "array-like",
                            None],
    }

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-7,
        class_prior_alpha=1.0,
        confusion_prior=None,
        missing_label=np.nan,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.class_prior_alpha = class_prior_alpha
        self.confusion_prior = confusion_prior
        self.missing_label = missing_label

    def _priors(self, k, n_workers):
        nu0 = np.asarray(self.class_prior_alpha, dtype=float)
        if nu0.ndim == 0:
            nu0 = np.full(k, float(nu0))
        if nu0.shape != (k,):
            raise ValueError(
                f"class_prior_alpha must be a scalar or have shape ({k},); "
                f"got {nu0.shape}."
            )
        if self.confusion_prior is None:
            a0 = np.ones((k, k)) + np.eye(k)
        else:
            a0 = np.asarray(self.confusion_prior, dtype=float)
            if a0.ndim == 0:
                a0 = np.full((k, k), float(a0))
            if a0.shape not in ((k, k), (n_workers, k, k)):
                raise ValueError(
                    f"confusion_prior must be a scalar or have shape ({k}, {k}) "
                    f"or ({n_workers}, {k}, {k}); got {a0.shape}."
                )
        for name, value in (("class_prior_alpha", nu0), ("confusion_prior", a0)):
            if not np.all(np.isfinite(value)) or np.any(value <= 0):
                raise ValueError(f"{name} must be finite and positive.")
        return nu0, a0

    # The confusion posteriors are handled cell-sparsely: a cell (w, k, l)
    # whose label l worker w never gave keeps its prior parameter, adds
    # nothing to the KL and is never read by the E-step. So each iteration
    # works on the P <= min(n_labels, n_workers * K) "touched" (worker, label)
    # columns, as (P, K) arrays, plus the (n_workers, K) row sums; only the
    # fitted attributes take n_workers * K^2.
    def _init_params(self, crowd):
        k, n_workers = crowd.n_classes, crowd.n_workers
        nu0, a0 = self._priors(k, n_workers)  # a0: (K, K) or (n_workers, K, K)
        row_sums0 = np.broadcast_to(a0.sum(axis=-1), (n_workers, k))
        a0 = np.broadcast_to(a0, (n_workers, k, k))
        # touched columns, as flat indices w * K + l, sorted
        rows, cell = np.unique(crowd.worker * k + crowd.label, return_inverse=True)
        cell = cell.ravel()
        counts = sp.csr_array(
            (np.ones(crowd.n_labels), (cell, crowd.item)),
            shape=(len(rows), crowd.n_samples),
        )
        per_worker = sp.csr_array(
            (np.ones(crowd.n_labels), (crowd.worker, crowd.item)),
            shape=(n_workers, crowd.n_samples),
        )
        w, label = np.divmod(rows, k)
        prior_cols = a0[w, :, label]  # (P, K): A0[w, :, l] for each column
        return {
            "nu0": nu0,
            "A0": a0,
            "rows": rows,
            "C": counts,
            "CT": counts.T.tocsr(),
            "W": per_worker,
            "prior_cols": prior_cols,
            "row_sums0": row_sums0,
            "gammaln_prior_cols": float(gammaln(prior_cols).sum()),
        }

    def _m_step(self, crowd, proba, state):
        rows = state["rows"]
        # posterior of the touched columns: (P, K_true)
        post = state["prior_cols"] + state["C"] @ proba
        # row sums of every confusion row: (n_workers, K_true)
        row_sums = state["row_sums0"] + state["W"] @ proba
        digamma_rows = digamma(row_sums)
        elog = digamma(post)
        elog -= digamma_rows[rows // crowd.n_classes]
        class_post = proba.sum(axis=0) + state["nu0"]
        return {
            "rows": rows,
            "post": post,
            "elog": elog,
            "row_sums": row_sums,
            "digamma_rows": digamma_rows,
            "class_post": class_post,
            "elog_class": digamma(class_post) - digamma(class_post.sum()),
        }

    def _elog_columns(self, crowd, params, state):
        """E[log pi[w, :, l]] for the (w, l) columns of ``crowd``: (P, K)."""
        rows = state["rows"]
        if np.array_equal(rows, params["rows"]):
            return params["elog"]
        # a new crowd: columns unseen in training keep their prior
        post = np.array(state["prior_cols"], dtype=float)
        idx = np.searchsorted(params["rows"], rows)
        idx = np.minimum(idx, len(params["rows"]) - 1)
        seen = params["rows"][idx] == rows
        post[seen] = params["post"][idx[seen]]
        return digamma(post) - params["digamma_rows"][rows // crowd.n_classes]

    def _e_step(self, crowd, params, state):
        elog = self._elog_columns(crowd, params, state)
        return params["elog_class"][None, :] + state["CT"] @ elog

    def _log_prior(self, params, state):
        # The ELBO is sum_i logsumexp(joint_i) (the loop's evidence term,
        # which already holds E_q[log p(t, y | params)] + H[q(t)]) minus the
        # KL divergences of the parameters' posteriors from their priors.
        # Per confusion row (w, k), untouched cells cancel:
        #   KL = lnG(S) - lnG(S0) - sum_touched [lnG(A) - lnG(A0)]
        #        + sum_touched (A - A0) E[log pi]
        post, prior_cols = params["post"], state["prior_cols"]
        kl_conf = (
            gammaln(params["row_sums"]).sum()
            - gammaln(state["row_sums0"]).sum()
            - gammaln(post).sum()
            + state["gammaln_prior_cols"]
            + np.vdot(post - prior_cols, params["elog"])
        )
        kl_class = _dirichlet_kl(params["class_post"], state["nu0"])
        return -float(kl_conf + kl_class)

    def _set_fitted(self, params, state):
        k = len(params["class_post"])
        conf = np.array(state["A0"], dtype=float)  # (n_workers, K, K)
        w, label = np.divmod(params["rows"], k)
        conf[w, :, label] = params["post"]
        conf /= params["row_sums"][:, :, None]
        self.confusion_ = conf
        self.confusion_concentration_ = params["row_sums"]
        self.class_prior_concentration_ = float(params["class_post"].sum())
        self.class_prior_ = params["class_post"] / self.class_prior_concentration_
