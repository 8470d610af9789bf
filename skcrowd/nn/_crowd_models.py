"""Crowd models: how each worker's labels depend on the true class.

A crowd model is a ``torch.nn.Module`` sitting on top of a classifier. For
an item with class logits ``z`` (``p = softmax(z)``) and representation
``h``, it gives ``log p(label | x, worker)`` for the (worker, label) pairs
of the batch, padded with ``-1``. The default loss is the negative
log-likelihood of the observed labels plus the model's regulariser; models
with another objective (SpeeLFC's marginal likelihood) override ``loss``.

Every model sums only over the observed pairs: padding is masked out.
Registry: :data:`CROWD_MODELS` maps the names accepted by
``CrowdClassifier(crowd_model=...)`` to the classes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CROWD_MODELS", "BaseCrowdModel", "register_crowd_model"]

CROWD_MODELS: dict = {}


def register_crowd_model(name):
    """Class decorator adding a crowd model to :data:`CROWD_MODELS`."""

    def decorate(cls):
        CROWD_MODELS[name] = cls
        cls.name = name
        return cls

    return decorate


def masked_mean(values, mask):
    """Mean of ``values`` over the ``mask``; 0 when the mask is empty."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


class BaseCrowdModel(nn.Module):
    """Base class of the crowd models.

    Subclasses implement ``log_conditional(rep, workers)``, the log
    probability ``log p(label | true class, x, worker)`` of shape
    ``(batch, n_pairs, K_true, K_label)`` (``rep`` may be None for models
    whose confusion does not depend on the item). The label distribution of
    a worker is then the mixture over the classifier's class distribution;
    models that are not mixtures (CrowdLayer) override
    ``log_annotation_proba``.

    Parameters
    ----------
    n_classes, n_workers, rep_size : int
        Sizes inferred from the data.
    reg : float
        Strength of the model's regulariser (0 where it has none).
    rank : int or None
        Rank of the confusion parameterisation, for the models that have
        one (None: full ``K x K``).
    """

    #: whether the confusion depends on the item (not only on the worker)
    instance_dependent = False
    #: regularisation strength used when ``reg=None``
    default_reg = 0.0

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__()
        self.n_classes = n_classes
        self.n_workers = n_workers
        self.rep_size = rep_size
        self.reg = reg
        self.rank = rank

    def log_conditional(self, rep, workers):
        """``log p(label | k, x, worker)``: ``(batch, n_pairs, K, K)``."""
        raise NotImplementedError

    def log_annotation_proba(self, logits, rep, workers):
        """``log p(label | x, worker)``, shape ``(batch, n_pairs, K)``."""
        log_p = F.log_softmax(logits, dim=1)
        log_cond = self.log_conditional(rep, workers)
        return torch.logsumexp(log_p[:, None, :, None] + log_cond, dim=2)

    def regularization(self, logits, rep):
        """The model's penalty, added to the loss (0 by default)."""
        return logits.new_zeros(())

    def loss(self, logits, rep, workers, labels):
        mask = labels >= 0
        log_p = self.log_annotation_proba(logits, rep, workers.clamp_min(0))
        nll = -log_p.gather(2, labels.clamp_min(0).unsqueeze(2)).squeeze(2)
        return masked_mean(nll, mask) + self.regularization(logits, rep)

    def log_joint(self, logits, rep, workers, labels):
        """``log p(k, observed labels | x)``, shape ``(batch, K)``."""
        mask = (labels >= 0).unsqueeze(-1)
        log_cond = self.log_conditional(rep, workers.clamp_min(0))  # (B, L, K, K)
        idx = labels.clamp_min(0)[:, :, None, None].expand(-1, -1, self.n_classes, 1)
        per_label = log_cond.gather(3, idx).squeeze(3) * mask  # (B, L, K)
        return F.log_softmax(logits, dim=1) + per_label.sum(dim=1)

    def log_posterior(self, logits, rep, workers, labels):
        """``log p(k | x, observed labels)``, shape ``(batch, K)``."""
        return F.log_softmax(self.log_joint(logits, rep, workers, labels), dim=1)

    def _all_workers(self, batch=1):
        device = next(self.parameters()).device
        return torch.arange(self.n_workers, device=device).expand(batch, -1)

    def confusion(self):
        """Worker confusion ``(n_workers, K, K)``, rows the true class."""
        return self.log_conditional(None, self._all_workers())[0].exp()

    def mean_confusion(self, rep, batch_size=256):
        """Confusion averaged over the items of ``rep`` (instance models)."""
        if not self.instance_dependent:
            return self.confusion()
        total = 0.0
        for start in range(0, rep.shape[0], batch_size):
            chunk = rep[start : start + batch_size]
            cond = self.log_conditional(chunk, self._all_workers(len(chunk))).exp()
            total = total + cond.sum(dim=0)
        return total / rep.shape[0]


