"""MVTE: multiview triplet embedding (Amid & Ukkonen, ICML 2015)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._ste import (
    _BaseMapEmbedder,
    _incidence,
    anchor_log_proba,
    fit_map,
    pair_log_kernel,
)

__all__ = ["MVTE"]


class MVTE(_BaseMapEmbedder):
    r"""Multiview triplet embedding: several t-STE maps, a view per triplet.

    Each answer is explained by one of ``V`` maps, unknown: with
    :math:`p_v(t)` the t-STE probability of triplet ``t`` in map ``v`` and
    mixing weights :math:`\pi_v`, the likelihood is

    .. math::

        \textstyle\sum_t \log \sum_v \pi_v\, p_v(t),

    maximised by EM: the E-step gives every triplet its responsibilities
    :math:`r_{tv} \propto \pi_v p_v(t)`; the M-step sets
    :math:`\pi_v = \mathrm{mean}_t\, r_{tv}` and improves each map on
    :math:`\sum_t r_{tv} \log p_v(t) - \lambda \lVert Y_v \rVert^2` with a few
    L-BFGS steps. The responsibilities start at random (Dirichlet), which
    breaks the symmetry between the maps. Transductive, no worker model.

    New triplets have no responsibilities: they are predicted with the
    mixture, the pair with the largest :math:`\sum_v \pi_v K_v` being the
    most similar. Odd-one-out answers are learned as two anchor answers
    (see :class:`TSTE`).

    Parameters
    ----------
    n_views : int, default=2
        Number of maps ``V``.
    n_components : int, default=2
        Dimension of each map.
    query : {"anchor", "odd-one-out"}, default="anchor"
        What a row ``(i, j, k)`` answers.
    alpha : float, default=None
        Degrees of freedom of the Student-t kernel; ``None``: ``max(D - 1, 1)``.
    lambd : float, default=0.0
        L2 penalty on the maps.
    max_iter : int, default=50
        Maximum EM rounds.
    inner_iter : int, default=20
        L-BFGS iterations per map and M-step.
    tol : float, default=1e-5
        Stop when the mean log-likelihood improves by less than this.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial maps and responsibilities.
    verbose : int, default=0
        Print the log-likelihood of every round.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_objects, n_views, n_components)
        The maps. An object in no training triplet keeps its random initial
        vectors (shrunk towards 0 when ``lambd > 0``).
    view_weights_ : ndarray of shape (n_views,)
        Mixing weights :math:`\pi`.
    responsibilities_ : ndarray of shape (n_train_rows, n_views)
        Per-triplet view responsibilities of the training (anchor) rows.
    log_likelihood_ : list of float
        Mean log-likelihood after every round.
    n_iter_ : int
        EM rounds run.
    n_objects_ : int
        Number of objects.

    References
    ----------
    Amid & Ukkonen, "Multiview triplet embedding: learning attributes in
    multiple maps", ICML 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.embedding import MVTE
    >>> rng = np.random.RandomState(0)
    >>> rows = np.array([rng.choice(15, 3, replace=False) for _ in range(300)])
    >>> mvte = MVTE(n_views=2, max_iter=5, random_state=0).fit(rows)
    >>> mvte.embedding_.shape, mvte.view_weights_.shape
    ((15, 2, 2), (2,))
    """

    kernel = "student-t"

    _parameter_constraints: dict = {
        **_BaseMapEmbedder._parameter_constraints,
        "n_views": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
        "inner_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_views=2,
        n_components=2,
        *,
        query="anchor",
        alpha=None,
        lambd=0.0,
        max_iter=50,
        inner_iter=20,
        tol=1e-5,
        random_state=None,
        verbose=0,
    ):
        self.n_views = n_views
        self.n_components = n_components
        self.query = query
        self.alpha = alpha
        self.lambd = lambd
        self.max_iter = max_iter
        self.inner_iter = inner_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None):
        """Learn the maps, the mixing weights and the responsibilities.

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
        n, dim, V = self.n_objects_, self.n_components, self.n_views
        rng = check_random_state(self.random_state)
        maps = rng.normal(scale=1e-2, size=(V, n, dim))
        resp = rng.dirichlet(np.ones(V), size=len(rows))
        incidence = _incidence(rows, n)
        alpha, scale = self._alpha(), len(rows)
        history = []
        for _ in range(self.max_iter):
            # M-step: mixing weights, then each map on its weighted triplets
            weights = resp.mean(axis=0)
            for v in range(V):
                maps[v] = fit_map(
                    maps[v],
                    rows,
                    incidence,
                    kernel=self.kernel,
                    alpha=alpha,
                    lambd=self.lambd,
                    maxiter=self.inner_iter,
                    weights=resp[:, v],
                ).x.reshape(n, dim)
            # E-step
            log_p = np.stack(
                [
                    anchor_log_proba(maps[v], rows, self.kernel, alpha)[0]
                    for v in range(V)
                ],
                axis=1,
            )
            joint = log_p + np.log(np.maximum(weights, 1e-300))
            norm = logsumexp(joint, axis=1, keepdims=True)
            resp = np.exp(joint - norm)
            history.append(float(norm.sum() / scale))
            if self.verbose:
                print(f"MVTE round {len(history)}: log-likelihood {history[-1]:.5f}")
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        self.embedding_ = maps.transpose(1, 0, 2).copy()
        self.view_weights_ = resp.mean(axis=0)
        self.responsibilities_ = resp
        self.log_likelihood_ = history
        self.n_iter_ = len(history)
        return self

    def _similarities(self, X):
        rows = self._check_predict_rows(X)
        alpha, pairs = self._alpha(), self._pairs()
        log_k = np.stack(
            [
                pair_log_kernel(self.embedding_[:, v], rows, pairs, self.kernel, alpha)
                for v in range(self.n_views)
            ],
            axis=1,
        )  # (n, V, P)
        log_w = np.log(np.maximum(self.view_weights_, 1e-300))[None, :, None]
        return logsumexp(log_k + log_w, axis=1)

    def transform_views(self, objects):
        """The maps' vectors of training objects.

        Parameters
        ----------
        objects : array-like of shape (n,) of int
            Object indices.

        Returns
        -------
        embedding : ndarray of shape (n, n_views, n_components)
        """
        index = self._check_index(objects)
        return self.embedding_[index]

    def transform(self, objects):
        """The maps' vectors side by side.

        Parameters
        ----------
        objects : array-like of shape (n,) of int
            Object indices.

        Returns
        -------
        embedding : ndarray of shape (n, n_views * n_components)
        """
        emb = self.transform_views(objects)
        return emb.reshape(len(emb), -1)
