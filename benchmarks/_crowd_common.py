"""Shared pieces of the CrowdClassifier benchmarks (bench_music,
bench_crowd_simulations, bench_crowd_overhead).

- :func:`crowd_models`: the crowd models to run, every name of
  ``CROWD_MODEL_NAMES`` registered in ``CROWD_MODELS`` at run time;
- :func:`crowd_kwargs` / :func:`fit_plain_mlp`: one training protocol for
  the crowd models and for the networks trained on aggregated or gold
  labels (same backbone, optimiser, schedule and seed handling);
- :class:`Report`: prints lines and writes them to a results file.
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import numpy as np

#: the date stamped on the results files: the day of the run
RESULTS_DATE = datetime.date.today()


def crowd_models():
    """Every crowd model name accepted by CrowdClassifier and registered now."""
    from skcrowd.classification import CROWD_MODEL_NAMES
    from skcrowd.nn._crowd_models import CROWD_MODELS

    return [name for name in CROWD_MODEL_NAMES if name in CROWD_MODELS]


def cosine_callbacks(max_epochs):
    """The learning-rate schedule: cosine annealing to 0 over the epochs."""
    import torch
    from skorch.callbacks import LRScheduler

    return [
        (
            "lr_schedule",
            LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=max_epochs),
        )
    ]


def optimizer_kwargs(lr, max_epochs):
    """RAdam at ``lr`` with cosine annealing (the Annot-Mix protocol)."""
    import torch

    return dict(
        optimizer=torch.optim.RAdam,
        lr=lr,
        callbacks=cosine_callbacks(max_epochs),
    )


_BN_MLP = None


def batch_norm_mlp():
    """The MLP of the Annot-Mix code: ``Linear -> BatchNorm1d -> ReLU ->
    Dropout`` per hidden layer (``maml/architectures/_tabnet.py``), a
    torch module class taking ``n_inputs, units, dropout_rate``."""
    global _BN_MLP
    if _BN_MLP is None:
        from torch import nn

        class BatchNormMLP(nn.Module):
            def __init__(self, n_inputs, units, dropout_rate):
                super().__init__()
                layers, width = [], n_inputs
                for n in units:
                    layers += [nn.Linear(width, n), nn.BatchNorm1d(n),
                               nn.ReLU(), nn.Dropout(dropout_rate)]
                    width = n
                self.layers = nn.Sequential(*layers)
                self.out_features = width

            def forward(self, X):
                return self.layers(X)

        _BN_MLP = BatchNormMLP
    return _BN_MLP


def crowd_kwargs(seed, *, hidden_units, dropout, max_epochs, batch_size, lr,
                 batch_norm=False, n_features=None):
    """CrowdClassifier parameters of the protocol (crowd model excluded).

    ``batch_norm=True`` (needs ``n_features``): the backbone is
    :func:`batch_norm_mlp`'s instead of skcrowd's default MLP.
    """
    backbone = {}
    if batch_norm:
        backbone = dict(module=batch_norm_mlp(), module_params=dict(
            n_inputs=n_features, units=tuple(hidden_units), dropout_rate=dropout))
    return dict(
        **backbone,
        hidden_units=hidden_units,
        dropout=dropout,
        max_epochs=max_epochs,
        batch_size=batch_size,
        random_state=seed,
        weight_decay=0.0,
        **optimizer_kwargs(lr, max_epochs),
    )


def fit_plain_mlp(X, y, seed, *, hidden_units, dropout, max_epochs, batch_size, lr,
                  batch_norm=False):
    """A plain skorch ``NeuralNetClassifier`` on 1-D labels, same protocol.

    The backbone is skcrowd's default MLP (``Linear -> ReLU -> Dropout`` per
    hidden layer) plus a linear class head, trained with cross-entropy by
    the same optimiser, schedule, batch size and number of epochs as the
    crowd models. Seeded like ``CrowdClassifier`` (inside ``fork_rng``).
    Returns a ``predict(X)`` function giving labels of ``y``'s type.
    """
    import torch
    from skorch import NeuralNetClassifier
    from torch import nn

    from skcrowd.nn import MLP

    classes, codes = np.unique(y, return_inverse=True)
    X = np.asarray(X, dtype=np.float32)
    rng = np.random.RandomState(seed)
    torch_seed = int(rng.randint(np.iinfo(np.int32).max))
    with torch.random.fork_rng():
        torch.manual_seed(torch_seed)
        mlp = batch_norm_mlp() if batch_norm else MLP
        backbone = mlp(X.shape[1], tuple(hidden_units), dropout)
        module = nn.Sequential(backbone, nn.Linear(backbone.out_features, len(classes)))
        net = NeuralNetClassifier(
            module,
            criterion=nn.CrossEntropyLoss,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            verbose=0,
            optimizer__weight_decay=0.0,
            **optimizer_kwargs(lr, max_epochs),
        )
        net.fit(X, codes.astype(np.int64))

    def predict(X_new):
        proba = net.predict_proba(np.asarray(X_new, dtype=np.float32))
        return classes[np.argmax(proba, axis=1)]

    return predict


def machine_line(n_threads):
    """Python/torch versions, threads and the load of the shared machine."""
    import torch

    try:
        load = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load = "?"
    return (
        f"machine: 2 cores (shared), {os.cpu_count()} visible, python "
        f"{platform.python_version()}, torch {torch.__version__}, "
        f"{n_threads} torch thread(s), load average {load}"
    )


def mean_std(values, scale=100.0):
    values = np.asarray(values, dtype=float) * scale
    return f"{values.mean():5.1f} ± {values.std():3.1f}"


class Report:
    """Collects printed lines; ``save(path)`` writes them."""

    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n")
        print(f"(written to {path})", flush=True)