class _ConfusionMatrixModel(BaseCrowdModel):
    """``p(label | x, r) = sum_k p(k | x) C_r[k, label]`` with softmax rows."""

    init_diagonal = 4.0

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        k = n_classes
        if rank is None:
            self.conf_logits = nn.Parameter(
                (self.init_diagonal * torch.eye(k)).repeat(n_workers, 1, 1)
            )
        else:
            # shared K x K plus a per-worker diagonal and low-rank part:
            # O(K^2 + n_workers * K * rank) parameters instead of n_workers * K^2
            self.shared = nn.Parameter(torch.zeros(k, k))
            self.diag = nn.Parameter(torch.full((n_workers, k), self.init_diagonal))
            self.u = nn.Parameter(0.01 * torch.randn(n_workers, k, rank))
            self.v = nn.Parameter(0.01 * torch.randn(n_workers, k, rank))

    def _worker_conf_logits(self, workers):
        if self.rank is None:
            return self.conf_logits[workers]
        diag, u, v = self.diag[workers], self.u[workers], self.v[workers]
        return self.shared + torch.diag_embed(diag) + u @ v.transpose(-1, -2)

    def log_conditional(self, rep, workers):
        return F.log_softmax(self._worker_conf_logits(workers), dim=-1)


# -- CrowdLayer (Rodrigues & Pereira, AAAI 2018) -----------------------------
class _CrowdLayer(BaseCrowdModel):
    """Worker scores ``a_r(sigma)`` computed from the class probabilities,
    read as logits of the worker's label (as in the original Keras layer)."""

    def scores(self, probs, workers):
        raise NotImplementedError

    def log_annotation_proba(self, logits, rep, workers):
        probs = F.softmax(logits, dim=1).unsqueeze(1)  # (B, 1, K)
        return F.log_softmax(self.scores(probs, workers), dim=-1)

    def log_conditional(self, rep, workers):
        # the label distribution of each worker when the class is certain
        eye = torch.eye(self.n_classes, device=workers.device)
        probs = eye.expand(*workers.shape, -1, -1)  # (B, L, K_true, K)
        scores = self.scores(probs, workers.unsqueeze(-1))
        return F.log_softmax(scores, dim=-1)


@register_crowd_model("crowdlayer-mw")
class CrowdLayerMW(_CrowdLayer):
    r"""CrowdLayer, matrix weights: :math:`a_r = W_r \sigma(x)`, ``W_r = I`` at start.

    Rodrigues & Pereira, "Deep Learning from Crowds", AAAI 2018.
    """

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.weight = nn.Parameter(torch.eye(n_classes).repeat(n_workers, 1, 1))

    def scores(self, probs, workers):
        # W_r sigma: (.., K_label, K_true) @ (.., K_true)
        return (self.weight[workers] @ probs.unsqueeze(-1)).squeeze(-1)


@register_crowd_model("crowdlayer-vw")
class CrowdLayerVW(_CrowdLayer):
    r"""CrowdLayer, vector weights: :math:`a_r = w_r \odot \sigma(x)`, ``w_r = 1``."""

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.weight = nn.Parameter(torch.ones(n_workers, n_classes))

    def scores(self, probs, workers):
        return self.weight[workers] * probs


@register_crowd_model("crowdlayer-vb")
class CrowdLayerVB(_CrowdLayer):
    r"""CrowdLayer, vector bias: :math:`a_r = \sigma(x) + b_r`, ``b_r = 0``."""

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.bias = nn.Parameter(torch.zeros(n_workers, n_classes))

    def scores(self, probs, workers):
        return probs + self.bias[workers]


