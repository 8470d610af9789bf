"""Torch building blocks: the default MLP backbone and the crowd network.

The crowd network is ``backbone -> linear head -> class logits``, plus a
crowd model (see :mod:`skcrowd.nn._crowd_models`) that maps the class
distribution (and, for some models, the representation) to each worker's
label distribution. Its ``loss`` is the crowd model's loss on the observed
(worker, label) pairs of the batch.
"""

from __future__ import annotations

import inspect
from numbers import Integral

import torch
from skorch.callbacks import Callback
from torch import nn

__all__ = [
    "MLP",
    "CrowdNetModule",
    "CrowdModelEpochEnd",
    "cat_crowd_targets",
    "crowd_target_index",
    "split_crowd_target",
    "resolve_backbone",
]


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

    Attributes
    ----------
    out_features : int
        Width of the output (the last hidden layer, or ``n_features``).

    Examples
    --------
    >>> import torch
    >>> from skcrowd.nn import MLP
    >>> mlp = MLP(n_features=4, hidden_units=(8, 3), dropout=0.1)
    >>> mlp.layers
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Dropout(p=0.1, inplace=False)
      (3): Linear(in_features=8, out_features=3, bias=True)
      (4): ReLU()
      (5): Dropout(p=0.1, inplace=False)
    )
    >>> mlp(torch.zeros(2, 4)).shape, mlp.out_features
    (torch.Size([2, 3]), 3)
    >>> MLP(4, hidden_units=())(torch.ones(1, 4))  # the identity
    tensor([[1., 1., 1., 1.]])
    """

    def __init__(self, n_features, hidden_units=(100,), dropout=0.0):
        super().__init__()
        hidden_units = check_layer_sizes(n_features, hidden_units)
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


def check_layer_sizes(n_features, hidden_units):
    """``hidden_units`` as a tuple, once both sizes are positive ints.

    The one check of the layer sizes of the MLP backbones (this module's
    :class:`MLP` and the multi-label nets' sparse one): 0 built an empty
    layer, -1 raised torch's RuntimeError and 2.5 a TypeError.
    """
    hidden_units = tuple(hidden_units)
    if not _positive_int(n_features):
        raise ValueError(f"n_features must be a positive int; got {n_features!r}.")
    if not all(_positive_int(units) for units in hidden_units):
        raise ValueError(f"hidden_units must be positive ints; got {hidden_units!r}.")
    return hidden_units


def _positive_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


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

        # never train the user's instance in place; the copy is built on the
        # CPU like every other part (skorch then moves the whole network to
        # ``device``): an instance already on CUDA met the CPU sample the
        # sizes are inferred from
        return copy.deepcopy(module).to("cpu")
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
    """``(workers, labels)`` of a crowd target ``[workers | labels (| index)]``.

    The training target carries a last column with each row's item index
    (an odd number of columns, see :func:`crowd_target_index`); it is
    dropped here.
    """
    n_pairs = target.shape[1] // 2
    return target[:, :n_pairs], target[:, n_pairs : 2 * n_pairs]


def crowd_target_index(target):
    """The item-index column of a crowd target, or None when it has none.

    ``CrowdClassifier`` trains on ``[workers | labels | index]``: the index
    of each row in the training data travels with the row through skorch's
    shuffled loader and validation split, so crowd models that keep
    per-item state (the EM model's posteriors) find their rows.
    """
    if target.shape[1] % 2 == 1:
        return target[:, -1]
    return None


def cat_crowd_targets(targets):
    """Concatenate crowd targets of possibly different widths by rows.

    Batches of a target padded per batch (:class:`skcrowd.nn._target.
    RaggedCrowdTarget`) are as wide as their own widest item: the narrower
    ones get ``-1`` columns at the end of the workers half and of the labels
    half, the index column (if any) stays last. Targets of one width are
    concatenated as they are.
    """
    widths = {t.shape[1] for t in targets}
    if len(widths) <= 1:
        return torch.cat(targets)
    n_pairs = max(t.shape[1] // 2 for t in targets)
    parts = []
    for t in targets:
        w = t.shape[1] // 2
        if w < n_pairs:
            pad = t.new_full((t.shape[0], n_pairs - w), -1)
            t = torch.cat([t[:, :w], pad, t[:, w : 2 * w], pad, t[:, 2 * w :]], dim=1)
        parts.append(t)
    return torch.cat(parts)


class CrowdNetModule(nn.Module):
    """Backbone, class head and crowd model, trained jointly.

    ``forward(X)`` returns ``(class_logits, representation)``; ``loss`` takes
    that output and the padded crowd target (``-1`` where padded) and
    returns the crowd model's loss on the observed (worker, label) pairs.
    ``CrowdClassifier`` builds it (with :meth:`build`) and trains it.

    Parameters
    ----------
    backbone : torch.nn.Module
        Maps a batch of ``X`` to representations of shape
        ``(batch, rep_size)``.
    rep_size : int
        Width of the backbone's representation.
    n_classes : int
        Number of classes: the class head is ``Linear(rep_size, n_classes)``.
    crowd_model : BaseCrowdModel
        The model of the workers, built for ``n_classes`` (see
        :data:`CROWD_MODELS`).
    log_prior : torch.Tensor of shape (n_classes,), default=None
        Log class prior added to the logits the crowd model is trained on
        (logit adjustment, ``CrowdClassifier(class_prior_correction=True)``);
        ``None``: no shift.
    mixup_alpha : float, default=0.0
        In training, mix each batch with a shuffled copy of itself by a
        weight drawn from ``Beta(mixup_alpha, mixup_alpha)``, and the crowd
        loss against both rows' labels alike
        (``CrowdClassifier(mixup_alpha=...)``); ``0``: no mixup. Crowd
        models with ``pair_mixup = True`` (Annot-Mix) mix instead each
        labelled (item, worker, label) triple with another, by a weight of
        its own, and train through their ``mixed_pair_loss``.

    Examples
    --------
    >>> import torch
    >>> from skcrowd.nn import CROWD_MODELS, MLP, CrowdNetModule
    >>> backbone = MLP(n_features=5, hidden_units=(16,))
    >>> crowd_model = CROWD_MODELS["crowdlayer-mw"](
    ...     n_classes=3, n_workers=4, rep_size=16)
    >>> net = CrowdNetModule(backbone, rep_size=16, n_classes=3,
    ...                      crowd_model=crowd_model)
    >>> logits, rep = net(torch.randn(2, 5))
    >>> logits.shape, rep.shape
    (torch.Size([2, 3]), torch.Size([2, 16]))

    The target is ``[workers | labels]`` per item (see
    :func:`padded_crowd_target`): item 0 was labelled 1 by worker 0 and 2
    by worker 3, item 1 only 0 by worker 1:

    >>> target = torch.tensor([[0, 3, 1, 2], [1, -1, 0, -1]])
    >>> loss = net.loss((logits, rep), target)
    >>> loss.shape, bool(loss > 0)
    (torch.Size([]), True)
    >>> loss.backward()  # gradients reach the backbone and the crowd model
    >>> backbone.layers[0].weight.grad is not None
    True
    """

    def __init__(
        self, backbone, rep_size, n_classes, crowd_model, log_prior=None,
        mixup_alpha=0.0,
    ):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(rep_size, n_classes)
        self.crowd_model = crowd_model
        self.register_buffer(
            "log_prior_shift",
            torch.zeros(n_classes) if log_prior is None else log_prior,
        )
        # without a prior the shift is zero: skip the addition per batch
        self.shift_logits = log_prior is not None
        self.mixup_alpha = float(mixup_alpha)

    @classmethod
    def build(
        cls, backbone, X_sample, n_classes, crowd_model_factory, log_prior=None,
        mixup_alpha=0.0,
    ):
        rep_size = _representation_size(backbone, X_sample)
        crowd_model = crowd_model_factory(rep_size)
        return cls(backbone, rep_size, n_classes, crowd_model, log_prior, mixup_alpha)

    def forward(self, X):
        mix = None
        if self.training and getattr(self, "mixup_alpha", 0.0) > 0 and len(X) > 1:
            if getattr(self.crowd_model, "pair_mixup", False):
                # mixed per labelled pair in the loss, which knows the pairs
                return X, None, PAIR_MIXUP
            X, mix = mixup_inputs(X, self.mixup_alpha)
        rep = self.backbone(X)
        if mix is None:
            return self.head(rep), rep
        return self.head(rep), rep, mix

    def training_logits(self, logits):
        """The logits the crowd model is trained on.

        Logit adjustment (Menon et al., ICLR 2021): train on logits shifted
        by the log class prior, predict with the plain logits.
        """
        if not getattr(self, "shift_logits", True):
            return logits
        return logits + self.log_prior_shift

    def loss(self, output, target):
        if len(output) > 2 and output[2] is PAIR_MIXUP:
            return self._pair_mixup_loss(output[0], target)
        if len(output) > 2:
            # mixup: the mixed items' loss against both rows' crowd labels
            # (the mixed one-hot targets of each worker), weighted by lambda
            logits, rep, (lam, perm) = output
            return lam * self._crowd_loss(logits, rep, target) + (
                1 - lam
            ) * self._crowd_loss(logits, rep, target[perm])
        logits, rep = output
        return self._crowd_loss(logits, rep, target)

    def _pair_mixup_loss(self, X, target):
        """Annot-Mix's mixup: each labelled (item, worker, label) triple is
        mixed with another of the batch, by its own ``lam ~ Beta(alpha,
        alpha)``; the network runs on the mixed items (one row per label)
        and the crowd model's ``mixed_pair_loss`` mixes workers and labels.
        """
        workers, labels = split_crowd_target(target)
        observed = labels >= 0
        rows = observed.nonzero(as_tuple=True)[0]
        workers, labels = workers[observed], labels[observed]
        n = len(rows)
        if n == 0:  # a batch of unlabelled items teaches nothing
            return self.head.bias.sum() * 0.0
        concentration = torch.full((n,), self.mixup_alpha)
        lam = torch.distributions.Beta(concentration, concentration).sample()
        perm = torch.randperm(n, device="cpu").to(X.device)
        lam = lam.to(device=X.device, dtype=X.dtype)
        X = X[rows]
        mixed = lam.view(-1, *[1] * (X.dim() - 1))
        rep = self.backbone(mixed * X + (1 - mixed) * X[perm])
        logits = self.training_logits(self.head(rep))
        return self.crowd_model.mixed_pair_loss(
            logits, rep, (workers, workers[perm]), (labels, labels[perm]), lam
        )

    def _crowd_loss(self, logits, rep, target):
        workers, labels = split_crowd_target(target)
        shifted = self.training_logits(logits)
        if getattr(self.crowd_model, "uses_item_index", False):
            index = crowd_target_index(target)
            return self.crowd_model.loss(shifted, rep, workers, labels, index=index)
        return self.crowd_model.loss(shifted, rep, workers, labels)


#: forward's third output in training when the crowd model mixes labelled
#: pairs (``pair_mixup``): the loss then runs the network itself
PAIR_MIXUP = "pair-mixup"


def mixup_inputs(X, alpha):
    """Mixup of a training batch: ``(lam * X + (1 - lam) * X[perm], (lam, perm))``.

    One ``lam ~ Beta(alpha, alpha)`` per batch and a random permutation of
    its rows (Zhang et al., "mixup: Beyond Empirical Risk Minimization",
    ICLR 2018), drawn from torch's RNG, so seeded fits repeat.
    """
    concentration = torch.tensor([float(alpha), float(alpha)])
    lam = torch.distributions.Dirichlet(concentration).sample()[0].to(X.device)
    perm = torch.randperm(X.shape[0], device="cpu").to(X.device)
    return lam * X + (1 - lam) * X[perm], (lam, perm)


class CrowdModelEpochEnd(Callback):
    """Skorch callback: hand the crowd model its end-of-epoch pass.

    For crowd models with ``epoch_hook = True`` (the EM model): after each
    epoch, the net is run in evaluation mode over the training (and
    validation) rows, and the crowd model's ``on_epoch_end(batches,
    n_train_batches)`` receives the ``(training logits, representation,
    target)`` of every batch, training rows first. It draws no random
    numbers, so seeded fits repeat.
    """

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        from skorch import NeuralNet

        module = net.module_
        batches, n_train = [], 0
        # skorch's evaluation_step checks the fit and sets every module's
        # mode again per batch (a recursive ``train(False)``: a fifth of the
        # hook's time with a small network); with the plain step, set the
        # mode once and infer. A net that changes the step (accelerate
        # gathers its outputs) keeps it, as does a skorch without the
        # (private) ``_set_training``.
        plain_step = type(net).evaluation_step is NeuralNet.evaluation_step and (
            hasattr(net, "_set_training")
        )
        if plain_step:
            net._set_training(False)
        with torch.no_grad():
            for dataset in (dataset_train, dataset_valid):
                if dataset is None:
                    continue
                for batch in net.get_iterator(dataset, training=False):
                    if plain_step:
                        logits, rep = net.infer(batch[0])
                    else:
                        logits, rep = net.evaluation_step(batch, training=False)
                    target = batch[1].to(logits.device)
                    batches.append((module.training_logits(logits), rep, target))
                if dataset is dataset_train:
                    n_train = len(batches)
        module.crowd_model.on_epoch_end(batches, n_train)
