"""MultiviewTripletEmbedder: multiview representation learning from crowd triplets."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nn._net import BaseNeuralEstimator
from ._data import check_triplets

__all__ = ["MultiviewTripletEmbedder"]

_QUERIES = ("odd-one-out", "anchor")


class _TripletScoreMixin:
    """``predict`` and ``score`` of the triplet estimators from ``_similarities``.

    A subclass implements ``_similarities(X) -> (S, triplets)``: the
    similarity of each pair of the query, ``(n, P)``, the answer's pair
    first (see ``_modules.PAIRS``).
    """

    def predict(self, X):
        """Position (0, 1 or 2) in each row of the object the model leaves out.

        For ``query="odd-one-out"``: the odd one out, the object not in the
        most similar pair. For ``query="anchor"``: the object (1 or 2) farther
        from the anchor ``i``. The model agrees with an answer row when this
        is 2 (rows list the answer's pair first). Ties never agree.

        Parameters
        ----------
        X : TripletData or array-like of shape (n_triplets, 3)
            Triplet rows (with their objects and workers).

        Returns
        -------
        position : ndarray of shape (n_triplets,)
        """
        from ._modules import ODD_POSITION

        sims = self._similarities(X)
        # the last maximum: a tie does not count as the answer's pair
        best = sims.shape[1] - 1 - np.argmax(sims[:, ::-1], axis=1)
        return np.asarray(ODD_POSITION[self.query])[best]

    def score(self, X, y=None):
        """Triplet accuracy: the fraction of answers the model agrees with.

        An answer agrees when its pair is strictly the most similar of the
        query's pairs (the paper's accuracy).

        Parameters
        ----------
        X : TripletData or array-like of shape (n_triplets, 3)
            Answered triplets.
        y : None
            Not used: the answers are the rows' order.

        Returns
        -------
        accuracy : float
        """
        return float(np.mean(self.predict(X) == 2))


class MultiviewTripletEmbedder(_TripletScoreMixin, BaseNeuralEstimator):
    r"""Multiview embedding from crowdsourced triplets, with worker preferences.

    Workers answer "which two of these three objects are most similar" (or
    "is ``i`` closer to ``j`` or to ``k``"), each judging by a view of their
    own (colour, shape, ...). A network embeds every object into one space
    per view; each answer is explained by a mixture of the views, weighted by
    how decisive each view is on that triplet and by the worker's learned
    preference among the views (Lu, Li, Takeuchi & Kashima, WWW 2023).

    For a triplet ``(i, j, k)`` answered by worker ``m`` and each view ``v``
    with embeddings :math:`e_v(\cdot) \in \mathbb{R}^D`:

    .. math::

        s_v(a, b) &= \exp(-\lVert e_v(a) - e_v(b) \rVert_2)
        \quad\text{(unsquared)},\qquad
        p_v(ab) = s_v(ab) / \textstyle\sum_{a'b'} s_v(a'b'),\\
        H_v &= 1 - \mathrm{Ent}(p_v) / \log P,\qquad
        Q = \mathrm{softmax}_v(H_v + W_{m v}),\qquad
        S(ab) = \textstyle\sum_v Q_v\, s_v(ab),\\
        P_t &= \frac{S(ij) + 10^{-8}}{\sum_{ab} S(ab) + P \cdot 10^{-8}},
        \qquad L = -\tfrac{1}{K} \textstyle\sum_t \log P_t,

    where the pairs ``ab`` are ``ij, ik, jk`` (``P = 3``) for odd-one-out
    answers and ``ij, ik`` (``P = 2``) for anchor answers. ``W`` (workers x
    views) starts at zero and is learned with the network (no weight decay
    on it).

    The estimator is inductive when the data carry object features (any
    object, new ones included, can be embedded by :meth:`transform`) and
    transductive otherwise (one free vector per object and view).

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The trunk, mapping a batch of objects to a representation
        ``(batch, d)``; one head per view is added on top. A module that
        returns ``(batch, n_views, n_components)`` is used as the whole
        encoder. ``None``: an MLP with ``hidden_units`` on the (flattened)
        features. A class is instantiated with ``module_params``; an instance
        is copied, never trained in place. Ignored in the transductive
        setting.
    n_views : int, default=2
        Number of views ``V``.
    n_components : int, default=10
        Dimension ``D`` of each view's space.
    query : {"odd-one-out", "anchor"}, default="odd-one-out"
        What a row ``(i, j, k)`` answers: ``(i, j)`` is the most similar
        pair of the three, or ``i`` is closer to ``j`` than to ``k``.
    hidden_units : tuple of int, default=(256,)
        Hidden layers of the default MLP trunk.
    view_hidden_units : tuple of int, default=()
        Hidden layers of each view head, before its ``Linear(-> D)`` without
        bias.
    dropout : float, default=0.0
        Dropout of the trunk and the heads.
    module_params : dict, default=None
        Keyword arguments to instantiate a ``module`` class.
    per_worker : bool, default=True
        Learn one view preference per worker; ``False`` shares one among all
        workers (the paper's ``MULTIWORKER=False``).
    lr : float, default=2e-3
        Learning rate (the paper's). The transductive setting trains faster
        with a larger rate, e.g. ``lr=0.1, batch_size=4096``.
    max_epochs : int, default=150
        Number of passes over the triplets.
    batch_size : int, default=400
        Triplets per mini-batch (the paper's); ``None``: all at once.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or callable, default="adam"
        Torch optimizer.
    weight_decay : float, default=1e-4
        Weight decay of the encoder (never of the worker preferences).
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the shuffling (inside
        ``torch.random.fork_rng``: the global torch RNG is left untouched).
    validation_fraction : float, default=None
        Fraction of the triplets held out to monitor the validation loss.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the best weights.
    n_iter_no_change : int, default=10
        Patience of early stopping.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks.
    verbose : int, default=0
        Print skorch's epoch table.

    Attributes
    ----------
    transductive_ : bool
        Whether the model learned free vectors (no object features).
    n_objects_ : int
        Number of objects of the training data.
    n_features_in_ : int
        Number of features (second axis) of the objects, when inductive.
    workers_ : ndarray of shape (n_workers,) or None
        The workers of the training data (sorted ids); ``None`` when the data
        had no worker ids (one anonymous worker).
    n_workers_ : int
        Number of workers (1 without worker ids).
    worker_view_logits_ : ndarray of shape (n_workers, n_views)
        The learned preference logits ``W`` (rows as in ``workers_``).
    worker_view_preference_ : ndarray of shape (n_workers, n_views)
        ``softmax(W)``: each worker's preference among the views, before the
        triplet's own certainty is added.
    embedding_ : ndarray of shape (n_objects, n_views, n_components)
        The free vectors, in the transductive setting only. An object in no
        training triplet is moved by no answer, only by ``weight_decay``
        (from its random initial vectors).
    net_ : skorch.NeuralNet
        The trained net (``net_.module_`` is the torch model).
    history_ : skorch.History
        Training history.

    See Also
    --------
    TripletData : The ``X`` of this estimator.
    train_test_split_objects : Hold out objects (the inductive setting).
    TSTE, MVTE : One-map and multi-map transductive baselines.

    Notes
    -----
    ``X`` is a :class:`TripletData` (triplet rows, the objects, and the
    workers) or a plain integer array of triplet rows (transductive, no
    workers). Its rows are the samples: splitters and ``GridSearchCV``
    split the triplets and :meth:`score` is the triplet accuracy. Workers not
    seen in training (or rows without workers) get the mean preference.

    References
    ----------
    Lu, Li, Takeuchi & Kashima, "Multi-view representation learning from
    crowdsourced triplet comparisons", The Web Conference (WWW) 2023
    (code: 17bit/multiview_crowdsourcing).

    Examples
    --------
    >>> from skcrowd.datasets import make_multiview_triplets
    >>> from skcrowd.embedding import MultiviewTripletEmbedder
    >>> ds = make_multiview_triplets(n_objects=200, n_triplets=2000,
    ...                              random_state=0)
    >>> est = MultiviewTripletEmbedder(max_epochs=5, random_state=0)
    >>> est.fit(ds.data).transform(ds.data.objects[:3]).shape
    (3, 20)
    >>> est.transform_views(ds.data.objects[:3]).shape
    (3, 2, 10)
    >>> est.worker_view_preference_.shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "n_views": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "query": [StrOptions(set(_QUERIES))],
        "hidden_units": ["array-like"],
        "view_hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "module_params": [dict, None],
        "per_worker": ["boolean"],
    }

    def __init__(
        self,
        module=None,
        *,
        n_views=2,
        n_components=10,
        query="odd-one-out",
        hidden_units=(256,),
        view_hidden_units=(),
        dropout=0.0,
        module_params=None,
        per_worker=True,
        lr=2e-3,
        max_epochs=150,
        batch_size=400,
        optimizer="adam",
        weight_decay=1e-4,
        device="cpu",
        random_state=None,
        validation_fraction=None,
        early_stopping=False,
        n_iter_no_change=10,
        callbacks=None,
        verbose=0,
    ):
        self.module = module
        self.n_views = n_views
        self.n_components = n_components
        self.query = query
        self.hidden_units = hidden_units
        self.view_hidden_units = view_hidden_units
        self.dropout = dropout
        self.module_params = module_params
        self.per_worker = per_worker
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.verbose = verbose

    # -- data ---------------------------------------------------------------
    def _check_objects(self, objects, *, reset):
        """Validated object features as a float32 array (copied if read-only)."""
        objects = validate_data(
            self, objects, reset=reset, dtype=np.float32, allow_nd=True
        )
        if not objects.flags.writeable or not objects.flags.c_contiguous:
            objects = np.ascontiguousarray(objects).copy()
        return objects

    def _worker_codes(self, workers, n_rows, *, fit):
        """Row of ``W`` for each triplet (-1: unknown worker, mean preference)."""
        if fit:
            if workers is None:
                self.workers_ = None
                self.n_workers_ = 1
            else:
                try:
                    self.workers_ = np.unique(workers)
                except TypeError as exc:
                    raise ValueError(f"Worker ids must be sortable: {exc}") from exc
                self.n_workers_ = len(self.workers_)
        if not self.per_worker or self.workers_ is None:
            return np.zeros(n_rows, dtype=np.int64)
        if workers is None:
            return np.full(n_rows, -1, dtype=np.int64)
        workers = np.asarray(workers)
        try:
            pos = np.searchsorted(self.workers_, workers)
            pos = np.minimum(pos, len(self.workers_) - 1)
            known = self.workers_[pos] == workers
        except TypeError as exc:
            raise ValueError(
                f"Worker ids of type {workers.dtype} do not match the training "
                f"workers ({self.workers_.dtype})."
            ) from exc
        return np.where(known, pos, -1).astype(np.int64)

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None):
        """Learn the view embeddings and the worker preferences.

        Parameters
        ----------
        X : TripletData or array-like of shape (n_triplets, 3)
            The answered triplets, with their objects' features (inductive)
            or without (transductive), and optional worker ids. A plain
            integer array is transductive triplet rows without workers.
        y : None
            Not used: the answer is the rows' order (see ``query``).

        Returns
        -------
        self : object
        """
        import torch

        from ._modules import TripletBatches

        self._validate_params()
        rows, objects, workers, n_objects = check_triplets(X)
        self.transductive_ = objects is None
        self.n_objects_ = n_objects
        codes = self._worker_codes(workers, len(rows), fit=True)
        sample = None
        if self.transductive_:
            batches = TripletBatches(np.column_stack([codes, rows]))
        else:
            # only the objects the triplets refer to are validated and used
            used, local = np.unique(rows, return_inverse=True)
            features = self._check_objects(_safe_indexing(objects, used), reset=True)
            features = torch.from_numpy(features)
            batches = TripletBatches(
                np.column_stack([codes, local.reshape(rows.shape)]), features
            )
            sample = features[: min(len(features), 8)]
        self._fit_net(
            batches,
            None,
            n_objects=n_objects,
            n_rows_W=self.n_workers_ if self.per_worker else 1,
            sample=sample,
        )
        self._set_fitted_attributes()
        return self

    def _optimizer_class(self):
        from ._modules import DecayExceptWorkers

        return DecayExceptWorkers(super()._optimizer_class())

    def _build_module(self, X, target, *, n_objects, n_rows_W, sample):
        import torch

        from ..nn._modules import resolve_backbone
        from ._modules import FreeEmbedding, MultiviewEncoder, MultiviewTripletModule

        if self.transductive_:
            encoder = FreeEmbedding(n_objects, self.n_views, self.n_components)
        else:
            n_features = int(np.prod(sample.shape[1:]))
            trunk = resolve_backbone(
                self.module,
                n_features,
                self.hidden_units,
                self.dropout,
                **(self.module_params or {}),
            )
            if self.module is None and sample.ndim > 2:
                trunk = torch.nn.Sequential(torch.nn.Flatten(), trunk)
            encoder = MultiviewEncoder.build(
                trunk,
                sample,
                self.n_views,
                self.n_components,
                self.view_hidden_units,
                self.dropout,
            )
        return MultiviewTripletModule(
            encoder, n_rows_W, self.n_views, self.query, self.transductive_
        )

    def _set_fitted_attributes(self):
        import torch

        module = self.net_.module_
        module.train(False)  # inference from now on (dropout off)
        logits = module.worker_logits.detach().cpu().double()
        prefs = torch.softmax(logits, dim=1).numpy()
        logits = logits.numpy()
        if logits.shape[0] != self.n_workers_:  # one shared preference
            logits = np.repeat(logits, self.n_workers_, axis=0)
            prefs = np.repeat(prefs, self.n_workers_, axis=0)
        self.worker_view_logits_ = logits
        self.worker_view_preference_ = prefs
        if self.transductive_:
            table = module.encoder.table.detach().cpu().numpy()
            self.embedding_ = table.astype(np.float64)

    # -- embedding ----------------------------------------------------------
    def _module(self):
        check_is_fitted(self)
        module = self.net_.module_
        if module.training:  # e.g. after training the net by hand
            module.train(False)
        return module

    def _embed_features(self, features):
        """``(n, V, D)`` float32 tensor of validated features, by chunks."""
        import torch

        module = self._module()
        device = module.worker_logits.device  # where the module is, not ``device``
        chunk = max(self.batch_size or 1024, 256)
        out = []
        with torch.no_grad():
            for start in range(0, len(features), chunk):
                part = torch.from_numpy(features[start : start + chunk])
                out.append(module.embed(part.to(device)).cpu())
        if not out:
            return torch.zeros(0, self.n_views, self.n_components)
        return torch.cat(out)

    def transform_views(self, objects):
        """Each object's embedding in every view.

        Parameters
        ----------
        objects : array-like of shape (n, ...) or (n,) of int
            Object features (inductive), or, for a transductive model, the
            indices of training objects.

        Returns
        -------
        embedding : ndarray of shape (n, n_views, n_components)
        """
        check_is_fitted(self)
        if self.transductive_:
            index = np.asarray(objects)
            if index.ndim == 2 and index.shape[1] == 1:
                index = index[:, 0]
            if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
                raise ValueError(
                    "This model is transductive (fitted without object features): "
                    "transform takes a 1-D array of object indices; got "
                    f"shape {index.shape} and dtype {index.dtype}."
                )
            if index.size and (index.min() < 0 or index.max() >= self.n_objects_):
                raise ValueError(
                    f"Object indices must be in [0, {self.n_objects_}); got "
                    f"[{index.min()}, {index.max()}]."
                )
            return self.embedding_[index]
        features = self._check_objects(objects, reset=False)
        return self._embed_features(features).double().numpy()

    def transform(self, objects):
        """Each object's embedding, the views side by side.

        Parameters
        ----------
        objects : array-like of shape (n, ...) or (n,) of int
            Object features (inductive), or, for a transductive model, the
            indices of training objects.

        Returns
        -------
        embedding : ndarray of shape (n, n_views * n_components)
            View ``v`` in columns ``v * n_components`` to
            ``(v + 1) * n_components``.
        """
        emb = self.transform_views(objects)
        return emb.reshape(len(emb), -1)

    # -- triplets -----------------------------------------------------------
    def _mixture(self, X):
        """Mixed pair similarities ``(n, P)`` and view attention ``(n, V)``."""
        import torch

        module = self._module()
        rows, objects, workers, _ = check_triplets(
            X, n_objects=self.n_objects_ if self.transductive_ else None
        )
        codes = self._worker_codes(workers, len(rows), fit=False)
        if self.transductive_:
            emb = module.encoder.table.detach()
        else:
            if objects is None:
                raise ValueError(
                    "This model is inductive: X must be a TripletData with the "
                    "objects' features."
                )
            used, local = np.unique(rows, return_inverse=True)
            rows = local.reshape(rows.shape)
            features = self._check_objects(_safe_indexing(objects, used), reset=False)
            emb = self._embed_features(features).to(module.worker_logits.device)
        rows = torch.from_numpy(np.column_stack([codes, rows]))
        mixed, attention = [], []
        with torch.no_grad():
            for start in range(0, len(rows), 65536):
                m, a = module.mix(emb, rows[start : start + 65536].to(emb.device))
                mixed.append(m.cpu())
                attention.append(a.cpu())
        return torch.cat(mixed).double().numpy(), torch.cat(attention).double().numpy()

    def _similarities(self, X):
        return self._mixture(X)[0]

    def triplet_view_proba(self, X):
        """Attention of each triplet on each view, ``softmax(H + W[worker])``.

        Parameters
        ----------
        X : TripletData or array-like of shape (n_triplets, 3)
            Triplets (with their workers; rows without a known worker get the
            mean preference).

        Returns
        -------
        proba : ndarray of shape (n_triplets, n_views)
            Rows sum to 1.
        """
        return self._mixture(X)[1]

    def __sklearn_tags__(self):
        return _triplet_tags(super().__sklearn_tags__())


def _triplet_tags(tags):
    """Tags of the triplet estimators: they transform objects (not ``X``)."""
    from sklearn.utils import TransformerTags

    tags.transformer_tags = TransformerTags(preserves_dtype=["float64"])
    tags.target_tags.required = False
    return tags
