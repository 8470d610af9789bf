"""CrowdClassifier: a classifier and a model of every worker, trained jointly."""

from __future__ import annotations

from collections.abc import Set
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import CrowdClassifierMixin
from ..nn._net import BaseNeuralEstimator
from ..nn._target import RaggedCrowdTarget, crowd_training_target
from ..utils.validation import _check_worker_ids, check_crowd_matrix

__all__ = ["CrowdClassifier", "CROWD_MODEL_NAMES"]

#: rows per chunk of posterior_proba's per-chunk padded target (a crowd whose
#: global padding is wasteful, see skcrowd.nn._target; otherwise one chunk)
_POSTERIOR_CHUNK_ROWS = 2**14

#: The crowd models accepted by ``CrowdClassifier(crowd_model=...)``.
CROWD_MODEL_NAMES = (
    "crowdlayer-mw",
    "crowdlayer-vw",
    "crowdlayer-vb",
    "crowdlayer-vw+b",
    "speelfc",
    "tracereg",
    "geocrowdnet-f",
    "geocrowdnet-w",
    "conal",
    "instance",
    "annot-mix",
    "em",
)


class _RegisteredCrowdModels(Set):
    """The names ``crowd_model`` accepts: the built-in models and any added
    since with :func:`~skcrowd.nn.register_crowd_model`, read at validation."""

    def _names(self):
        import sys

        registry = sys.modules.get("skcrowd.nn._crowd_models")
        extra = [] if registry is None else registry.CROWD_MODELS
        return [*CROWD_MODEL_NAMES, *(n for n in extra if n not in CROWD_MODEL_NAMES)]

    def __contains__(self, name):
        return name in self._names()

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    @classmethod
    def _from_iterable(cls, names):  # the result of a set operation
        return set(names)


# the Dirichlet prior of the Dawid-Skene start: 2 pseudo-labels per
# confusion row, of which a fraction 0.8 on the diagonal
_DS_PRIOR_LABELS = 2.0
_DS_PRIOR_ACCURACY = 0.8
# items over which worker_confusion_ averages an instance-dependent confusion
_MEAN_CONFUSION_ITEMS = 256


def _dawid_skene_confusion(crowd):
    """Dawid-Skene confusions ``(n_workers, K, K)`` of an encoded crowd.

    Runs on the COO view as a sparse matrix of label codes (no dense
    ``n_samples x n_workers`` array).
    """
    import scipy.sparse as sp

    from ..aggregation import DawidSkene

    k = crowd.n_classes
    if k < 2:
        return np.ones((crowd.n_workers, k, k))
    prior = np.full((k, k), (1.0 - _DS_PRIOR_ACCURACY) / (k - 1))
    np.fill_diagonal(prior, _DS_PRIOR_ACCURACY)
    codes = sp.csr_array(
        (crowd.label, (crowd.item, crowd.worker)),
        shape=(crowd.n_samples, crowd.n_workers),
    )
    ds = DawidSkene(confusion_prior=_DS_PRIOR_LABELS * prior).fit(codes)
    conf = np.tile(prior, (crowd.n_workers, 1, 1))
    observed = np.asarray(ds.classes_, dtype=np.int64)  # codes seen in the crowd
    conf[:, observed[:, None], observed[None, :]] = ds.confusion_
    return conf