@register_crowd_model("crowdlayer-vw+b")
class CrowdLayerVWB(_CrowdLayer):
    r"""CrowdLayer, vector weights and bias: :math:`a_r = w_r \odot \sigma + b_r`."""

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.weight = nn.Parameter(torch.ones(n_workers, n_classes))
        self.bias = nn.Parameter(torch.zeros(n_workers, n_classes))

    def scores(self, probs, workers):
        return self.weight[workers] * probs + self.bias[workers]


# -- SpeeLFC (Chen et al., IJCAI 2020) ---------------------------------------
@register_crowd_model("speelfc")
class SpeeLFC(_ConfusionMatrixModel):
    r"""Structured probabilistic model trained by marginal likelihood.

    :math:`\log p(y_i^{R_i} | x_i) = \log \sum_k p_\theta(k | x_i)
    \prod_{r \in R_i} \pi_r[k, y_i^r]`, with softmax-parameterised confusion
    rows. Unlike CrowdLayer's sum of per-worker cross-entropies, the labels
    of one item are explained by one shared true class, which also yields
    the posterior of the true label given ``x`` and the crowd
    (:meth:`BaseCrowdModel.log_posterior`). Chen et al., "Structured Probabilistic
    End-to-End Learning from Crowds", IJCAI 2020.
    """

    def loss(self, logits, rep, workers, labels):
        n_labels = (labels >= 0).sum().clamp_min(1)
        joint = self.log_joint(logits, rep, workers, labels)
        log_marginal = torch.logsumexp(joint, dim=1)
        return -log_marginal.sum() / n_labels + self.regularization(logits, rep)


# -- TraceReg (Tanno et al., CVPR 2019) --------------------------------------
@register_crowd_model("tracereg")
class TraceReg(_ConfusionMatrixModel):
    r"""Per-worker confusion with a trace penalty.

    :math:`\hat p(\tilde y^r | x) = A_r p_\theta(x)` with stochastic
    :math:`A_r`; the loss adds :math:`\lambda \sum_r \mathrm{tr}(A_r) / R`,
    which identifies the confusions when workers are right on average
    (``reg`` is λ, default 0.01). Tanno et al., "Learning From Noisy Labels
    by Regularized Estimation of Annotator Confusion", CVPR 2019.
    """

    default_reg = 0.01

    def regularization(self, logits, rep):
        trace = torch.diagonal(self.confusion(), dim1=-2, dim2=-1).sum(-1)
        return self.reg * trace.mean()


# -- GeoCrowdNet (Ibrahim, Nguyen & Fu, ICLR 2023) ----------------------------
@register_crowd_model("geocrowdnet-f")
class GeoCrowdNetF(_ConfusionMatrixModel):
    r"""Coupled cross-entropy with the (F) regulariser
    :math:`-\lambda \log\det(F^\top F)`, ``F`` the batch of class
    probabilities (``reg`` is λ). Ibrahim, Nguyen & Fu, "Deep Learning From
    Crowdsourced Labels: Coupled Cross-Entropy Minimization,
    Identifiability, and Regularization", ICLR 2023.
    """

    default_reg = 0.01

    def regularization(self, logits, rep):
        if not self.reg:
            return logits.new_zeros(())
        probs = F.softmax(logits, dim=1)
        gram = probs.T @ probs / probs.shape[0]
        eye = torch.eye(self.n_classes, device=gram.device, dtype=gram.dtype)
        return -self.reg * torch.logdet(gram + 1e-6 * eye)


@register_crowd_model("geocrowdnet-w")
class GeoCrowdNetW(_ConfusionMatrixModel):
    r"""Coupled cross-entropy with the (W) regulariser
    :math:`-\lambda \log\det(W^\top W)`, ``W`` the stack of the workers'
    confusions (``reg`` is λ). Ibrahim, Nguyen & Fu, ICLR 2023.
    """

    default_reg = 0.01

    def regularization(self, logits, rep):
        if not self.reg:
            return logits.new_zeros(())
        stack = self.confusion().reshape(-1, self.n_classes)  # (W*K, K)
        gram = stack.T @ stack / self.n_workers
        eye = torch.eye(self.n_classes, device=gram.device, dtype=gram.dtype)
        return -self.reg * torch.logdet(gram + 1e-6 * eye)
