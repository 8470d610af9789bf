"""The torch side of RationaleCoLearner: shared/private network and its loss.

:class:`RationaleNetModule` wraps the crowd network that
:class:`~skcrowd.classification.CrowdClassifier` builds (``crowd_net``:
backbone, linear class head, crowd model, built by CrowdClassifier's own
code, so its initialisation and its crowd models are CrowdClassifier's,
never a copy) and adds optional branches:

- a private class encoder ``E_c``: the crowd network's backbone is then a
  :class:`SharedPrivateEncoder` returning ``[h_s; h_c]``, which the class
  head and the crowd model read;
- a private rationale encoder ``E_r`` and a rationale head
  ``G_r([h_s; h_r])`` giving one logit per rationale term;
- a reconstruction decoder ``D([h_s; h_c; h_r])`` of the input;
- an orthogonality (difference) penalty between the shared and private
  codes;
- a rationale gate (text): the class reads the input weighted by its
  predicted rationale.

In evaluation mode ``forward`` returns ``(class_logits, representation)``
as the crowd network does, so everything written for CrowdClassifier
(prediction, the crowd models' end-of-epoch hook, the validation loss) works
unchanged; with every branch off it *is* the crowd network's forward. In
training mode with a branch on it returns ``(class_logits, representation,
aux)``, ``aux`` a dict of the auxiliary outputs that ``loss`` adds to the
crowd loss.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
import torch
from skorch.dataset import Dataset
from torch import nn
from torch.nn import functional as F

from ..nn._crowd_models import masked_mean
from ..nn._modules import crowd_target_index, mixup_inputs

__all__ = [
    "RationaleNetModule",
    "SparseRowsDataset",
    "SharedPrivateEncoder",
    "cross_correlation_penalty",
    "reset_copy",
]


def cross_correlation_penalty(a, b):
    r"""Mean squared correlation between the units of two codes.

    The difference loss of domain separation networks (Bousmalis et al.,
    NeurIPS 2016), :math:`\lVert H_s^\top H_p \rVert_F^2`, computed on
    centred, unit-norm columns and averaged over the ``d_a x d_b`` pairs so
    that it lies in ``[0, 1]`` whatever the widths and the batch size.
    """
    if a.shape[0] < 2 or a.shape[1] == 0 or b.shape[1] == 0:
        return a.new_zeros(())
    a = F.normalize(a - a.mean(dim=0), dim=0)
    b = F.normalize(b - b.mean(dim=0), dim=0)
    return (a.T @ b).pow(2).mean()


def reset_copy(module):
    """A deep copy of ``module`` with freshly drawn parameters.

    A private encoder for a user backbone *instance*: the same architecture,
    but not the same starting point as the shared encoder.
    """
    module = copy.deepcopy(module).to("cpu")  # built on the CPU (resolve_backbone)
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    return module


class SharedPrivateEncoder(nn.Module):
    """``[E_s(x); E_c(x)]``: the shared and the private class code, side by side."""

    def __init__(self, shared, private):
        super().__init__()
        self.shared = shared
        self.private = private

    def codes(self, X):
        return self.shared(X), self.private(X)

    def forward(self, X):
        return torch.cat(self.codes(X), dim=1)


class RationaleNetModule(nn.Module):
    """CrowdClassifier's crowd network plus the rationale branches.

    Parameters
    ----------
    crowd_net : CrowdNetModule
        The crowd network, built by CrowdClassifier (its backbone a
        :class:`SharedPrivateEncoder` when there is a private class encoder).
    """

    def __init__(self, crowd_net):
        super().__init__()
        self.crowd_net = crowd_net
        self.rationale_encoder = None
        self.rationale_head = None
        self.decoder = None
        self.rationale_weight = 0.0
        self.reconstruction_weight = 0.0
        self.orthogonality_weight = 0.0
        self.gate_input = False
        #: learn the rationale only over the terms present in the input
        #: (features = terms, e.g. TF-IDF of the rationale vocabulary)
        self.candidates_from_input = False
        self.register_buffer("reconstruction_scale", torch.ones(()))
        # the training rationales, looked up per batch by item index (never
        # densified beyond a batch); dropped once the estimator is fitted
        self.rationale_rows = None
        self.rationale_items = None
        self.rationale_scale = 1.0

    # what CrowdClassifier and its callbacks read from the module
    @property
    def crowd_model(self):
        return self.crowd_net.crowd_model

    @property
    def class_encoder(self):
        backbone = self.crowd_net.backbone
        return backbone.private if isinstance(backbone, SharedPrivateEncoder) else None

    def training_logits(self, logits):
        return self.crowd_net.training_logits(logits)

    def add_branches(
        self,
        *,
        rationale_encoder=None,
        rationale_head=None,
        decoder=None,
        rationale_weight=0.0,
        reconstruction_weight=0.0,
        orthogonality_weight=0.0,
        reconstruction_scale=1.0,
        candidates_from_input=False,
        gate_input=False,
    ):
        """Attach the auxiliary branches (after the crowd network is built)."""
        self.rationale_encoder = rationale_encoder
        self.rationale_head = rationale_head
        self.decoder = decoder
        has_head = rationale_head is not None
        self.rationale_weight = float(rationale_weight) if has_head else 0.0
        self.reconstruction_weight = (
            float(reconstruction_weight) if decoder is not None else 0.0
        )
        has_private = self.class_encoder is not None or rationale_encoder is not None
        self.orthogonality_weight = float(orthogonality_weight) if has_private else 0.0
        self.reconstruction_scale.fill_(float(reconstruction_scale))
        self.candidates_from_input = bool(candidates_from_input)
        self.gate_input = bool(gate_input) and has_head
        return self

    def set_rationale_target(self, rows, items, scale):
        """The per-item rationale target (CSR), which items have one, its scale."""
        self.rationale_rows = rows
        self.rationale_items = items
        self.rationale_scale = float(scale)

    @property
    def auxiliary(self):
        """Whether any auxiliary loss is active."""
        return bool(
            self.rationale_weight
            or self.reconstruction_weight
            or self.orthogonality_weight
        )

    def codes(self, X):
        """``(h_s, h_c, h_r)``; an absent private code is ``(batch, 0)``."""
        backbone = self.crowd_net.backbone
        if isinstance(backbone, SharedPrivateEncoder):
            h_s, h_c = backbone.codes(X)
        else:
            h_s = backbone(X)
            h_c = h_s.new_zeros((h_s.shape[0], 0))
        if self.rationale_encoder is None:
            h_r = h_s.new_zeros((h_s.shape[0], 0))
        else:
            h_r = self.rationale_encoder(X)
        return h_s, h_c, h_r

    def forward(self, X):
        if not self.gate_input and not (self.training and self.auxiliary):
            return self.crowd_net(X)  # exactly CrowdClassifier's network
        mix = None
        alpha = getattr(self.crowd_net, "mixup_alpha", 0.0)
        if self.training and alpha > 0 and len(X) > 1:
            X, mix = mixup_inputs(X, alpha)
        h_s, h_c, h_r = self.codes(X)
        rationale = None
        if self.gate_input:
            # the class reads the input weighted by its predicted rationale
            rationale = self.rationale_head(torch.cat([h_s, h_r], dim=1))
            rep = self.crowd_net.backbone(X * torch.sigmoid(rationale))
        else:
            rep = torch.cat([h_s, h_c], dim=1) if h_c.shape[1] else h_s
        logits = self.crowd_net.head(rep)
        if not (self.training and self.auxiliary):
            return (logits, rep) if mix is None else (logits, rep, mix)
        aux = {} if mix is None else {"mix": mix}
        if self.rationale_weight:
            if rationale is None:
                rationale = self.rationale_head(torch.cat([h_s, h_r], dim=1))
            aux["rationale"] = rationale
            if self.candidates_from_input:
                aux["candidates"] = X != 0
        if self.reconstruction_weight:
            x_hat = self.decoder(torch.cat([h_s, h_c, h_r], dim=1))
            aux["reconstruction"] = (x_hat - X).pow(
                2
            ).mean() / self.reconstruction_scale
        if self.orthogonality_weight:
            aux["orthogonality"] = cross_correlation_penalty(
                h_s, h_c
            ) + cross_correlation_penalty(h_s, h_r)
        return logits, rep, aux

    def rationale_logits(self, X):
        """The rationale head's logits, one per term: ``(batch, n_terms)``."""
        h_s, _, h_r = self.codes(X)
        return self.rationale_head(torch.cat([h_s, h_r], dim=1))

    def rationale_loss(self, logits, target, candidates=None):
        """Rationale BCE of the batch, per marked term, over items with one.

        Summed over the terms (the ``candidates`` only, when given) and
        divided by the mean rationale length, then averaged over the items
        that have a rationale.
        """
        if self.rationale_rows is None:
            return logits.new_zeros(())
        index = crowd_target_index(target).cpu().numpy()
        q = torch.as_tensor(self.rationale_rows[index].toarray(), dtype=logits.dtype)
        q = q.to(logits.device)
        has = torch.as_tensor(self.rationale_items[index]).to(logits.device)
        bce = F.binary_cross_entropy_with_logits(logits, q, reduction="none")
        if candidates is not None:
            bce = bce * (candidates | (q > 0))
        return masked_mean(bce.sum(dim=1) / self.rationale_scale, has)

    def loss(self, output, target):
        if len(output) == 2 or not isinstance(output[2], dict):
            return self.crowd_net.loss(output, target)  # mixup's (lam, perm) too
        aux = output[2]
        mix = aux.get("mix")
        total = self.crowd_net.loss(
            output[:2] if mix is None else (*output[:2], mix), target
        )
        if "rationale" in aux:
            rationale = self.rationale_loss(
                aux["rationale"], target, aux.get("candidates")
            )
            if mix is not None:  # the mixed items' rationales, as their labels
                lam, perm = mix
                rationale = lam * rationale + (1 - lam) * self.rationale_loss(
                    aux["rationale"], target[perm], aux.get("candidates")
                )
            total = total + self.rationale_weight * rationale
        if "reconstruction" in aux:
            total = total + self.reconstruction_weight * aux["reconstruction"]
        if "orthogonality" in aux:
            total = total + self.orthogonality_weight * aux["orthogonality"]
        return total


