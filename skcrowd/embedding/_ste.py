"""STE and t-STE: one transductive map from triplets (van der Maaten & Weinberger 2012).

Pure NumPy/SciPy (no torch): the objective and its gradient are computed
for all triplets at once and the gradient is scattered onto the objects by
sparse incidence matrices; L-BFGS does the optimisation.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import check_triplets, odd_one_out_to_anchor
from ._multiview import _QUERIES, _triplet_tags, _TripletScoreMixin

__all__ = ["STE", "TSTE"]


def _incidence(rows, n_objects):
    """Sparse ``(n_objects, n_triplets)`` matrices, one per position of the rows."""
    cols = np.arange(len(rows))
    ones = np.ones(len(rows))
    return [
        sp.csr_matrix((ones, (rows[:, c], cols)), shape=(n_objects, len(rows)))
        for c in range(3)
    ]


#: above this many degrees of freedom ``log(1 + d^2 / alpha)`` is computed by
#: ``log1p``: ``1 + d^2 / alpha`` rounds to 1 for a huge ``alpha`` (the loss
#: went flat while its gradient did not, and the map never moved); below it
#: the plain ``log`` keeps earlier fits bit for bit
_LOG1P_ALPHA = 1e6


def _log_kernel(sq_dist, kernel, alpha):
    """``log K`` and ``-d log K / d(sq_dist)`` (times 2) for the two kernels."""
    if kernel == "gaussian":  # STE: K = exp(-d^2)
        return -sq_dist, np.full_like(sq_dist, 2.0)
    # t-STE: K = (1 + d^2 / alpha) ^ (-(alpha + 1) / 2)
    q = 1.0 + sq_dist / alpha
    log_q = np.log1p(sq_dist / alpha) if alpha > _LOG1P_ALPHA else np.log(q)
    return -0.5 * (alpha + 1.0) * log_q, (alpha + 1.0) / (alpha * q)


def anchor_log_proba(Y, rows, kernel, alpha, incidence=None, weights=None):
    """Log-probability of each anchor row under one map, and its gradient.

    ``p = K(i, j) / (K(i, j) + K(i, k))``. Returns ``(log_p, grad)`` where
    ``grad`` is the gradient of ``sum_t weights_t * log_p_t`` with respect to
    ``Y`` (``None`` when ``incidence`` is not given).
    """
    yi, yj, yk = Y[rows[:, 0]], Y[rows[:, 1]], Y[rows[:, 2]]
    dij, dik = yi - yj, yi - yk
    log_kij, gij = _log_kernel(np.einsum("td,td->t", dij, dij), kernel, alpha)
    log_kik, gik = _log_kernel(np.einsum("td,td->t", dik, dik), kernel, alpha)
    margin = log_kij - log_kik
    log_p = -np.logaddexp(0.0, -margin)
    if incidence is None:
        return log_p, None
    w = expit(-margin)  # 1 - p
    if weights is not None:
        w = w * weights
    a = (w * gij)[:, None] * dij
    b = (w * gik)[:, None] * dik
    Pi, Pj, Pk = incidence
    grad = Pi @ (b - a) + Pj @ a - Pk @ b
    return log_p, grad


def fit_map(
    Y0, rows, incidence, *, kernel, alpha, lambd, maxiter, ftol=None, weights=None
):
    """Minimise the (weighted) negative log-likelihood of one map by L-BFGS.

    The objective is ``-sum_t w_t log p_t / n_rows + lambd * ||Y||^2``, with
    ``w = 1`` when ``weights`` is None: t-STE/STE's whole fit, and one view's
    M-step in MVTE. Returns scipy's ``OptimizeResult`` (``x`` flat).
    """
    n, dim = Y0.shape
    scale = len(rows)

    def objective(flat):
        Y = flat.reshape(n, dim)
        log_p, grad = anchor_log_proba(Y, rows, kernel, alpha, incidence, weights)
        if weights is not None:
            log_p = weights * log_p
        loss = -log_p.sum() / scale + lambd * np.sum(Y * Y)
        return loss, (-grad / scale + 2 * lambd * Y).ravel()

    options = {"maxiter": maxiter, "gtol": 1e-9}
    if ftol is not None:
        options["ftol"] = ftol
    return minimize(objective, Y0.ravel(), jac=True, method="L-BFGS-B", options=options)


def pair_log_kernel(Y, rows, pairs, kernel, alpha):
    """``log K`` of the given pairs of each row: ``(n, P)``."""
    out = []
    for a, b in pairs:
        d = Y[rows[:, a]] - Y[rows[:, b]]
        out.append(_log_kernel(np.einsum("td,td->t", d, d), kernel, alpha)[0])
    return np.stack(out, axis=1)


class _BaseMapEmbedder(_TripletScoreMixin, BaseEstimator):
    """Shared data handling of the transductive map baselines."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "query": [StrOptions(set(_QUERIES))],
        "lambd": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _fit_rows(self, X):
        """Validated anchor rows to fit (odd-one-out rows are converted)."""
        rows, _, _, n_objects = check_triplets(X)
        self.n_objects_ = n_objects
        if self.query == "odd-one-out":
            rows = odd_one_out_to_anchor(rows)[0]
        return rows

    def _check_predict_rows(self, X):
        check_is_fitted(self)
        return check_triplets(X, n_objects=self.n_objects_)[0]

    def _check_index(self, objects):
        check_is_fitted(self)
        index = np.asarray(objects)
        if index.ndim == 2 and index.shape[1] == 1:
            index = index[:, 0]
        if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
            raise ValueError(
                "A transductive map embeds its training objects only: transform "
                "takes a 1-D array of object indices; got shape "
                f"{index.shape} and dtype {index.dtype}."
            )
        if index.size and (index.min() < 0 or index.max() >= self.n_objects_):
            raise ValueError(
                f"Object indices must be in [0, {self.n_objects_}); got "
                f"[{index.min()}, {index.max()}]."
            )
        return index

    def __sklearn_tags__(self):
        return _triplet_tags(super().__sklearn_tags__())

    def _pairs(self):
        from ._modules import PAIRS

        return PAIRS[self.query]

    def _alpha(self):
        if self.kernel == "gaussian":
            return None
        if self.alpha is not None:
            return float(self.alpha)
        return float(max(self.n_components - 1, 1))


