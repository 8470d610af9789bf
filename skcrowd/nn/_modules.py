"""Torch building blocks: the default MLP backbone and the crowd network.

The crowd network is ``backbone -> linear head -> class logits``, plus a
crowd model (see :mod:`skcrowd.nn._crowd_models`) that maps the class
distribution (and, for some models, the representation) to each worker's
label distribution. Its ``loss`` is the crowd model's loss on the observed
(worker, label) pairs of the batch.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

__all__ = ["MLP", "CrowdNetModule", "split_crowd_target", "resolve_backbone"]


class MLP(nn.Module):
    """Fully connected backbone: ``Linear -> ReLU -> Dropout`` per hidden layer.

    Parameters
    ----------
    n_features : int
        Input dimension.
    hidden_units : tuple of int
        Width of each hidden layer; ``()`` gives the identity (a linear model
        once the head is added).
    dropout : float
        Dropout probability after each hidden layer.
    """

    def __init__(self, n_features, hidden_units=(100,), dropout=0.0):
        super().__init__()
        layers = []
        width = n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        self.layers = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, X):
        return self.layers(X)


def resolve_backbone(module, n_features, hidden_units, dropout, **module_params):
    """A backbone instance: the default MLP, a user class, or a user instance."""
    if module is None:
        return MLP(n_features, tuple(hidden_units), dropout)
    if inspect.isclass(module):
        if not issubclass(module, nn.Module):
            raise ValueError(f"module must be a torch.nn.Module class; got {module}.")
        return module(**module_params)
    if isinstance(module, nn.Module):
        import copy

        return copy.deepcopy(module)  # never train the user's instance in place
    raise ValueError(
        f"module must be None, a torch.nn.Module class or instance; got {module!r}."
    )


def _representation_size(backbone, X_sample):
    with torch.no_grad():
        was_training = backbone.training
        backbone.eval()
        out = backbone(X_sample)
        backbone.train(was_training)
    if out.ndim != 2:
        raise ValueError(
            "The backbone module must return a (batch, n_features) representation; "
            f"got shape {tuple(out.shape)}."
        )
    return out.shape[1]


def split_crowd_target(target):
    """Split the padded crowd target ``[workers | labels]`` into its halves."""
    n_pairs = target.shape[1] // 2
    return target[:, :n_pairs], target[:, n_pairs:]


class CrowdNetModule(nn.Module):
    """Backbone, class head and crowd model, trained jointly.

    ``forward(X)`` returns ``(class_logits, representation)``; ``loss`` takes
    that output and the padded crowd target (``-1`` where padded).
    """

    def __init__(self, backbone, rep_size, n_classes, crowd_model, log_prior=None):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(rep_size, n_classes)
        self.crowd_model = crowd_model
        self.register_buffer(
            "log_prior_shift",
            torch.zeros(n_classes) if log_prior is None else log_prior,
        )

    @classmethod
    def build(cls, backbone, X_sample, n_classes, crowd_model_factory, log_prior=None):
        rep_size = _representation_size(backbone, X_sample)
        crowd_model = crowd_model_factory(rep_size)
        return cls(backbone, rep_size, n_classes, crowd_model, log_prior)

    def forward(self, X):
        rep = self.backbone(X)
        return self.head(rep), rep

    def loss(self, output, target):
        logits, rep = output
        workers, labels = split_crowd_target(target)
        # logit adjustment (Menon et al., ICLR 2021): train on logits shifted
        # by the log class prior, predict with the plain logits
        shifted = logits + self.log_prior_shift
        return self.crowd_model.loss(shifted, rep, workers, labels)
