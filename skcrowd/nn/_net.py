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
- training on ``device`` and exposing ``history_``.

The torch module computes its own loss: ``module.loss(output, target)``.
The net's ``get_loss`` calls it, so skorch's criterion stays a standard one
and nothing in prediction depends on it.

Torch is imported lazily: importing this module does not import torch.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["BaseNeuralEstimator", "make_skorch_net_class"]

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
_NET_CLASS = None
_ACCELERATED_NET_CLASS = None


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

        class ModuleLossNet(NeuralNet):
            """A skorch net whose loss is ``module_.loss(y_pred, y_true)``."""

            def get_loss(self, y_pred, y_true, X=None, training=False):
                return self.module_.loss(y_pred, y_true)

        ModuleLossNet.__module__ = __name__
        ModuleLossNet.__qualname__ = "ModuleLossNet"
        _NET_CLASS = ModuleLossNet
    return _NET_CLASS


def __getattr__(name):  # pickles refer to skcrowd.nn._net.ModuleLossNet
    if name == "ModuleLossNet":
        return make_skorch_net_class()
    if name == "AcceleratedModuleLossNet":
        return make_skorch_net_class(accelerated=True)
    raise AttributeError(name)


def identity(x):
    """Prediction nonlinearity of the nets: the estimator post-processes."""
    return x


class BaseNeuralEstimator(BaseEstimator):
    """Base of the neural estimators (composition over a skorch net).

    Subclasses implement ``_build_module(self, X, target, **info)`` returning
    a ``torch.nn.Module`` instance with a ``loss(output, target)`` method.
    ``_fit_net(X, target, **info)`` trains it and sets ``net_`` and
    ``history_``; ``_forward(X)`` returns the module's outputs in
    evaluation mode, as tensors on the CPU.
    """

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

    def _fit_net(self, X, target, **info):
        """Seed, build and train the skorch net; set ``net_`` and ``history_``."""
        import torch

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        devices = []
        if str(self.device).startswith("cuda") and torch.cuda.is_available():
            devices = list(range(torch.cuda.device_count()))
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            module = self._build_module(X, target, **info)
            # an accelerate.Accelerator (multi-GPU/multi-process, mixed
            # precision) places the model: skorch's AccelerateMixin wants
            # device=None
            accelerator = getattr(self, "accelerator", None)
            net_class = make_skorch_net_class(accelerated=accelerator is not None)
            extra = {}
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
                callbacks=self._skorch_callbacks(),
                predict_nonlinearity=identity,
                device=self.device if accelerator is None else None,
                verbose=int(bool(self.verbose)),
                **extra,
            )
            with warnings.catch_warnings():
                # skorch warns when a module instance is given (it is re-used)
                warnings.filterwarnings("ignore", message=".*module.*initialized.*")
                net.fit(X, target)
        self.net_ = net
        self.history_ = net.history
        return net

    def _forward(self, X):
        """The module's outputs on ``X`` in evaluation mode (CPU tensors)."""
        import torch

        outputs = []
        for out in self.net_.forward_iter(X, training=False, device="cpu"):
            outputs.append(out)
        if isinstance(outputs[0], tuple):
            return tuple(torch.cat(parts) for parts in zip(*outputs, strict=True))
        return torch.cat(outputs)


def _silent(*args, **kwargs):
    pass