class TSTE(_BaseMapEmbedder):
    r"""t-STE: t-distributed stochastic triplet embedding (one transductive map).

    Every object gets one free vector :math:`y \in \mathbb{R}^D`; an anchor
    answer "``i`` is closer to ``j`` than to ``k``" has probability

    .. math::

        p_{ijk} = \frac{K(i,j)}{K(i,j) + K(i,k)},\qquad
        K(a,b) = \Bigl(1 + \lVert y_a - y_b\rVert^2 / \alpha\Bigr)^{-(\alpha+1)/2}

    (Student-t kernel, ``alpha = D - 1`` by default), and the map minimises
    :math:`-\frac{1}{T}\sum \log p_{ijk} + \lambda \lVert Y \rVert^2` with
    L-BFGS. Odd-one-out answers ``(i, j | k)`` are learned as the two anchor
    answers ``(i, j, k)`` and ``(j, i, k)`` and predicted by the closest
    pair. With ``kernel="gaussian"`` this is STE.

    Parameters
    ----------
    n_components : int, default=2
        Dimension ``D`` of the map.
    query : {"anchor", "odd-one-out"}, default="anchor"
        What a row ``(i, j, k)`` answers (see :class:`TripletData`).
    alpha : float, default=None
        Degrees of freedom of the Student-t kernel; ``None``: ``max(D - 1, 1)``.
    lambd : float, default=0.0
        L2 penalty on the map.
    max_iter : int, default=1000
        Maximum L-BFGS iterations.
    tol : float, default=1e-7
        Relative tolerance on the objective (L-BFGS ``ftol``).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial map, ``N(0, 0.01^2)`` per coordinate.
    verbose : int, default=0
        Unused; present for API consistency.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_objects, n_components)
        The map. An object in no training triplet has no gradient: it keeps
        its random initial vector (shrunk towards 0 when ``lambd > 0``).
    n_objects_ : int
        Number of objects.
    n_iter_ : int
        L-BFGS iterations run.
    loss_ : float
        Final objective.

    References
    ----------
    van der Maaten & Weinberger, "Stochastic triplet embedding", IEEE MLSP
    2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.embedding import TSTE
    >>> rng = np.random.RandomState(0)
    >>> points = rng.rand(20, 2)
    >>> rows = np.array([rng.choice(20, 3, replace=False) for _ in range(600)])
    >>> d = np.linalg.norm(points[rows[:, 0]] - points[rows[:, 1:]].transpose(1, 0, 2),
    ...                    axis=2)
    >>> rows[d[0] > d[1]] = rows[d[0] > d[1]][:, [0, 2, 1]]  # answers
    >>> tste = TSTE(n_components=2, random_state=0).fit(rows[:500])
    >>> tste.score(rows[500:]) > 0.85
    True
    """

    kernel = "student-t"

    _parameter_constraints: dict = {
        **_BaseMapEmbedder._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        query="anchor",
        alpha=None,
        lambd=0.0,
        max_iter=1000,
        tol=1e-7,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.query = query
        self.alpha = alpha
        self.lambd = lambd
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None):
        """Learn the map.

        Parameters
        ----------
        X : TripletData or array-like of shape (n_triplets, 3)
            Answered triplets (object features, if any, are not used).
        y : None
            Not used.

        Returns
        -------
        self : object
        """
        self._validate_params()
        rows = self._fit_rows(X)
        n, dim = self.n_objects_, self.n_components
        rng = check_random_state(self.random_state)
        Y0 = rng.normal(scale=1e-2, size=(n, dim))
        result = fit_map(
            Y0,
            rows,
            _incidence(rows, n),
            kernel=self.kernel,
            alpha=self._alpha(),
            lambd=self.lambd,
            maxiter=self.max_iter,
            ftol=self.tol,
        )
        self.embedding_ = result.x.reshape(n, dim)
        self.n_iter_ = int(result.nit)
        self.loss_ = float(result.fun)
        return self

    def _similarities(self, X):
        rows = self._check_predict_rows(X)
        return pair_log_kernel(
            self.embedding_, rows, self._pairs(), self.kernel, self._alpha()
        )

    def transform(self, objects):
        """The map's vectors of training objects.

        Parameters
        ----------
        objects : array-like of shape (n,) of int
            Object indices.

        Returns
        -------
        embedding : ndarray of shape (n, n_components)
        """
        index = self._check_index(objects)
        return self.embedding_[index]


