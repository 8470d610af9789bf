"""The one skorch composition base shared by skcrowd's neural estimators.

A neural estimator is a plain scikit-learn estimator that *owns* a skorch
net as ``net_`` (DESIGN.md §2): composition, not subclassing, so that
``check_estimator`` passes. :class:`BaseNeuralEstimator` does what all of
them share:

- flat, tunable parameters (``lr``, ``max_epochs``, ``batch_size``,
  ``optimizer``, ``device``, ``random_state``, ``callbacks``, ``verbose``,
  ``validation_fraction``/``early_stopping`` like ``MLPClassifier``);
- seeding inside ``fit`` from ``random_state`` under
  ``torch.random.fork_rng``, so runs repeat and the user's global RNG is
  untouched;
- building the skorch net with sizes inferred from the data, with the
  crowd-safe defaults (no hidden validation split, a shuffled train loader);
- training on ``device`` and exposing ``history_``;
- resumable training: :meth:`BaseNeuralEstimator.resume` continues a fit
  (in memory, or from a :class:`~skcrowd.nn.TrainingCheckpoint` written by
  an interrupted run) so that the resumed model equals an uninterrupted
  one: the module, the optimizer, the history *and* the torch random
  number generator (data-loader shuffling, dropout) continue exactly;
- persistence: pickling maps a CUDA-trained model to the CPU when CUDA is
  absent, and :mod:`skcrowd.persistence` saves the net without pickle.

The torch module computes its own loss: ``module.loss(output, target)``.
The net's ``get_loss`` calls it, so skorch's criterion stays a standard one
and nothing in prediction depends on it.

Torch is imported lazily: importing this module does not import torch.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "BaseNeuralEstimator",
    "TrainingInterruptedWarning",
    "make_skorch_net_class",
]

#: name of the internal callback recording the state at each epoch's end
_EPOCH_STATE = "skcrowd_epoch_state"


class TrainingInterruptedWarning(UserWarning):
    """Training stopped before ``max_epochs`` without early stopping.

    skorch turns a ``KeyboardInterrupt`` (Ctrl-C) during training into a
    normal return; the estimator then holds the model as it was when
    interrupted and warns with this category. ``resume`` continues it.

    See Also
    --------
    TrainingCheckpoint : Save every epoch, to resume after a crash too.

    Examples
    --------
    A callback stands in for a Ctrl-C at the start of the third epoch:

    >>> import tempfile, warnings
    >>> from skorch.callbacks import Callback
    >>> from skcrowd.classification import CrowdClassifier
    >>> from skcrowd.datasets import make_crowd_classification
    >>> from skcrowd.nn import TrainingCheckpoint, TrainingInterruptedWarning
    >>> class CtrlC(Callback):
    ...     def on_epoch_begin(self, net, **kwargs):
    ...         if len(net.history) == 3:
    ...             raise KeyboardInterrupt
    >>> X, Y, _ = make_crowd_classification(n_samples=60, random_state=0)
    >>> run = tempfile.mkdtemp()
    >>> clf = CrowdClassifier(max_epochs=5, random_state=0,
    ...                       callbacks=[CtrlC(), TrainingCheckpoint(run)])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", TrainingInterruptedWarning)
    ...     clf = clf.fit(X, Y)
    >>> [w.category.__name__ for w in caught]
    ['TrainingInterruptedWarning']
    >>> print(caught[0].message)
    CrowdClassifier: training was interrupted during epoch 3 (the last complete \
one is 2) of 5; the model is the one at the interruption. Call resume(X, y) to \
continue it (or resume from a TrainingCheckpoint).

    The checkpoint of epoch 2 continues it to the model of an uninterrupted
    fit:

    >>> clf = clf.set_params(callbacks=None).resume(X, Y, checkpoint=run)
    >>> full = CrowdClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> len(clf.history_), bool((clf.predict_proba(X) == full.predict_proba(X)).all())
    (5, True)
    """

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
_NET_CLASS = None
_ACCELERATED_NET_CLASS = None
#: what a pickled net stores as its ``module`` when it is its ``module_``
_MODULE_IS_MODULE_ = "<skcrowd: same as module_>"


def make_skorch_net_class(accelerated=False):
    """The skorch ``NeuralNet`` subclass whose loss is the module's own.

    With ``accelerated=True``, the same class with skorch's
    ``AccelerateMixin`` (Hugging Face accelerate: multi-GPU and
    multi-process training, mixed precision), built with an ``accelerator``.
    """
    global _NET_CLASS, _ACCELERATED_NET_CLASS
    if accelerated:
        if _ACCELERATED_NET_CLASS is None:
            from skorch.hf import AccelerateMixin

            class AcceleratedModuleLossNet(AccelerateMixin, make_skorch_net_class()):
                """``ModuleLossNet`` trained through an ``accelerate.Accelerator``."""

            AcceleratedModuleLossNet.__module__ = __name__
            AcceleratedModuleLossNet.__qualname__ = "AcceleratedModuleLossNet"
            _ACCELERATED_NET_CLASS = AcceleratedModuleLossNet
        return _ACCELERATED_NET_CLASS
    if _NET_CLASS is None:
        from skorch import NeuralNet
        from skorch.utils import to_tensor

        class ModuleLossNet(NeuralNet):
            """A skorch net whose loss is ``module_.loss(y_pred, y_true)``."""

            def get_loss(self, y_pred, y_true, X=None, training=False):
                # skorch moves X to ``device`` in infer, but the target only in
                # its own get_loss (replaced here): without this the crowd
                # target stayed on the CPU and met CUDA outputs in the loss
                if y_true is not None:
                    y_true = to_tensor(y_true, device=self.device)
                return self.module_.loss(y_pred, y_true)

            # The estimators pass the module they built as an instance, so
            # ``net.module`` *is* ``net.module_``, which skorch moved to
            # ``device`` in place. skorch pickles ``module_`` so that it loads
            # on the CPU where there is no CUDA, but ``module`` with plain
            # pickle: a model trained on CUDA then failed to unpickle on a
            # CPU-only machine ("Attempting to deserialize object on a CUDA
            # device") before skorch's own mapping ran. Store a marker instead
            # and point ``module`` back at the loaded ``module_``.
            def __getstate__(self):
                state = super().__getstate__()
                module = self.__dict__.get("module")
                if module is not None and module is self.__dict__.get("module_"):
                    state["module"] = _MODULE_IS_MODULE_
                return state

            def __setstate__(self, state):
                marker = state.get("module")
                same = isinstance(marker, str) and marker == _MODULE_IS_MODULE_
                super().__setstate__(state)
                if same:
                    self.__dict__["module"] = self.__dict__["module_"]

        ModuleLossNet.__module__ = __name__
        ModuleLossNet.__qualname__ = "ModuleLossNet"
        _NET_CLASS = ModuleLossNet
    return _NET_CLASS


def __getattr__(name):  # pickles refer to these lazily built classes by name
    if name == "ModuleLossNet":
        return make_skorch_net_class()
    if name == "AcceleratedModuleLossNet":
        return make_skorch_net_class(accelerated=True)
    if name == "_EpochStateCallback":
        return type(_EpochState())
    raise AttributeError(name)


def batch_loader(dataset, batch_size=1, shuffle=False, **kwargs):
    """A ``DataLoader`` that indexes the dataset once per mini-batch.

    torch's default loader calls ``dataset[i]`` once per row and stacks the
    rows: with a small network that per-row Python work costs as much as
    the training step itself. Here the sampler yields whole batches of
    indices; when the data are plain arrays (skorch's ``Dataset`` over numpy
    arrays or tensors, possibly behind skorch's validation ``Subset``) they
    are indexed directly, one fancy index per batch, otherwise through
    ``dataset[rows]``; the loader only converts the result to tensors. The
    batches, and the random numbers drawn to shuffle them, are those of
    ``DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)``.
    """
    from torch.utils.data import (
        BatchSampler,
        DataLoader,
        RandomSampler,
        SequentialSampler,
    )

    rows = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    sampler = BatchSampler(rows, batch_size, drop_last=False)
    return DataLoader(
        _BatchIndexer(dataset), batch_size=None, sampler=sampler, **kwargs
    )


class _BatchIndexer:
    """``dataset[rows]`` for a list of rows, with arrays indexed directly."""

    def __init__(self, dataset):
        import torch
        from skorch.dataset import Dataset
        from torch.utils.data import Subset

        self.dataset = dataset
        self.fast = None
        chain, base = [], dataset
        while isinstance(base, Subset):  # skorch's validation split
            chain.append(np.asarray(base.indices, dtype=np.int64))
            base = base.dataset
        from ._target import RaggedCrowdTarget

        arrays = (np.ndarray, torch.Tensor)
        # a ragged crowd target is padded per batch by its own indexing
        targets = (*arrays, RaggedCrowdTarget)
        if (
            type(base) is Dataset
            and isinstance(base.X, arrays)
            and (base.y is None or isinstance(base.y, targets))
        ):
            self.fast = (base, chain)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, rows):
        if self.fast is None:
            return self.dataset[rows]
        base, chain = self.fast
        rows = np.asarray(rows, dtype=np.int64)
        for index in chain:  # outermost Subset first
            rows = index[rows]
        y = None if base.y is None else base.y[rows]
        return base.transform(base.X[rows], y)


def identity(x):
    """Prediction nonlinearity of the nets: the estimator post-processes."""
    return x


class BaseNeuralEstimator(BaseEstimator):
    """Base of the neural estimators (composition over a skorch net).

    Subclasses implement ``_build_module(self, X, target, **info)`` returning
    a ``torch.nn.Module`` instance with a ``loss(output, target)`` method.
    ``_fit_net(X, target, **info)`` trains it and sets ``net_`` and
    ``history_``; ``_forward(X)`` returns the module's outputs in
    evaluation mode, as tensors on the CPU. Around them the base class
    gives every neural estimator the same training settings (optimizer,
    mini-batches, early stopping on a validation split, seeding by
    ``random_state``, devices and Hugging Face accelerate), :meth:`resume`
    and safe persistence (:mod:`skcrowd.persistence`). A subclass has, as
    parameters or class attributes, the settings the net reads: ``lr``,
    ``max_epochs``, ``batch_size``, ``optimizer``, ``weight_decay``,
    ``device``, ``random_state``, ``validation_fraction``,
    ``early_stopping`` (with ``n_iter_no_change``), ``callbacks`` and
    ``verbose``. A fit whose training diverged to non-finite weights (a
    too large ``lr``, unscaled features) raises a ``ValueError`` saying so,
    instead of predicting NaN.

    See Also
    --------
    skcrowd.classification.CrowdClassifier : The crowd classifier built on it.

    Examples
    --------
    A linear regression trained by Adam, in a dozen lines:

    >>> import numpy as np
    >>> import torch
    >>> from sklearn.base import RegressorMixin
    >>> from skcrowd.nn import BaseNeuralEstimator
    >>> class Linear(torch.nn.Module):
    ...     def __init__(self, n_features):
    ...         super().__init__()
    ...         self.linear = torch.nn.Linear(n_features, 1)
    ...     def forward(self, X):
    ...         return self.linear(X).squeeze(1)
    ...     def loss(self, output, target):
    ...         return torch.nn.functional.mse_loss(output, target)
    >>> class TorchLinearRegression(RegressorMixin, BaseNeuralEstimator):
    ...     # the net's other settings, fixed for this sketch
    ...     batch_size, optimizer, weight_decay, device = None, "adam", 0.0, "cpu"
    ...     validation_fraction, early_stopping, callbacks = None, False, None
    ...     verbose = 0
    ...     def __init__(self, lr=0.1, max_epochs=100, random_state=None):
    ...         self.lr = lr
    ...         self.max_epochs = max_epochs
    ...         self.random_state = random_state
    ...     def _build_module(self, X, target):
    ...         return Linear(X.shape[1])
    ...     def fit(self, X, y):
    ...         self._validate_params()
    ...         self._fit_net(np.asarray(X, np.float32), np.asarray(y, np.float32))
    ...         return self
    ...     def predict(self, X):
    ...         return self._forward(np.asarray(X, np.float32)).numpy()
    >>> X = np.random.RandomState(0).normal(size=(100, 2))
    >>> y = X @ [2.0, -1.0] + 0.5
    >>> reg = TorchLinearRegression(random_state=0).fit(X, y)
    >>> len(reg.history_), round(reg.score(X, y), 3)
    (100, 1.0)
    >>> reg.net_.module_.linear.weight.detach().numpy().round(1)
    array([[ 2., -1.]], dtype=float32)
    """

    #: train and predict through :func:`batch_loader` (one index per batch);
    #: for estimators whose data skorch's ``Dataset`` indexes by arrays
    _batched_loader = False

    _parameter_constraints: dict = {
        "module": "no_validation",
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), callable],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": "no_validation",
        "random_state": ["random_state"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "verbose": ["verbose"],
        "accelerator": "no_validation",
    }

    def _optimizer_class(self):
        import torch

        if callable(self.optimizer):
            return self.optimizer
        return getattr(torch.optim, _OPTIMIZERS[self.optimizer])

    def _skorch_callbacks(self):
        from skorch.callbacks import EarlyStopping, ProgressBar

        callbacks = [] if self.callbacks is None else list(self.callbacks)
        if self.early_stopping:
            if self.validation_fraction is None:
                raise ValueError(
                    "early_stopping=True needs a validation_fraction in (0, 1)."
                )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _train_split(self, seed):
        if self.validation_fraction is None:
            return None
        from skorch.dataset import ValidSplit

        # not stratified: a crowd target is 2-D (DESIGN.md §3.8)
        return ValidSplit(
            self.validation_fraction, stratified=False, random_state=seed
        )

    def _cuda_devices(self):
        import torch

        if str(self.device).startswith("cuda") and torch.cuda.is_available():
            return list(range(torch.cuda.device_count()))
        return []

    def _make_net(self, module, seed):
        """The skorch net around ``module`` (not initialised, not trained)."""
        import torch

        callbacks = self._skorch_callbacks()
        # last (before skorch's PrintLog): sees the state once every other
        # callback has run at the end of an epoch
        callbacks.append((_EPOCH_STATE, _EpochState()))
        # an accelerate.Accelerator (multi-GPU/multi-process, mixed precision)
        # places the model itself: skorch's AccelerateMixin wants device=None
        accelerator = getattr(self, "accelerator", None)
        net_class = make_skorch_net_class(accelerated=accelerator is not None)
        extra = {}
        if self._batched_loader:
            # one index per batch, not per row (accelerate re-builds the
            # loader from its batch size: it keeps torch's default one)
            extra = {"iterator_train": batch_loader, "iterator_valid": batch_loader}
        if accelerator is not None:
            # skorch's PrintLog ignores verbose=0 when its sink is not print
            sink = getattr(accelerator, "print", print) if self.verbose else _silent
            extra = {"accelerator": accelerator, "callbacks__print_log__sink": sink}
        net = net_class(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,  # unused: see get_loss
            optimizer=self._optimizer_class(),
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size if self.batch_size else -1,
            iterator_train__shuffle=True,
            train_split=self._train_split(seed),
            callbacks=callbacks,
            predict_nonlinearity=identity,
            device=self.device if accelerator is None else None,
            verbose=int(bool(self.verbose)),
            **extra,
        )
        net.skcrowd_seed_ = seed  # read by TrainingCheckpoint
        return net

    def _fit_net(self, X, target, **info):
        """Seed, build and train the skorch net; set ``net_`` and ``history_``.

        Inside :meth:`resume`, the net is built the same way and then takes
        the saved state (module, optimizer, history, RNG) before training
        the remaining epochs.
        """
        import torch

        source = getattr(self, "_resume_source", None)
        if source is None:
            rng = check_random_state(self.random_state)
            seed = int(rng.randint(np.iinfo(np.int32).max))
        else:
            seed = source.seed
        devices = self._cuda_devices()
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            module = self._build_module(X, target, **info)
            net = self._make_net(module, seed)
            with warnings.catch_warnings():
                # skorch warns when a module instance is given (it is re-used)
                warnings.filterwarnings("ignore", message=".*module.*initialized.*")
                if source is None:
                    net.fit(X, target)
                else:
                    net.initialize()
                    source.restore(net, devices)
                    remaining = self.max_epochs - len(net.history)
                    if remaining > 0:
                        net.partial_fit(X, target, epochs=remaining)
        self.net_ = net
        self.history_ = net.history
        self._record_train_state(net, seed, source)
        _check_finite_parameters(self, net)
        return net

    def _record_train_state(self, net, seed, source):
        """Keep what resuming needs: the seed and the RNG at the last epoch end."""
        recorder = dict(net.callbacks_)[_EPOCH_STATE]
        n_epochs = len(net.history)
        if recorder.rng_ is not None:
            epoch, rng = recorder.epoch_, recorder.rng_
        elif source is not None:  # resumed, nothing left to train
            epoch, rng = source.epoch, source.rng
        else:
            epoch, rng = 0, None
        self._train_state_ = {"seed": seed, "epoch": epoch, "rng": rng}
        if n_epochs < self.max_epochs and not _early_stopped(net):
            where = (
                f"after epoch {epoch}"
                if epoch == n_epochs
                else f"during epoch {n_epochs} (the last complete one is {epoch})"
            )
            warnings.warn(
                f"{type(self).__name__}: training was interrupted {where} of "
                f"{self.max_epochs}; the model is the one at the interruption. "
                "Call resume(X, y) to continue it (or resume from a "
                "TrainingCheckpoint).",
                TrainingInterruptedWarning,
                stacklevel=3,
            )

    def resume(self, X, y=None, *, checkpoint=None, **fit_params):
        """Continue training until ``max_epochs`` epochs are done in total.

        Resuming reaches the same model as an uninterrupted ``fit`` with the
        same ``random_state``: the module's weights, the optimizer's state,
        the history and the torch random number generator (which drives
        the data loader's shuffling and dropout) all continue from where
        training stopped. So ``fit`` with ``max_epochs=a``, then
        ``set_params(max_epochs=a + b).resume(X, y)``, gives the model of a
        ``fit`` with ``max_epochs=a + b``.

        Parameters
        ----------
        X, y :
            The training data of the interrupted fit (as for ``fit``).
        checkpoint : str, path or TrainingCheckpoint, default=None
            Resume from the last complete epoch saved by a
            :class:`~skcrowd.nn.TrainingCheckpoint` (a run that crashed or
            was killed). ``None`` resumes the fitted estimator itself (after
            a ``fit`` with fewer epochs, or one stopped by Ctrl-C at an epoch
            boundary).
        **fit_params : dict
            Passed on to ``fit``.

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            If there is nothing to resume (not fitted and no checkpoint),
            the in-memory model stopped in the middle of an epoch, the saved
            state has already more epochs than ``max_epochs``, the data give
            a network of another shape than the saved one, or
            ``early_stopping=True`` (its patience and best weights are not
            part of the saved state).

        Examples
        --------
        >>> from skcrowd.classification import CrowdClassifier
        >>> from skcrowd.datasets import make_crowd_classification
        >>> X, Y, _ = make_crowd_classification(n_samples=60, random_state=0)
        >>> clf = CrowdClassifier(max_epochs=3, random_state=0).fit(X, Y)
        >>> clf = clf.set_params(max_epochs=5).resume(X, Y)
        >>> full = CrowdClassifier(max_epochs=5, random_state=0).fit(X, Y)
        >>> bool((clf.predict_proba(X) == full.predict_proba(X)).all())
        True
        """
        if self.early_stopping:
            raise ValueError(
                "resume does not support early_stopping=True: early stopping's "
                "patience count and best weights are not part of the saved "
                "training state. Fit again, or resume with early_stopping=False."
            )
        if checkpoint is None:
            source = _ResumeSource.from_estimator(self)
        else:
            from ._checkpoint import load_checkpoint

            source = _ResumeSource(**load_checkpoint(checkpoint))
        if source.epoch > self.max_epochs:
            raise ValueError(
                f"The saved training state has {source.epoch} epochs, more than "
                f"max_epochs={self.max_epochs}: set max_epochs to the total "
                "number of epochs wanted."
            )
        self._resume_source = source
        try:
            return self.fit(X, y, **fit_params)
        finally:
            del self._resume_source

    # -- pickling -----------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        from .. import persistence

        context = persistence._active_dump_context()
        if context is not None:  # skcrowd.persistence.dump: no pickle inside
            state = context.encode_neural_state(self, state)
        return state

    def __setstate__(self, state):
        from .. import persistence

        context = persistence._active_load_context()
        saved = None
        if context is not None:
            state, saved = context.decode_neural_state(state)
        elif persistence._SAVED_NET_KEY in state:
            raise ValueError(
                "This state was saved by skcrowd.persistence.dump; load it with "
                "skcrowd.persistence.load."
            )
        super().__setstate__(state)
        if saved is not None:
            context.restore_net(self, saved)
        elif "net_" in self.__dict__:
            self._map_to_available_device()

    def _map_to_available_device(self):
        """A model trained on CUDA, loaded where there is none: use the CPU."""
        import torch

        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"{type(self).__name__} was trained on device={self.device!r}, "
                "which is not available here: it is loaded on the CPU and its "
                "device set to 'cpu'.",
                UserWarning,
                stacklevel=3,
            )
            self.device = "cpu"
            net = self.__dict__.get("net_")
            if net is not None and str(net.device).startswith("cuda"):
                net.set_params(device="cpu")
                net.module_.to("cpu")

    def _forward(self, X):
        """The module's outputs on ``X`` in evaluation mode (CPU tensors)."""
        import torch

        outputs = []
        # the DataLoader draws a base seed from the global torch RNG, even
        # unshuffled: fork it, so that predicting leaves the user's RNG as is
        with torch.random.fork_rng(devices=self._cuda_devices()):
            for out in self.net_.forward_iter(X, training=False, device="cpu"):
                outputs.append(out)
        if isinstance(outputs[0], tuple):
            return tuple(torch.cat(parts) for parts in zip(*outputs, strict=True))
        return torch.cat(outputs)


def _silent(*args, **kwargs):
    pass


def _check_finite_parameters(est, net):
    """Raise when training diverged to non-finite weights.

    A diverging loss (a large ``lr``, unscaled features) drives the weights
    to inf/NaN, after which every prediction is NaN: say so at ``fit``, as
    scikit-learn's ``MLPClassifier`` does, rather than return NaN
    probabilities later. The fitted attributes are kept (``history_``
    shows where the loss went).
    """
    import torch

    for name, param in net.module_.named_parameters():
        if bool(torch.isfinite(param).all()):
            continue
        losses = [row.get("train_loss", 0.0) for row in net.history]
        epoch = next((i for i, v in enumerate(losses, 1) if not np.isfinite(v)), None)
        where = "" if epoch is None else f" (train_loss non-finite from epoch {epoch})"
        raise ValueError(
            f"{type(est).__name__}: training diverged: the weights {name!r} are "
            f"not finite{where}, so every prediction would be NaN. Lower lr, "
            "or scale the features (e.g. with StandardScaler)."
        )


def _early_stopped(net):
    for _, callback in net.callbacks_:
        patience = getattr(callback, "patience", None)
        misses = getattr(callback, "misses_", None)
        if patience is not None and misses is not None and misses >= patience:
            return True
    return False


def get_rng_state(devices):
    """The torch RNG state (CPU and the given CUDA devices) as numpy arrays."""
    import torch

    state = {"cpu": torch.get_rng_state().numpy().copy(), "cuda": []}
    if devices:
        state["cuda"] = [s.numpy().copy() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state, devices):
    """Restore :func:`get_rng_state`'s state (CUDA only where available)."""
    import torch

    torch.set_rng_state(torch.as_tensor(np.asarray(state["cpu"], dtype=np.uint8)))
    cuda = state.get("cuda") or []
    if devices and len(cuda) == len(devices):
        torch.cuda.set_rng_state_all(
            [torch.as_tensor(np.asarray(s, dtype=np.uint8)) for s in cuda]
        )


def _make_epoch_state_class():
    from skorch.callbacks import Callback

    class _EpochStateCallback(Callback):
        """Record the torch RNG state at the end of every complete epoch."""

        def initialize(self):
            self.epoch_ = 0
            self.rng_ = None
            return self

        def on_epoch_end(self, net, **kwargs):
            devices = []
            if str(net.device).startswith("cuda"):
                import torch

                if torch.cuda.is_available():
                    devices = list(range(torch.cuda.device_count()))
            self.epoch_ = len(net.history)
            self.rng_ = get_rng_state(devices)

    _EpochStateCallback.__module__ = __name__
    _EpochStateCallback.__qualname__ = "_EpochStateCallback"
    return _EpochStateCallback


_EPOCH_STATE_CLASS = None


def _EpochState():
    global _EPOCH_STATE_CLASS
    if _EPOCH_STATE_CLASS is None:
        _EPOCH_STATE_CLASS = _make_epoch_state_class()
    return _EPOCH_STATE_CLASS()


class _ResumeSource:
    """The training state a resumed fit starts from."""

    def __init__(self, *, seed, epoch, rng, module_state, optimizer_state, history):
        self.seed = int(seed)
        self.epoch = int(epoch)
        self.rng = rng
        self.module_state = module_state
        self.optimizer_state = optimizer_state
        self.history = history

    @classmethod
    def from_estimator(cls, est):
        try:
            check_is_fitted(est, "net_")
        except Exception:
            raise ValueError(
                f"This {type(est).__name__} has no training to resume: fit it "
                "first, or pass checkpoint= (a TrainingCheckpoint directory)."
            ) from None
        state = getattr(est, "_train_state_", None)
        n_epochs = len(est.history_)
        if state is None or state["rng"] is None or state["epoch"] != n_epochs:
            raise ValueError(
                f"The training of this {type(est).__name__} was interrupted in the "
                f"middle of epoch {n_epochs}: the model in memory is not at an "
                "epoch boundary, so it cannot continue exactly. Resume from a "
                "TrainingCheckpoint (checkpoint=...) or fit again."
            )
        net = est.net_
        return cls(
            seed=state["seed"],
            epoch=n_epochs,
            rng=copy.deepcopy(state["rng"]),
            module_state={
                k: v.detach().clone() for k, v in net.module_.state_dict().items()
            },
            optimizer_state=copy.deepcopy(net.optimizer_.state_dict()),
            history=copy.deepcopy(list(net.history)),
        )

    def restore(self, net, devices):
        """Load the saved state into the freshly built ``net``; RNG last."""
        from skorch.history import History

        load_module_state(net.module_, self.module_state)
        net.optimizer_.load_state_dict(self.optimizer_state)
        net.history = History(copy.deepcopy(self.history))
        set_rng_state(self.rng, devices)


def load_module_state(module, state):
    """``module.load_state_dict(state)`` with a clear error on a mismatch."""
    own = module.state_dict()
    problems = []
    for key in sorted(set(own) | set(state)):
        if key not in state:
            problems.append(f"{key}: missing from the saved state")
        elif key not in own:
            problems.append(f"{key}: not in the network built for this data")
        elif tuple(own[key].shape) != tuple(state[key].shape):
            problems.append(
                f"{key}: saved shape {tuple(state[key].shape)}, the network "
                f"built for this data has {tuple(own[key].shape)}"
            )
    if problems:
        raise ValueError(
            "The saved training state does not fit the network built for this "
            "data (resume with the data and parameters of the interrupted fit): "
            + "; ".join(problems[:5])
        )
    module.load_state_dict(state)