class CrowdClassifier(CrowdClassifierMixin, BaseNeuralEstimator):
    """End-to-end learning from crowds: a neural classifier and worker models.

    A network (the default MLP or a user ``torch.nn.Module``) gives each item
    a class distribution; a crowd model maps it to each worker's label
    distribution, and both are trained jointly on the observed crowd labels,
    so the classifier learns the truth rather than the noise. Training is
    done by a skorch net (``net_``) on ``device``.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The backbone producing a representation of shape ``(batch, d)`` from a
        batch of ``X`` (a linear class head is added on top). ``None`` uses an
        MLP with ``hidden_units`` and ``dropout``. A class is instantiated
        with ``module_params``; an instance is copied, never trained in place.
    crowd_model : str, default="crowdlayer-mw"
        The model of the workers, one of
        ``"crowdlayer-mw"``, ``"crowdlayer-vw"``, ``"crowdlayer-vb"``,
        ``"crowdlayer-vw+b"`` (Rodrigues & Pereira, AAAI 2018);
        ``"speelfc"`` (marginal likelihood over the true class, Chen et al.,
        IJCAI 2020); ``"tracereg"`` (Tanno et al., CVPR 2019);
        ``"geocrowdnet-f"``, ``"geocrowdnet-w"`` (Ibrahim et al., ICLR 2023);
        ``"conal"`` (common and individual confusions mixed per item and
        worker, Chu et al., AAAI 2021); ``"instance"`` (instance- and
        worker-dependent confusion from worker embeddings, the MaDL /
        Annot-Mix family: each worker's own low-rank confusion, and a
        learned probability, depending on the item, that they fail on it);
        ``"annot-mix"`` (Annot-Mix, Herde et al., ECAI 2024: a network maps
        the item's representation and a worker embedding to a full
        confusion matrix, trained with mixup of labelled (item, worker,
        label) triples); ``"em"`` (Raykar et al., JMLR 2010: EM over the
        true labels, the network trained on the posteriors each epoch,
        closed-form worker confusions); or the name of a model added with
        :func:`~skcrowd.nn.register_crowd_model`. See
        :mod:`skcrowd.nn._crowd_models`.
    hidden_units : tuple of int, default=(100,)
        Hidden layers of the default MLP.
    dropout : float, default=0.0
        Dropout of the default MLP.
    module_params : dict, default=None
        Keyword arguments to instantiate a ``module`` class.
    reg : float, default=None
        Strength of the crowd model's regulariser (trace for ``tracereg``,
        log-determinant for ``geocrowdnet-*``, confusion distance for
        ``conal``, embedding penalty for ``instance``, Dirichlet
        pseudo-counts of the confusions for ``em``; ``annot-mix`` has
        none); ``None`` takes the model's default.
    confusion_rank : int, default=None
        For the confusion-matrix models: ``None`` gives each worker a full
        ``K x K`` matrix; an int gives a shared matrix plus a per-worker
        diagonal and rank-``confusion_rank`` part, whose size grows as
        ``K * rank`` per worker instead of ``K^2`` (for many classes);
        ``"conal"`` uses the same form for its individual confusions. For
        ``"instance"`` it is the rank of the workers' confusion patterns
        (default ``min(8, K)``). The CrowdLayer models, ``"em"`` (whose
        M-step is closed-form) and ``"annot-mix"`` (whose per-worker
        embedding has 128 numbers whatever K) ignore it.
    confusion_init : {"dawid-skene", "identity"}, default="dawid-skene"
        Start of the worker models. ``"dawid-skene"``: from the confusions
        that Dawid-Skene EM estimates from the crowd alone (no features),
        under a symmetric Dirichlet prior worth 2 labels per confusion row
        that believes workers are right with probability 0.8; used by the
        models that can represent a confusion matrix (``"crowdlayer-mw"``,
        and its diagonal for ``"crowdlayer-vw"``, ``"crowdlayer-vw+b"``;
        ``"speelfc"``, ``"tracereg"``, ``"geocrowdnet-*"``; for
        ``"annot-mix"`` its worker network is fitted to them), the others
        keep their own start. The classifier then learns from the first
        step through worker models that already tell spammers from experts.
        ``"identity"``: each model's own start (identity-leaning, as in
        the papers).
    class_prior_correction : bool, default=False
        Train with logits shifted by the log class prior (estimated by
        majority vote) and predict with the plain logits (logit adjustment,
        Menon et al., ICLR 2021): better balanced accuracy on long tails.
    mixup_alpha : float or "auto", default="auto"
        Mixup of the training batches (Zhang et al., ICLR 2018), the lever
        of Annot-Mix (Herde et al., ECAI 2024): each batch's items are mixed
        with a random permutation of them, ``lam * x_i + (1 - lam) * x_j``
        with one ``lam ~ Beta(mixup_alpha, mixup_alpha)`` per batch, and
        the loss is the crowd model's loss on the mixed items against the
        crowd labels of ``i``, weighted by ``lam``, plus that against the
        labels of ``j``, weighted by ``1 - lam`` (each worker's one-hot
        labels mixed). Works with every crowd model; 0 turns it off.
        ``"annot-mix"`` mixes as its paper does instead: each labelled
        (item, worker, label) triple with another, by a ``lam`` of its own,
        the one-hot workers too.
        ``"auto"`` takes the crowd model's ``default_mixup_alpha``: 1 (the
        Annot-Mix value) for ``"speelfc"``, ``"em"`` and ``"annot-mix"``,
        0 (off) for the others. In 5-fold CV on Music's training songs
        (``mixup_alpha=1`` against 0, 10 seeds, accuracy on their gold
        labels) it helped
        ``em`` (70.9 against 70.0%) and ``speelfc`` (69.1 against 68.7;
        on the simulated crowds of ``bench_crowd_simulations.py`` the two
        gained or lost up to 2 points, depending on the crowd), hardly
        ``instance`` (68.7 against 68.2, the sign changing between
        seeds; off: on the simulated crowds it cost 0.8 to 2.1 points of
        accuracy), not ``conal`` (66.0 against 66.1); it
        changed ``tracereg`` and ``geocrowdnet-*`` by at most 0.3 and hurt
        the CrowdLayer models (3 seeds: -0.4 to -1.8 points; -0.7 to -1.0
        at ``mixup_alpha=0.3``). See ``benchmarks/results/bench_music_cv.txt``.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=100
        Number of training epochs.
    batch_size : int, default=64
        Mini-batch size (``None``: the whole data set).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or callable, default="adam"
        Torch optimizer (class or name).
    weight_decay : float, default=0.0
        Weight decay of the optimizer.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the shuffling and dropout (inside
        ``torch.random.fork_rng``: the global torch RNG is left untouched).
    missing_label : scalar, default=np.nan
        Marker of a missing crowd label.
    validation_fraction : float, default=None
        Fraction of the items held out to monitor the validation loss (the
        crowd likelihood of their labels). ``None``: train on all.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the best weights.
    n_iter_no_change : int, default=10
        Patience of early stopping.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks, e.g. ``[("cp", Checkpoint(...))]``.
    verbose : int, default=0
        Print skorch's epoch table and a progress bar.
    accelerator : accelerate.Accelerator, default=None
        Train through Hugging Face accelerate (skorch's ``AccelerateMixin``):
        multi-GPU or multi-process data parallelism (run the script with
        ``accelerate launch``), mixed precision, gradient accumulation. The
        accelerator places the model, so ``device`` is then ignored.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The crowd's classes.
    n_workers_ : int
        Number of workers.
    workers_ : ndarray of shape (n_workers,)
        The worker ids (column names) of a crowd given as a DataFrame; only
        then. :meth:`posterior_proba` checks a DataFrame crowd against them.
    n_features_in_ : int
        Number of features.
    worker_confusion_ : ndarray of shape (n_workers, n_classes, n_classes)
        Estimated confusion of each worker (rows the true class), averaged
        over the training items (at most 256, evenly spaced) for
        instance-dependent models.
    worker_reliability_ : ndarray of shape (n_workers,)
        Estimated probability that each worker's label is correct (the
        confusion's diagonal weighted by the predicted class frequencies).
    net_ : skorch.NeuralNet
        The trained net.
    history_ : skorch.History
        Training history (``train_loss`` per epoch, ``valid_loss`` too with a
        validation fraction).

    Examples
    --------
    >>> from skcrowd.classification import CrowdClassifier
    >>> from skcrowd.datasets import make_crowd_classification
    >>> X, Y, y_true = make_crowd_classification(
    ...     n_samples=200, n_workers=5, random_state=0)
    >>> clf = CrowdClassifier(max_epochs=10, random_state=0).fit(X, Y)
    >>> clf.predict_proba(X).shape, clf.worker_confusion_.shape
    ((200, 3), (5, 3, 3))
    """

    # X and the crowd target are arrays: index them once per mini-batch
    _batched_loader = True

    _parameter_constraints: dict = {
        **BaseNeuralEstimator._parameter_constraints,
        "crowd_model": [StrOptions(_RegisteredCrowdModels())],
        "hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "module_params": [dict, None],
        "reg": [Interval(Real, 0, None, closed="left"), None],
        "confusion_rank": [Interval(Integral, 1, None, closed="left"), None],
        "confusion_init": [StrOptions({"dawid-skene", "identity"})],
        "class_prior_correction": ["boolean"],
        "mixup_alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "missing_label": "no_validation",
    }

    def __init__(
        self,
        module=None,
        *,
        crowd_model="crowdlayer-mw",
        hidden_units=(100,),
        dropout=0.0,
        module_params=None,
        reg=None,
        confusion_rank=None,
        confusion_init="dawid-skene",
        class_prior_correction=False,
        mixup_alpha="auto",
        lr=1e-3,
        max_epochs=100,
        batch_size=64,
        optimizer="adam",
        weight_decay=0.0,
        device="cpu",
        random_state=None,
        missing_label=np.nan,
        validation_fraction=None,
        early_stopping=False,
        n_iter_no_change=10,
        callbacks=None,
        verbose=0,
        accelerator=None,
    ):
        self.module = module
        self.crowd_model = crowd_model
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.module_params = module_params
        self.reg = reg
        self.confusion_rank = confusion_rank
        self.confusion_init = confusion_init
        self.class_prior_correction = class_prior_correction
        self.mixup_alpha = mixup_alpha
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.missing_label = missing_label
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.verbose = verbose
        self.accelerator = accelerator

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y):
        """Train the classifier and the worker models on a crowd.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features (converted to float32).
        y : array-like of shape (n_samples, n_workers) or (n_samples,), or sparse
            The crowd label matrix (missing: NaN/None/``missing_label``); a
            1-D ``y`` is a single worker.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X, crowd = self._validate_crowd_data(X, y, reset=True, dtype=np.float32)
        self.classes_ = crowd.classes
        self.n_workers_ = crowd.n_workers
        self._fit_net(X, self._training_target(crowd), crowd=crowd)
        import torch

        # torch's DataLoader draws a seed from the global RNG per pass
        with torch.random.fork_rng(devices=[]):
            self._set_worker_estimates(X)
        return self

    def _crowd_model_class(self):
        from ..nn._crowd_models import CROWD_MODELS

        return CROWD_MODELS[self.crowd_model]

    def _skorch_callbacks(self):
        callbacks = super()._skorch_callbacks()
        if self._crowd_model_class().epoch_hook:
            from ..nn._modules import CrowdModelEpochEnd

            # first, so that early stopping and checkpoints see the update
            callbacks.insert(0, ("crowd_model_epoch_end", CrowdModelEpochEnd()))
        return callbacks

    def _training_target(self, crowd):
        """``[workers | labels | item index]`` of the training crowd.

        The index column lets crowd models with per-item state (the EM
        model) find their rows in a batch. The global-padded array unless a
        few much-labelled items would make it mostly padding: then padded
        per batch (accelerate's per-row loader stacks rows of one width, so
        global padding there).
        """
        return crowd_training_target(crowd, allow_ragged=self.accelerator is None)

    def _build_module(self, X, target, *, crowd):
        import torch

        from ..nn._modules import CrowdNetModule, resolve_backbone

        backbone = resolve_backbone(
            self.module,
            X.shape[1],
            self.hidden_units,
            self.dropout,
            **(self.module_params or {}),
        )
        model_class = self._crowd_model_class()
        reg = model_class.default_reg if self.reg is None else self.reg
        n_classes, n_workers = crowd.n_classes, crowd.n_workers

        def crowd_model_factory(rep_size):
            model = model_class(
                n_classes, n_workers, rep_size, reg=reg, rank=self.confusion_rank
            )
            model.initialize_from_crowd(
                crowd.item, crowd.worker, crowd.label, crowd.n_samples
            )
            if self.confusion_init == "dawid-skene":
                model.initialize_confusion(
                    torch.as_tensor(_dawid_skene_confusion(crowd), dtype=torch.float32),
                    worker=crowd.worker,
                )
            return model

        log_prior = None
        if self.class_prior_correction:
            counts = np.bincount(crowd.label, minlength=n_classes) + 1.0
            log_prior = torch.as_tensor(
                np.log(counts / counts.sum()), dtype=torch.float32
            )
        return CrowdNetModule.build(
            backbone,
            torch.as_tensor(X[: min(len(X), 8)]),
            n_classes,
            crowd_model_factory,
            log_prior=log_prior,
            mixup_alpha=self._mixup_alpha(),
        )

    def _mixup_alpha(self):
        """``mixup_alpha``, with ``"auto"`` resolved by the crowd model."""
        if self.mixup_alpha == "auto":
            return getattr(self._crowd_model_class(), "default_mixup_alpha", 0.0)
        return self.mixup_alpha

    def _set_worker_estimates(self, X):
        import torch

        crowd_model = self.net_.module_.crowd_model
        logits, rep = self._forward(X)
        if crowd_model.instance_dependent:
            conf = self._mean_confusion(rep)
        else:
            conf = self._call_crowd_model("confusion")
        conf = conf.numpy().astype(np.float64)
        prior = torch.softmax(logits, dim=1).mean(dim=0).numpy().astype(np.float64)
        self.worker_confusion_ = conf
        self.worker_reliability_ = np.einsum("k,wkk->w", prior, conf)

    def _mean_confusion(self, rep):
        """Instance-dependent confusion averaged over training items.

        The exact mean costs ``n_samples * n_workers * K^2`` (minutes at
        K = 100): it is taken over at most ``_MEAN_CONFUSION_ITEMS`` evenly
        spaced items, in chunks of at most ``2**22`` confusion cells.
        """
        k = len(self.classes_)
        step = -(-len(rep) // _MEAN_CONFUSION_ITEMS)  # ceil
        rep = rep[::step]
        chunk = max(1, 2**22 // max(1, self.n_workers_ * k * k))
        total = 0.0
        for start in range(0, len(rep), chunk):
            part = rep[start : start + chunk]
            total = total + self._call_crowd_model("mean_confusion", part) * len(part)
        return total / len(rep)

    # -- prediction ---------------------------------------------------------
    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float32)

    def predict_proba(self, X):
        """Probability of each true class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        import torch

        X = self._check_X(X)
        logits, _ = self._forward(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, X):
        """Most probable true class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_worker_proba(self, X, workers=None):
        """Each worker's predicted label distribution on each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        workers : array-like of int, default=None
            Indices (columns of the training crowd) of the workers; ``None``
            for all of them.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_selected_workers, n_classes)
            ``proba[i, j, l]``: probability that worker ``workers[j]`` labels
            item ``i`` with ``classes_[l]``.
        """
        import torch

        X = self._check_X(X)
        workers = np.arange(self.n_workers_) if workers is None else np.asarray(workers)
        if workers.ndim != 1 or workers.size == 0:
            raise ValueError("workers must be a non-empty 1-D array of indices.")
        if workers.dtype.kind not in "iu" or workers.min() < 0 or (
            workers.max() >= self.n_workers_
        ):
            raise ValueError(
                f"workers must be indices in [0, {self.n_workers_}); got {workers}."
            )
        logits, rep = self._forward(X)
        index = torch.as_tensor(workers).expand(len(X), -1)
        log_p = self._call_crowd_model("log_annotation_proba", logits, rep, index)
        # renormalised in float64, as predict_proba
        return torch.softmax(log_p.double(), dim=-1).numpy()

    def posterior_proba(self, X, y):
        """Posterior of the true class given the features *and* the crowd.

        ``p(k | x, labels) ∝ p(k | x) ∏_r p(label_r | k, worker r)``: the
        classifier's belief corrected by the workers' labels through their
        estimated confusions (the structured model of SpeeLFC; available for
        every crowd model with a confusion matrix).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_workers), or sparse
            Crowd labels of these samples over the training workers (a
            DataFrame's columns must be the worker ids seen in ``fit``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        import torch

        X = self._check_X(X)
        _check_worker_ids(self, y, reset=False)
        crowd = check_crowd_matrix(
            y, missing_label=self.missing_label, classes=self.classes_,
            n_samples=X.shape[0], input_name="y",
        )
        if crowd.n_workers != self.n_workers_:
            raise ValueError(
                f"y has {crowd.n_workers} workers; the model has {self.n_workers_}."
            )
        logits, rep = self._forward(X)
        # one target for all rows, padded to the widest item, unless a few
        # much-labelled items make that mostly padding: then per chunk of
        # rows, each padded to its own widest
        ragged = RaggedCrowdTarget.from_crowd(crowd)
        chunk = _POSTERIOR_CHUNK_ROWS if ragged.padding_is_wasteful else len(ragged)
        parts = []
        for start in range(0, len(ragged), max(chunk, 1)):
            rows = slice(start, start + chunk)
            target = torch.as_tensor(ragged[rows])
            half = target.shape[1] // 2  # the index column is dropped
            parts.append(
                self._call_crowd_model(
                    "log_posterior",
                    logits[rows],
                    rep[rows],
                    target[:, :half],
                    target[:, half : 2 * half],
                )
            )
        log_post = torch.cat(parts) if parts else logits.new_zeros(logits.shape)
        return torch.softmax(log_post.double(), dim=1).numpy()

    def _call_crowd_model(self, method, *tensors):
        """A crowd model method, without gradients, on the module's device.

        The inputs move to where the trained crowd model lives (which is the
        CPU for a model trained on CUDA and unpickled without it); the result
        comes back on the CPU.
        """
        import torch

        crowd_model = self.net_.module_.crowd_model
        device = next(iter([*crowd_model.parameters(), *crowd_model.buffers()])).device
        with torch.no_grad():
            out = getattr(crowd_model, method)(*(t.to(device) for t in tensors))
        return out.cpu()