class STE(TSTE):
    r"""STE: stochastic triplet embedding with a Gaussian kernel.

    :class:`TSTE` with :math:`K(a,b) = \exp(-\lVert y_a - y_b\rVert^2)`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the map.
    query : {"anchor", "odd-one-out"}, default="anchor"
        What a row ``(i, j, k)`` answers.
    lambd : float, default=0.0
        L2 penalty on the map.
    max_iter : int, default=1000
        Maximum L-BFGS iterations.
    tol : float, default=1e-7
        Relative tolerance on the objective.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial map.
    verbose : int, default=0
        Unused.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_objects, n_components)
        The map; an object in no training triplet keeps its random initial
        vector (shrunk towards 0 when ``lambd > 0``).
    n_objects_ : int
    n_iter_ : int
    loss_ : float

    References
    ----------
    van der Maaten & Weinberger, "Stochastic triplet embedding", IEEE MLSP
    2012.

    Examples
    --------
    >>> from skcrowd.embedding import STE
    >>> ste = STE(random_state=0).fit([[0, 1, 2], [1, 0, 3], [3, 2, 0]])
    >>> ste.embedding_.shape
    (4, 2)
    """

    kernel = "gaussian"

    _parameter_constraints: dict = {
        k: v for k, v in TSTE._parameter_constraints.items() if k != "alpha"
    }

    def __init__(
        self,
        n_components=2,
        *,
        query="anchor",
        lambd=0.0,
        max_iter=1000,
        tol=1e-7,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.query = query
        self.lambd = lambd
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _alpha(self):
        return None
