"""Shared machinery of the truth-inference estimators (aggregators).

An aggregator is an unsupervised estimator on the crowd label matrix, given
in the ``X`` position: ``fit(Y)`` estimates each item's true label and each
worker's parameters; ``predict``/``predict_proba`` apply the fitted worker
model to the items of any crowd over the same workers (the training crowd
included). Every model works on the COO view of the crowd
(:class:`~skcrowd.utils.CrowdMatrix`): its steps are sparse products and
``bincount`` reductions over the observed labels, never loops over items or
workers and never a dense ``n_items x n_workers`` array.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import (
    _check_worker_ids,
    check_crowd_matrix,
    is_missing_label,
)
from ._backend import get_backend

__all__ = ["BaseAggregator", "BaseEMAggregator"]

#: parameter constraints of the aggregators with a ``backend`` and ``device``
BACKEND_CONSTRAINTS = {
    "backend": [StrOptions({"numpy", "torch"})],
    "device": "no_validation",
}


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (checked without importing dask)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(
        obj, "__dask_graph__"
    )


class BaseAggregator(BaseEstimator):
    """Base class of all aggregators.

    Subclasses implement ``_fit_crowd(crowd, gold)`` (set the fitted
    attributes and return the posterior ``(n_samples, n_classes)`` of the
    training items) and ``_posterior(crowd)`` (the posterior of the items of
    a new crowd under the fitted worker model).

    Aggregators with ``_supports_dask = True`` also accept a
    ``dask.dataframe.DataFrame`` in long format (see
    :mod:`skcrowd.aggregation._dask`).

    ``fit`` validates the crowd once (:func:`~skcrowd.utils.check_crowd_matrix`)
    and hands the subclass its :class:`~skcrowd.utils.CrowdMatrix` and the
    codes of the known gold labels (``-1`` where unknown, or None); it then
    sets ``classes_``, ``n_workers_``, ``proba_``, ``labels_`` and what
    :meth:`worker_report` shows.

    Parameters
    ----------
    missing_label : scalar, default=np.nan
        Marker of a missing label in the crowd (``NaN``, ``None`` and
        ``pandas.NA`` are always missing).

    See Also
    --------
    BaseEMAggregator : The base of the aggregators fitted by EM.

    Examples
    --------
    A new aggregator needs only the two hooks. This one gives each item the
    share of its labels that went to each class, and ignores the workers:

    >>> import numpy as np
    >>> from skcrowd.aggregation import BaseAggregator
    >>> class VoteShare(BaseAggregator):
    ...     def _fit_crowd(self, crowd, gold):
    ...         proba = self._posterior(crowd)
    ...         if gold is not None:  # codes of the known labels, -1 elsewhere
    ...             known = gold >= 0
    ...             proba[known] = np.eye(crowd.n_classes)[gold[known]]
    ...         return proba
    ...     def _posterior(self, crowd):
    ...         votes = crowd.vote_counts().toarray()
    ...         return votes / np.maximum(votes.sum(axis=1, keepdims=True), 1)
    >>> Y = np.array([["cat", "cat", "dog"],
    ...               ["dog", None, "dog"],
    ...               ["cat", "dog", "cat"]], dtype=object)
    >>> agg = VoteShare().fit(Y)
    >>> agg.classes_
    array(['cat', 'dog'], dtype=object)
    >>> agg.proba_.round(2)
    array([[0.67, 0.33],
           [0.  , 1.  ],
           [0.67, 0.33]])
    >>> agg.labels_
    array(['cat', 'dog', 'cat'], dtype=object)
    >>> agg.worker_report()["agreement"].round(2).tolist()
    [1.0, 0.5, 0.67]
    >>> VoteShare().fit(Y, y_gold=["dog", None, None]).labels_
    array(['dog', 'dog', 'cat'], dtype=object)
    """

    _parameter_constraints: dict = {"missing_label": "no_validation"}
    _supports_dask = False

    def __init__(self, *, missing_label=np.nan):
        self.missing_label = missing_label

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.string = True
        tags.target_tags.required = False
        # aggregators predict class labels (multiclass, one per item)
        tags.classifier_tags = ClassifierTags(multi_class=True, multi_label=False)
        return tags

    # -- validation -------------------------------------------------------
    def _validate_crowd(self, Y, *, reset):
        """Validate the crowd through the one validator; set or check workers."""
        if hasattr(Y, "iloc"):  # pandas: keep the columns as worker names
            if Y.ndim == 1:
                Y = Y.to_frame()
        elif not sp.issparse(Y):
            Y = np.asarray(Y)
            if Y.ndim == 1:
                if not reset and self.n_workers_ != 1:
                    raise ValueError(
                        "Expected 2D array, got 1D array instead: a crowd of one "
                        f"worker, but {type(self).__name__} was fitted on "
                        f"{self.n_workers_} workers. Reshape your data with "
                        "Y.reshape(1, -1) if it is one item."
                    )
                Y = Y.reshape(-1, 1)
        crowd = check_crowd_matrix(
            Y,
            missing_label=self.missing_label,
            classes=None if reset else self.classes_,
            compact=True,  # int32 COO arrays: 12 bytes per label, not 24
        )
        # feature names (worker ids of a DataFrame) and the number of workers
        validate_data(self, Y, reset=reset, skip_check_array=True)
        if not hasattr(self, "feature_names_in_"):
            # scikit-learn keeps string column names only: the int worker ids
            # of a pivoted long table were lost, so worker_report showed the
            # positions 0..n-1 as ids and predict on a Dask crowd looked ids
            # up among the positions
            _check_worker_ids(self, Y, reset=reset)
        return crowd

    def _encode_gold(self, y_gold, crowd):
        """Codes of the known true labels, ``-1`` where unknown (or None)."""
        if y_gold is None:
            return None
        y_gold = np.asarray(y_gold)
        if y_gold.ndim != 1 or len(y_gold) != crowd.n_samples:
            raise ValueError(
                f"y_gold must be 1-D with one entry per item ({crowd.n_samples}); "
                f"got shape {y_gold.shape}."
            )
        known = ~is_missing_label(y_gold, self.missing_label)
        gold = np.full(crowd.n_samples, -1, dtype=np.int64)
        if not known.any():
            return None
        values = y_gold[known]
        if values.dtype.kind == "O" and crowd.classes.dtype.kind != "O":
            values = values.astype(crowd.classes.dtype)
        codes = np.clip(np.searchsorted(crowd.classes, values), 0, crowd.n_classes - 1)
        bad = crowd.classes[codes] != values
        if np.any(bad):
            raise ValueError(
                f"y_gold holds labels that no worker gave: "
                f"{np.unique(values[bad])[:10].tolist()}; classes are "
                f"{crowd.classes.tolist()}."
            )
        gold[known] = codes
        return gold

    # -- public API -------------------------------------------------------
    def fit(self, Y, y=None, *, y_gold=None):
        """Estimate the true labels of the items and the workers' parameters.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers), or sparse
            The crowd label matrix (see :func:`skcrowd.utils.check_crowd_matrix`).
            DawidSkene, OneCoinDawidSkene, GLAD and MajorityVote also take a
            long-format ``dask.dataframe.DataFrame`` (columns ``task``,
            ``worker``, ``label``), fitted out of core, one map-reduce pass
            per EM iteration (see :ref:`dask_aggregation`).
        y : None
            Ignored; present for API consistency.
        y_gold : array-like of shape (n_samples,), default=None
            Known true labels of some items, missing (NaN/None/
            ``missing_label``) where unknown. They are clamped during
            inference (semi-supervised EM).

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        self._validate_params()
        if is_dask_collection(Y):
            from ._dask import fit_dask

            return fit_dask(self, Y, y_gold=y_gold)
        if hasattr(self, "workers_"):  # from an earlier fit
            del self.workers_
        crowd = self._validate_crowd(Y, reset=True)
        self.classes_ = crowd.classes
        self.n_workers_ = crowd.n_workers
        gold = self._encode_gold(y_gold, crowd)
        proba = self._fit_crowd(crowd, gold)
        codes = self._argmax(proba)  # once: ties are broken the same everywhere
        self.proba_ = proba
        self.labels_ = self.classes_[codes]
        self._record_worker_stats(crowd, codes)
        return self

    def _argmax(self, proba):
        return np.argmax(proba, axis=1)

    def predict_proba(self, Y):
        """Posterior of each item's true label under the fitted worker model.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers), or sparse
            A crowd over the same workers (columns) as the one fitted.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        if is_dask_collection(Y):
            from ._dask import predict_proba_dask

            return predict_proba_dask(self, Y)
        crowd = self._validate_crowd(Y, reset=False)
        return self._posterior(crowd)

    def predict(self, Y):
        """Most probable true label of each item of ``Y``.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers), or sparse
            A crowd over the same workers as the one fitted.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(Y)
        if is_dask_collection(proba):
            from ._dask import labels_from_proba

            return labels_from_proba(self, proba)
        return self.classes_[self._argmax(proba)]

    def fit_predict(self, Y, y=None, *, y_gold=None):
        """Fit, then return the estimated true labels ``labels_``.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers), or sparse
            The crowd label matrix.
        y : None
            Ignored.
        y_gold : array-like of shape (n_samples,), default=None
            Known true labels of some items (see :meth:`fit`).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(Y, y_gold=y_gold).labels_

    def fit_predict_proba(self, Y, y=None, *, y_gold=None):
        """Fit, then return the posterior ``proba_`` of the training items.

        Parameters
        ----------
        Y : array-like of shape (n_samples, n_workers), or sparse
            The crowd label matrix.
        y : None
            Ignored.
        y_gold : array-like of shape (n_samples,), default=None
            Known true labels of some items (see :meth:`fit`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self.fit(Y, y_gold=y_gold).proba_

    # -- worker report ----------------------------------------------------
    def _worker_accuracy(self):
        """Estimated probability that each worker's label is correct."""
        if hasattr(self, "confusion_"):
            prior = getattr(self, "class_prior_", None)
            if prior is None:
                prior = np.full(len(self.classes_), 1 / len(self.classes_))
            return np.einsum("k,wkk->w", prior, self.confusion_)
        if hasattr(self, "skill_"):
            return np.asarray(self.skill_, dtype=float)
        return np.full(self.n_workers_, np.nan)

    def worker_report(self):
        """Per-worker summary of the fitted model.

        Returns
        -------
        report : pandas.DataFrame
            One row per worker (indexed by the worker ids, the column
            names, when the crowd was a DataFrame): ``n_labels`` given,
            ``agreement`` with the estimated true labels, ``accuracy`` (the
            model's estimate of the probability that the worker's label is
            correct), and, for models
            with a confusion matrix, ``confusion`` (a ``K x K`` array, rows the
            true class, columns the given label).
        """
        import pandas as pd

        check_is_fitted(self)
        data = {
            "n_labels": self._n_labels_,
            "agreement": self._agreement_,
            "accuracy": self._worker_accuracy(),
        }
        if hasattr(self, "confusion_"):
            data["confusion"] = list(self.confusion_)
        index = getattr(self, "feature_names_in_", None)
        if index is None:
            # non-string worker ids of a DataFrame, or those of a Dask crowd
            index = getattr(self, "workers_", None)
        return pd.DataFrame(data, index=pd.Index(index, name="worker")
                            if index is not None else None)

    def _record_worker_stats(self, crowd, codes):
        """Labels given and agreement with the estimated labels, per worker."""
        n = crowd.labels_per_worker()
        hit = (codes[crowd.item] == crowd.label).astype(float)
        agree = np.bincount(crowd.worker, weights=hit, minlength=crowd.n_workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            self._agreement_ = np.where(n > 0, agree / np.maximum(n, 1), np.nan)
        self._n_labels_ = n


def vote_proba(crowd, weights=None, gold=None):
    """(Weighted) vote fractions per item, one-hot where gold is known."""
    votes = crowd.vote_counts(weights).toarray()
    total = votes.sum(axis=1, keepdims=True)
    proba = np.divide(
        votes,
        total,
        out=np.full_like(votes, 1.0 / crowd.n_classes),
        where=total > 0,
    )
    return clamp_gold(proba, gold)


def clamp_gold(proba, gold):
    """Set the posterior of the items with known labels to one-hot.

    ``proba`` and ``gold`` are numpy arrays or torch tensors (both of one).
    """
    if gold is None:
        return proba
    known = gold >= 0
    if known.any():
        index = known.nonzero()[0] if isinstance(known, np.ndarray) else (
            known.nonzero().ravel()
        )
        proba[known] = 0.0
        proba[index, gold[known]] = 1.0
    return proba


def normalize_log(joint):
    """Normalise per-item log joint probabilities; return (proba, log evidence)."""
    return get_backend("numpy").normalize_log(joint)


class BaseEMAggregator(BaseAggregator):
    """EM (or coordinate-ascent) aggregators sharing one loop.

    Subclasses implement

    - ``_init_params(crowd)``: any per-fit precomputation, returned as a
      dict ``state`` passed to the other hooks;
    - ``_m_step(crowd, proba, state)``: the parameters maximising the
      expected complete-data log-likelihood (plus log-prior) given the
      posterior ``proba``; or, for a model whose M-step depends on the
      posterior only through sums over the labels, ``_suff_stats(crowd,
      proba, state)`` (a dict of arrays that add up over disjoint sets of
      items) and ``_m_step_from_stats(stats, state)``, which is what lets
      the Dask path reduce the statistics of partitions;
    - ``_e_step(crowd, params, state)``: the log joint ``log p(t_i = k,
      labels of i)`` of shape ``(n_samples, n_classes)``;
    - ``_log_prior(params)``: the parameters' log-prior (0 for plain ML),
      so that the objective the loop reports is the one that EM increases;
    - ``_set_fitted(params, state)``: the public fitted attributes.

    The loop (:meth:`_run_em`) starts from the (soft) majority vote, clamps
    items with known gold labels, stops when the per-label change of the
    objective falls below ``tol`` or after ``max_iter`` iterations, and
    records ``log_likelihood_`` (the objective after each iteration) and
    ``n_iter_``. It is the one loop of every EM aggregator and every way of
    running it: the data it iterates over is an *engine*, the whole crowd
    in memory (:class:`InMemoryEM`, on the numpy or the torch backend) or
    the partitions of a Dask DataFrame (``_dask.DaskEM``).

    Subclasses with ``_backend_aware = True`` write their hooks against the
    backend object ``crowd.xp`` (see :mod:`skcrowd.aggregation._backend`)
    and receive the crowd as a :class:`~skcrowd.aggregation._backend.CrowdArrays`;
    the others receive the :class:`~skcrowd.utils.CrowdMatrix` and run on
    numpy.

    Subclasses take ``max_iter`` and ``tol`` as parameters (the loop reads
    them), besides ``missing_label``.

    Parameters
    ----------
    missing_label : scalar, default=np.nan
        Marker of a missing label in the crowd (``NaN``, ``None`` and
        ``pandas.NA`` are always missing).

    See Also
    --------
    OneCoinDawidSkene, DawidSkene, GLAD : Aggregators built on this loop.

    Examples
    --------
    A one-coin model (each worker is right with probability ``skill_``,
    otherwise uniformly wrong) in the hooks, with no prior, on numpy:

    >>> import numpy as np
    >>> from skcrowd.aggregation import BaseEMAggregator
    >>> from skcrowd.datasets import simulate_crowd
    >>> class OneCoin(BaseEMAggregator):
    ...     def __init__(self, *, max_iter=50, tol=1e-6, missing_label=np.nan):
    ...         super().__init__(missing_label=missing_label)
    ...         self.max_iter = max_iter
    ...         self.tol = tol
    ...     def _init_params(self, crowd):
    ...         return {}  # nothing to precompute
    ...     def _m_step(self, crowd, proba, state):
    ...         right = proba[crowd.item, crowd.label]  # P(the label is true)
    ...         n = np.maximum(crowd.labels_per_worker(), 1)
    ...         skill = np.bincount(crowd.worker, right, crowd.n_workers) / n
    ...         prior = proba.mean(axis=0)
    ...         return {"skill": skill.clip(1e-3, 1 - 1e-3), "prior": prior}
    ...     def _e_step(self, crowd, params, state):
    ...         skill = params["skill"][crowd.worker]
    ...         wrong = np.log((1 - skill) / (crowd.n_classes - 1))
    ...         joint = np.log(params["prior"].clip(1e-12))[None, :]
    ...         joint = joint + np.bincount(crowd.item, wrong, crowd.n_samples)[:, None]
    ...         np.add.at(joint, (crowd.item, crowd.label), np.log(skill) - wrong)
    ...         return joint  # log p(true class, labels of the item)
    ...     def _set_fitted(self, params, state):
    ...         self.skill_ = params["skill"]
    >>> y = np.random.RandomState(0).randint(3, size=600)
    >>> info = simulate_crowd(
    ...     y, n_workers=6, labels_per_item=3, return_info=True, random_state=0,
    ...     worker_profiles=["reliable"] * 4 + ["uniform_spammer"] * 2)
    >>> Y = info.Y
    >>> model = OneCoin().fit(Y)
    >>> model.skill_.round(2)  # the two spammers are near chance, 1/3
    array([0.89, 0.83, 0.77, 0.86, 0.32, 0.3 ])
    >>> info.worker_accuracy.round(2)  # the truth
    array([0.84, 0.88, 0.85, 0.84, 0.33, 0.33])
    >>> from skcrowd.aggregation import OneCoinDawidSkene  # the same model
    >>> bool(np.allclose(model.skill_, OneCoinDawidSkene().fit(Y).skill_, atol=0.01))
    True
    >>> # iterating to convergence beats one step from the majority vote
    >>> start = OneCoin(max_iter=1).fit(Y)
    >>> float((start.labels_ == y).mean()), float((model.labels_ == y).mean())
    (0.838..., 0.873...)
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }
    _backend_aware = False

    def _get_backend(self):
        return get_backend(
            getattr(self, "backend", "numpy"), getattr(self, "device", "cpu")
        )

    def _fit_crowd(self, crowd, gold):
        return self._run_em(InMemoryEM(self, crowd, gold))

    def _run_em(self, engine):
        """The EM loop, over the data of ``engine``; returns its posterior."""
        posterior = engine.initial()
        history = []
        params = None
        for _ in range(self.max_iter):
            params = engine.m_step(posterior)
            posterior, log_evidence = engine.e_step(params)
            objective = float(log_evidence + self._log_prior(params, engine.state))
            history.append(objective)
            if (
                len(history) > 1
                and abs(history[-1] - history[-2]) <= self.tol * engine.n_labels
            ):
                break
        self.n_iter_ = len(history)
        self.log_likelihood_ = np.asarray(history)
        if self._backend_aware:
            params = engine.xp.tree_to_numpy(params)
        self._params_ = params
        return engine.finish(params, posterior)

    def _m_step(self, crowd, proba, state):
        return self._m_step_from_stats(self._suff_stats(crowd, proba, state), state)

    def _initial_proba(self, crowd, gold, state):
        if self._backend_aware:
            return clamp_gold(crowd.xp.vote_proba(crowd), gold)
        return vote_proba(crowd, gold=gold)

    def _posterior(self, crowd):
        if not self._backend_aware:
            state = self._init_params(crowd)
            joint = self._e_step(crowd, self._params_, state)
            return normalize_log(joint)[0]
        xp = self._get_backend()
        view = xp.view(crowd)
        state = self._init_params(view)
        joint = self._e_step(view, xp.tree_asarray(self._params_), state)
        return xp.to_numpy(xp.normalize_log(joint)[0])

    def _log_prior(self, params, state):
        return 0.0


class InMemoryEM:
    """The EM loop's data when the whole crowd is in memory.

    With a backend-aware aggregator, the crowd, the gold labels and every
    array of the loop live in the aggregator's backend (numpy, or torch on
    its ``device``); the fitted parameters and the posterior come back as
    numpy arrays.
    """

    def __init__(self, aggregator, crowd, gold):
        self.aggregator = aggregator
        self.n_labels = crowd.n_labels
        known = None
        if gold is not None and (gold >= 0).any():
            known = np.flatnonzero(gold >= 0)
        if aggregator._backend_aware:
            self.xp = aggregator._get_backend()
            self.crowd = self.xp.view(crowd)
            self.gold = None if known is None else self.xp.index(gold)
        else:
            self.xp = get_backend("numpy")
            self.crowd = crowd
            self.gold = None if known is None else gold
        if known is not None:
            self.known = self.xp.index(known)
            self.known_label = self.xp.index(gold[known])
        self.state = aggregator._init_params(self.crowd)

    def initial(self):
        return self.aggregator._initial_proba(self.crowd, self.gold, self.state)

    def m_step(self, proba):
        return self.aggregator._m_step(self.crowd, proba, self.state)

    def e_step(self, params):
        """Posterior of every item under ``params``, and the log evidence."""
        joint = self.aggregator._e_step(self.crowd, params, self.state)
        proba, log_evidence = self.xp.normalize_log(joint)
        if self.gold is not None:
            log_evidence[self.known] = joint[self.known, self.known_label]
            proba[self.known] = 0.0
            proba[self.known, self.known_label] = 1.0
        return proba, float(log_evidence.sum())

    def finish(self, params, proba):
        """Set the fitted attributes; return the posterior as numpy."""
        aggregator = self.aggregator
        aggregator._set_fitted(params, self.state)
        return self.xp.to_numpy(proba)


def worker_label_item_matrix(crowd):
    """Sparse counts ``C[w * K + l, i]``: worker w gave label l to item i."""
    k = crowd.n_classes
    rows = crowd.worker * k + crowd.label
    if crowd.n_workers * k > np.iinfo(np.int32).max:
        rows = crowd.worker.astype(np.int64) * k + crowd.label
    return sp.csr_array(
        (np.ones(crowd.n_labels), (rows, crowd.item)),
        shape=(crowd.n_workers * k, crowd.n_samples),
    )
