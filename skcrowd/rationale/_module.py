"""The torch side of RationaleCoLearner: shared/private network and its loss.

:class:`RationaleNetModule` *is* a :class:`~skcrowd.nn.CrowdNetModule`
(backbone = shared encoder, linear class head, crowd model), with optional
branches added after it is built:

- a private class encoder ``E_c`` (built before the crowd model, whose
  representation is then ``[h_s; h_c]``);
- a private rationale encoder ``E_r`` and a rationale head
  ``G_r([h_s; h_r])`` giving one logit per rationale term;
- a reconstruction decoder ``D([h_s; h_c; h_r])`` of the input;
- an orthogonality (difference) penalty between the shared and private
  codes.

In evaluation mode, and in training mode when no branch is active,
``forward`` returns ``(class_logits, representation)`` exactly as the crowd
network does, so everything written for CrowdClassifier (prediction, the
crowd models' end-of-epoch hook, the validation loss) works unchanged, and
with every branch off the module *is* CrowdClassifier's. In training mode
with a branch on it returns ``(class_logits, representation, aux)``,
``aux`` a dict of the auxiliary outputs that ``loss`` adds to the crowd
loss.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn._crowd_models import masked_mean
from ..nn._modules import CrowdNetModule, crowd_target_index

__all__ = ["RationaleNetModule", "cross_correlation_penalty", "reset_copy"]


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
    module = copy.deepcopy(module)
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    return module


class RationaleNetModule(CrowdNetModule):
    """Crowd network with private encoders, a rationale head and a decoder.

    Parameters
    ----------
    backbone : torch.nn.Module
        The shared encoder ``E_s``.
    rep_size : int
        Width of the class representation ``[h_s; h_c]``.
    n_classes : int
    crowd_model : BaseCrowdModel
    log_prior : tensor or None
        Logit adjustment of the crowd network.
    class_encoder : torch.nn.Module or None
        The private class encoder ``E_c``.
    """

    def __init__(
        self,
        backbone,
        rep_size,
        n_classes,
        crowd_model,
        log_prior=None,
        class_encoder=None,
    ):
        super().__init__(backbone, rep_size, n_classes, crowd_model, log_prior)
        self.class_encoder = class_encoder
        self.rationale_encoder = None
        self.rationale_head = None
        self.decoder = None
        self.rationale_weight = 0.0
        self.reconstruction_weight = 0.0
        self.orthogonality_weight = 0.0
        self.register_buffer("reconstruction_scale", torch.ones(()))
        # the training rationales, looked up per batch by item index (never
        # densified beyond a batch); dropped once the estimator is fitted
        self.rationale_rows = None
        self.rationale_items = None
        self.rationale_scale = 1.0
        #: learn the rationale only over the terms present in the input
        #: (features = terms, e.g. TF-IDF of the rationale vocabulary)
        self.candidates_from_input = False

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
    ):
        """Attach the auxiliary branches (after the crowd network is built)."""
        self.rationale_encoder = rationale_encoder
        self.rationale_head = rationale_head
        self.decoder = decoder
        self.rationale_weight = float(rationale_weight) if rationale_head else 0.0
        self.reconstruction_weight = float(reconstruction_weight) if decoder else 0.0
        has_private = self.class_encoder is not None or rationale_encoder is not None
        self.orthogonality_weight = float(orthogonality_weight) if has_private else 0.0
        self.reconstruction_scale.fill_(float(reconstruction_scale))
        self.candidates_from_input = bool(candidates_from_input)
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
        h_s = self.backbone(X)
        empty = h_s.new_zeros((h_s.shape[0], 0))
        h_c = empty if self.class_encoder is None else self.class_encoder(X)
        h_r = empty if self.rationale_encoder is None else self.rationale_encoder(X)
        return h_s, h_c, h_r

    def forward(self, X):
        if self.class_encoder is None and not (self.training and self.auxiliary):
            rep = self.backbone(X)  # exactly CrowdNetModule.forward
            return self.head(rep), rep
        h_s, h_c, h_r = self.codes(X)
        rep = torch.cat([h_s, h_c], dim=1) if h_c.shape[1] else h_s
        logits = self.head(rep)
        if not (self.training and self.auxiliary):
            return logits, rep
        aux = {}
        if self.rationale_weight:
            aux["rationale"] = self.rationale_head(torch.cat([h_s, h_r], dim=1))
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
        q = torch.as_tensor(
            self.rationale_rows[index].toarray(), dtype=logits.dtype
        ).to(logits.device)
        has = torch.as_tensor(self.rationale_items[index]).to(logits.device)
        bce = F.binary_cross_entropy_with_logits(logits, q, reduction="none")
        if candidates is not None:
            bce = bce * (candidates | (q > 0))
        return masked_mean(bce.sum(dim=1) / self.rationale_scale, has)

    def loss(self, output, target):
        crowd = super().loss(output[:2], target)
        if len(output) == 2:
            return crowd
        aux = output[2]
        total = crowd
        if "rationale" in aux:
            total = total + self.rationale_weight * self.rationale_loss(
                aux["rationale"], target, aux.get("candidates")
            )
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
    """The first rows of ``X`` (dense or sparse) as a float32 tensor."""
    sample = X[: min(X.shape[0], n)]
    if hasattr(sample, "toarray"):
        sample = sample.toarray()
    return torch.as_tensor(np.asarray(sample, dtype=np.float32))
