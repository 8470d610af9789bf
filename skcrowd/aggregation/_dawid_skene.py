"""Dawid–Skene: one confusion matrix per worker, estimated by EM."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BACKEND_CONSTRAINTS, BaseEMAggregator

__all__ = ["DawidSkene"]


class DawidSkene(BaseEMAggregator):
    r"""Dawid–Skene truth inference (EM over per-worker confusion matrices).

    Each item ``i`` has an unknown true class :math:`t_i \sim \rho`; worker
    ``r`` answers label ``l`` with probability :math:`\pi^{(r)}_{t_i l}`,
    independently across workers given :math:`t_i`. EM alternates the
    posterior of the true classes

    .. math:: q_{ik} \propto \rho_k \prod_{r \in R_i} \pi^{(r)}_{k y_{ir}}

    with the MAP update of the class prior and the confusion rows under a
    symmetric Dirichlet prior of ``alpha`` extra pseudo-counts per cell (plus
    the optional ``confusion_prior``),

    .. math:: \pi^{(r)}_{kl} \propto \alpha + A^{(r)}_{kl} +
              \sum_{i: y_{ir} = l} q_{ik}.

    It works in log space (finite with thousands of labels per item) and
    reports the log posterior (log-likelihood plus log-prior), which EM
    never decreases. Both steps are sparse matrix products over the observed
    labels: the cost of an iteration is ``O(n_labels * K + n_workers * K^2)``.

    Besides a crowd matrix, ``fit`` accepts a ``dask.dataframe.DataFrame`` in
    long format (``task``, ``worker``, ``label``): each EM iteration is then
    one map-reduce pass over its partitions, on the active
    ``distributed.Client`` (see :ref:`the user guide <dask_aggregation>`).

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-8
        Stop when the objective changes by less than ``tol`` per label.
    alpha : float, default=0.01
        Dirichlet smoothing: pseudo-counts added to every confusion cell
        and class-prior entry. ``0`` gives the maximum-likelihood EM of the
        paper.
    confusion_prior : array-like of shape (K, K) or (n_workers, K, K), default=None
        Prior pseudo-counts for the confusion matrices (rows the true class,
        columns the given label, in the order of ``classes_``), added to
        ``alpha``; e.g. ``10 * np.eye(K)`` encodes the belief that workers are
        mostly right.
    missing_label : scalar, default=np.nan
        Marker of a missing label (``NaN`` and ``None`` are always missing).
    backend : {"numpy", "torch"}, default="numpy"
        Array library of the EM iterations: numpy and scipy.sparse, or torch
        (float64 throughout: the result equals numpy's to rounding).
    device : str, default="cpu"
        Where the torch backend runs (``"cuda"``, ``"cuda:1"``, ...); the
        numpy backend runs on the CPU.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The observed labels, sorted.
    labels_ : ndarray of shape (n_samples,)
        Estimated true label of each training item (a lazy Dask Series
        indexed by task after a fit on a Dask DataFrame).
    proba_ : ndarray of shape (n_samples, n_classes)
        Posterior of each training item's true class (a lazy Dask DataFrame
        indexed by task, one column per class, after a fit on a Dask
        DataFrame).
    confusion_ : ndarray of shape (n_workers, n_classes, n_classes)
        ``confusion_[r, k, l]``: probability that worker ``r`` answers ``l``
        when the truth is ``k``.
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

    References
    ----------
    A. P. Dawid and A. M. Skene. "Maximum likelihood estimation of observer
    error-rates using the EM algorithm." Journal of the Royal Statistical
    Society C, 28(1):20–28, 1979.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.aggregation import DawidSkene
    >>> Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, np.nan, 0]])
    >>> ds = DawidSkene().fit(Y)
    >>> ds.labels_
    array([0., 1., 0., 1.])
    >>> ds.confusion_.shape
    (3, 2, 2)
    """

    _parameter_constraints: dict = {
        **BaseEMAggregator._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "confusion_prior": ["array-like", None],
        **BACKEND_CONSTRAINTS,
    }
    _backend_aware = True
    _supports_dask = True

    def __init__(
        self,
        *,
        max_iter=100,
        tol=1e-8,
        alpha=0.01,
        confusion_prior=None,
        missing_label=np.nan,
        backend="numpy",
        device="cpu",
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
        self.confusion_prior = confusion_prior
        self.missing_label = missing_label
        self.backend = backend
        self.device = device

    def _init_params(self, crowd):
        xp = crowd.xp
        k = crowd.n_classes
        n_rows = crowd.n_workers * k
        # C[w * K + l, i] = 1: worker w gave label l to item i
        rows = xp.flat_index(crowd.worker, k, crowd.label, n_rows)
        counts = xp.incidence(rows, crowd.item, (n_rows, crowd.n_samples))
        del rows
        pseudo = np.full((crowd.n_workers, k, k), float(self.alpha))
        if self.confusion_prior is not None:
            prior = np.asarray(self.confusion_prior, dtype=float)
            if prior.shape not in ((k, k), (crowd.n_workers, k, k)):
                raise ValueError(
                    f"confusion_prior must have shape ({k}, {k}) or "
                    f"({crowd.n_workers}, {k}, {k}); got {prior.shape}."
                )
            if np.any(prior < 0) or not np.all(np.isfinite(prior)):
                raise ValueError("confusion_prior must be finite and non-negative.")
            pseudo = pseudo + prior
        return {"C": counts, "pseudo": xp.asarray(pseudo), "xp": xp}

    def _suff_stats(self, crowd, proba, state):
        # (W*K_label, K_true): expected counts of each worker's answers
        return {
            "counts": state["C"].dot(proba),
            "prior": crowd.xp.sum(proba, axis=0),
        }

    def _m_step_from_stats(self, stats, state):
        xp = state["xp"]
        n_workers, k, _ = state["pseudo"].shape
        # (W*K_label, K_true) -> (W, K_true, K_label)
        counts = xp.swap12(stats["counts"].reshape(n_workers, k, k))
        counts = counts + state["pseudo"]
        totals = xp.sum(counts, axis=2, keepdims=True)
        confusion = xp.where(
            totals > 0, counts / xp.where(totals > 0, totals, 1.0), 1.0 / k
        )
        prior = stats["prior"] + self.alpha
        prior = prior / xp.sum(prior)
        return {"confusion": confusion, "prior": prior}

    def _e_step(self, crowd, params, state):
        xp = crowd.xp
        k = crowd.n_classes
        # floors keep impossible events finite (alpha=0): log(1e-300) ~ -690
        log_conf = xp.safe_log(params["confusion"])
        log_prior = xp.safe_log(params["prior"])
        # log_conf[w, k, l] -> rows (w*K + l), columns true class k
        flat = xp.swap12(log_conf).reshape(crowd.n_workers * k, k)
        joint = state["C"].tdot(flat)
        joint += log_prior[None, :]  # in place: no second (n_items, K) array
        return joint

    def _log_prior(self, params, state):
        xp = state["xp"]
        conf = state["pseudo"] * xp.safe_log(params["confusion"])
        prior = self.alpha * xp.sum(xp.safe_log(params["prior"]))
        return float(xp.sum(conf) + prior)

    def _set_fitted(self, params, state):
        self.confusion_ = params["confusion"]
        self.class_prior_ = params["prior"]