def decoder(in_features, n_features):
    """The reconstruction decoder: one hidden ReLU layer."""
    return nn.Sequential(
        nn.Linear(in_features, in_features),
        nn.ReLU(),
        nn.Linear(in_features, n_features),
    )


def as_dense_sample(X, n=8):
    """The first rows of ``X`` (dense or sparse) as a float32 array."""
    sample = X[: min(X.shape[0], n)]
    if hasattr(sample, "toarray"):
        sample = sample.toarray()
    return np.asarray(sample, dtype=np.float32)


def representation_size(encoder, X_sample):
    """Width of ``encoder``'s output on a sample (evaluation mode, no RNG)."""
    with torch.no_grad():
        was_training = encoder.training
        encoder.eval()
        out = encoder(torch.as_tensor(X_sample))
        encoder.train(was_training)
    return out.shape[1]


class SparseRowsDataset(Dataset):
    """skorch's ``Dataset``, densifying a sparse ``X`` one batch at a time.

    skorch densifies a sparse row by ``X[i].toarray().squeeze(0)``, which
    fails when the loader indexes a whole batch at once; here a batch keeps
    its rows and a single row is squeezed.
    """

    def __getitem__(self, i):
        self._one_row = np.ndim(i) == 0 and not isinstance(i, slice)
        return super().__getitem__(i)

    def transform(self, X, y):
        y = torch.Tensor([0]) if y is None else y
        if sp.issparse(X):
            X = X.toarray()
            if getattr(self, "_one_row", True):
                X = X.squeeze(0)
        return X, y
