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

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CROWD_MODELS", "BaseCrowdModel", "register_crowd_model"]

CROWD_MODELS: dict = {}


def register_crowd_model(name):
    """Class decorator adding a crowd model to :data:`CROWD_MODELS`.

    The registered name is then accepted by
    ``CrowdClassifier(crowd_model=name)`` (and by ``RationaleCoLearner``),
    which builds the model as ``cls(n_classes, n_workers, rep_size,
    reg=..., rank=...)`` once the data are known. The class also gets the
    name as its ``name`` attribute.

    Parameters
    ----------
    name : str
        The name of the model in :data:`CROWD_MODELS`. An existing name is
        replaced.

    Returns
    -------
    decorate : callable
        The class decorator: it registers the class and returns it
        unchanged.

    See Also
    --------
    BaseCrowdModel : The base class of crowd models, with the hooks.

    Examples
    --------
    A one-coin worker model (worker ``r`` is right with probability
    ``sigmoid(s_r)``, otherwise uniformly wrong), trained end to end:

    >>> import numpy as np
    >>> import torch
    >>> from torch.nn import functional as F
    >>> from skcrowd.classification import CrowdClassifier
    >>> from skcrowd.datasets import make_crowd_classification
    >>> from skcrowd.nn import CROWD_MODELS, BaseCrowdModel, register_crowd_model
    >>> @register_crowd_model("one-coin")
    ... class OneCoin(BaseCrowdModel):
    ...     def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
    ...         super().__init__(n_classes, n_workers, rep_size, reg, rank)
    ...         self.skill = torch.nn.Parameter(torch.full((n_workers,), 1.0))
    ...     def log_conditional(self, rep, workers):  # (batch, n_pairs, K, K)
    ...         s = self.skill[workers][..., None, None]
    ...         wrong = F.logsigmoid(-s) - np.log(self.n_classes - 1)
    ...         eye = torch.eye(self.n_classes, dtype=torch.bool)
    ...         return torch.where(eye, F.logsigmoid(s), wrong)
    >>> info = make_crowd_classification(
    ...     n_samples=300, n_workers=6, return_info=True, random_state=0,
    ...     worker_profiles=["reliable"] * 4 + ["uniform_spammer"] * 2)
    >>> clf = CrowdClassifier(crowd_model="one-coin", hidden_units=(16,), lr=0.01,
    ...                       max_epochs=20, random_state=0)
    >>> clf = clf.fit(info.X, info.Y)
    >>> type(clf.net_.module_.crowd_model).name
    'one-coin'
    >>> spammers = clf.worker_reliability_[4:]  # the last two workers
    >>> bool(spammers.max() < clf.worker_reliability_[:4].min())
    True
    >>> del CROWD_MODELS["one-coin"]  # unregister it
    """

    def decorate(cls):
        CROWD_MODELS[name] = cls
        cls.name = name
        return cls

    return decorate


def observed_nll(log_p, labels):
    """Mean negative log-likelihood of the observed labels; 0 when none.

    ``log_p`` is ``(batch, n_pairs, K)``, ``labels`` ``(batch, n_pairs)``
    with ``-1`` for padding. One fused ``nll_loss`` (gather, mask and sum)
    instead of a handful of small ops per batch.
    """
    k = log_p.shape[-1]
    total = F.nll_loss(
        log_p.reshape(-1, k), labels.reshape(-1), ignore_index=-1, reduction="sum"
    )
    return total / (labels >= 0).sum().clamp_min(1)


def masked_mean(values, mask):
    """Mean of ``values`` over the ``mask``; 0 when the mask is empty."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def _centred_log(confusion, floor=1e-6):
    """Row-centred log of confusion matrices: softmax logits of their rows."""
    log_c = confusion.clamp_min(floor).log()
    return log_c - log_c.mean(dim=-1, keepdim=True)


def _diagonal_logits(confusion, floor=1e-6):
    """``(n_workers, K)``: per class, the logit of being right against the
    mean of the wrong labels, so that ``softmax(w_k e_k)`` has the
    confusion's diagonal on its diagonal."""
    k = confusion.shape[-1]
    diag = torch.diagonal(confusion, dim1=-2, dim2=-1).clamp(floor, 1 - floor)
    if k < 2:  # one class: no wrong label, and log(0) would be -inf (NaN later)
        return torch.zeros_like(diag)
    return torch.log(diag * (k - 1) / (1 - diag))


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

    See Also
    --------
    register_crowd_model : Make a crowd model usable by ``CrowdClassifier``.

    Examples
    --------
    A one-coin worker model (worker ``r`` is right with probability
    ``sigmoid(s_r)``, otherwise uniformly wrong) needs only
    ``log_conditional``; the base class turns it into each worker's label
    distribution, the posterior of the true class and the loss:

    >>> import numpy as np
    >>> import torch
    >>> from torch.nn import functional as F
    >>> from skcrowd.nn import BaseCrowdModel
    >>> class OneCoin(BaseCrowdModel):
    ...     def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
    ...         super().__init__(n_classes, n_workers, rep_size, reg, rank)
    ...         self.skill = torch.nn.Parameter(torch.zeros(n_workers))
    ...     def log_conditional(self, rep, workers):  # (batch, n_pairs, K, K)
    ...         s = self.skill[workers][..., None, None]
    ...         wrong = F.logsigmoid(-s) - np.log(self.n_classes - 1)
    ...         eye = torch.eye(self.n_classes, dtype=torch.bool)
    ...         return torch.where(eye, F.logsigmoid(s), wrong)
    >>> model = OneCoin(n_classes=3, n_workers=2, rep_size=8)
    >>> with torch.no_grad():
    ...     _ = model.skill.copy_(torch.tensor([2.0, -4.0]))  # a good, a bad worker
    >>> model.confusion().detach().numpy().round(2)  # rows: the true class
    array([[[0.88, 0.06, 0.06],
            [0.06, 0.88, 0.06],
            [0.06, 0.06, 0.88]],
    <BLANKLINE>
           [[0.02, 0.49, 0.49],
            [0.49, 0.02, 0.49],
            [0.49, 0.49, 0.02]]], dtype=float32)

    One item that the classifier puts in class 0 with probability 0.5;
    worker 0 says 1, worker 1 says 0 (``-1`` pads a row of the batch):

    >>> logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    >>> workers, labels = torch.tensor([[0, 1]]), torch.tensor([[1, 0]])
    >>> post = model.log_posterior(logits, None, workers, labels).exp()
    >>> post.detach().numpy().round(2)  # the good worker wins
    array([[0.  , 0.93, 0.06]], dtype=float32)

    The loss is the mean negative log-likelihood of the observed labels;
    padded pairs count for nothing:

    >>> loss = model.loss(logits, None, workers, labels)
    >>> padded = model.loss(logits, None, torch.tensor([[0, -1]]),
    ...                     torch.tensor([[1, -1]]))
    >>> alone = model.loss(logits, None, workers[:, :1], labels[:, :1])
    >>> round(loss.item(), 3), round(padded.item(), 3), round(alone.item(), 3)
    (1.348, 1.328, 1.328)
    """

    #: whether the confusion depends on the item (not only on the worker)
    instance_dependent = False
    #: regularisation strength used when ``reg=None``
    default_reg = 0.0
    #: whether ``loss`` takes the rows' item indices (``index=``)
    uses_item_index = False
    #: whether the estimator calls ``on_epoch_end`` after every epoch
    epoch_hook = False
    #: mixup used when ``CrowdClassifier(mixup_alpha="auto")`` (0: none)
    default_mixup_alpha = 0.0

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

    def initialize_from_crowd(self, item, worker, label, n_samples):
        """Set data-dependent state from the training crowd's COO view.

        Called once by the estimator before training; nothing by default.
        """

    def initialize_confusion(self, confusion, worker=None):
        """Start the worker model from estimated confusion matrices.

        ``confusion`` is a tensor ``(n_workers, K, K)`` (rows the true
        class), e.g. the Dawid-Skene estimate of
        ``CrowdClassifier(confusion_init="dawid-skene")``. ``worker``, when
        given, is the worker of each labelled pair of the training crowd
        (its COO view), for models that weight their start by how many
        labels each worker gave. Models whose parameters can represent the
        confusions set them and return True; the others keep their own
        start and return False (the default).
        """
        return False

    def on_epoch_end(self, batches, n_train_batches):
        """End-of-epoch update (models with ``epoch_hook = True``).

        ``batches`` lists ``(logits, rep, target)`` of all rows in
        evaluation mode, the first ``n_train_batches`` from the training
        rows, the rest from the validation rows.
        """

    def regularization(self, logits, rep):
        """The model's penalty, added to the loss (0 by default)."""
        return logits.new_zeros(())

    def loss(self, logits, rep, workers, labels):
        log_p = self.log_annotation_proba(logits, rep, workers.clamp_min(0))
        loss = observed_nll(log_p, labels)
        if type(self).regularization is BaseCrowdModel.regularization:
            return loss  # no penalty: spare the per-batch zero and addition
        return loss + self.regularization(logits, rep)

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
        # a buffer will do where the model has no parameter (the EM model)
        device = next(iter([*self.parameters(), *self.buffers()])).device
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

    def initialize_confusion(self, confusion, worker=None):
        log_c = _centred_log(confusion)
        with torch.no_grad():
            if self.rank is None:
                self.conf_logits.copy_(log_c)
            else:
                # the shared part is the workers' mean; each worker's own
                # diagonal on top of it (the low-rank part starts near 0)
                shared = log_c.mean(dim=0)
                self.shared.copy_(shared)
                self.diag.copy_(torch.diagonal(log_c - shared, dim1=-2, dim2=-1))
        return True

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

    def initialize_confusion(self, confusion, worker=None):
        # with a one-hot sigma = e_k the scores are column k of W_r: the
        # logits of row k of the confusion
        with torch.no_grad():
            self.weight.copy_(_centred_log(confusion).transpose(-1, -2))
        return True

    def scores(self, probs, workers):
        # W_r sigma: (.., K_label, K_true) times (.., K_true), summed; a
        # product and a sum beat a batched matmul of K x K matrices on CPU
        return (self.weight[workers] * probs.unsqueeze(-2)).sum(-1)


@register_crowd_model("crowdlayer-vw")
class CrowdLayerVW(_CrowdLayer):
    r"""CrowdLayer, vector weights: :math:`a_r = w_r \odot \sigma(x)`, ``w_r = 1``."""

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.weight = nn.Parameter(torch.ones(n_workers, n_classes))

    def initialize_confusion(self, confusion, worker=None):
        with torch.no_grad():
            self.weight.copy_(_diagonal_logits(confusion))
        return True

    def scores(self, probs, workers):
        return self.weight[workers] * probs


@register_crowd_model("crowdlayer-vb")
class CrowdLayerVB(_CrowdLayer):
    r"""CrowdLayer, vector bias: :math:`a_r = \log\sigma(x) + b_r`, ``b_r = 0``.

    The bias is added to the class *log*-probabilities (as in crowd-kit's
    port, which adds it to the logits: the same softmax), not to the
    probabilities as in the Keras original. There ``softmax(sigma + b_r)``
    cannot give the true class more than ``e / (e + K - 1)`` of a worker's
    labels whatever ``b_r`` (0.23 for K = 10), so no worker can be
    reliable; on Music the original form was no better than majority vote
    (5-fold CV on the training songs: 65.8% against 67.4% for this one).
    Here a worker's label distribution is the classifier's reweighted by
    ``exp(b_r)``: a per-worker label bias (a constant spammer is a large
    bias on one label). Its ``worker_confusion_`` (the class certain) is the
    identity: a bias cannot move a certain class. The bias starts at zero
    whatever ``confusion_init``: a Dawid-Skene start (each worker's log
    label frequencies, the column means of the DS confusion) made no
    difference in 5-fold CV on Music's training songs (67.7% against 67.8%,
    3 seeds), and neither did an L2 penalty on the biases (``reg * mean_r
    ||b_r||^2``, reg 0.01 to 10: 67.6 to 67.9%) or centring them over the
    workers, so that the classifier alone carries the mean label prior
    (67.2%); there is no penalty.
    """

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.bias = nn.Parameter(torch.zeros(n_workers, n_classes))

    def log_annotation_proba(self, logits, rep, workers):
        log_p = F.log_softmax(logits, dim=1).unsqueeze(1)  # (B, 1, K)
        return F.log_softmax(log_p + self.bias[workers], dim=-1)

    def scores(self, probs, workers):
        # log_conditional's one-hot class, with log 0 floored
        return probs.clamp_min(1e-6).log() + self.bias[workers]


@register_crowd_model("crowdlayer-vw+b")
class CrowdLayerVWB(_CrowdLayer):
    r"""CrowdLayer, vector weights and bias: :math:`a_r = w_r \odot \sigma + b_r`."""

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        self.weight = nn.Parameter(torch.ones(n_workers, n_classes))
        self.bias = nn.Parameter(torch.zeros(n_workers, n_classes))

    def initialize_confusion(self, confusion, worker=None):
        with torch.no_grad():
            self.weight.copy_(_diagonal_logits(confusion))
        return True

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

    default_mixup_alpha = 1.0

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


def _require_representation(rep, what="This crowd model's confusion"):
    """The ValueError of an instance-dependent model asked for a confusion
    without the item's representation."""
    if rep is None:
        raise ValueError(
            f"{what} depends on the item: pass its representation (use "
            "mean_confusion for a per-worker summary)."
        )


def _diagonal_logit(n_classes, accuracy):
    """Diagonal logit giving ``accuracy`` on the diagonal of a softmax row
    (0 for one class, whose one-entry row is 1 whatever the logit)."""
    if n_classes < 2:  # log(0) = -inf made the models' outputs NaN
        return 0.0
    return float(torch.log(torch.tensor(accuracy * (n_classes - 1) / (1 - accuracy))))


# -- CoNAL (Chu, Ma & Wang, AAAI 2021) ----------------------------------------
@register_crowd_model("conal")
class CoNAL(BaseCrowdModel):
    r"""Common and individual confusions, mixed per item and worker.

    A common confusion :math:`W_g` and per-worker confusions :math:`W_r`
    (``K x K``, both :math:`2I` at start) are mixed with a weight that
    depends on the item and the worker:

    .. math:: a_{ir} = \omega_{ir}\, p_\theta(x_i)^\top W_g
              + (1 - \omega_{ir})\, p_\theta(x_i)^\top W_r,
              \qquad \omega_{ir} = \sigma(e_i^\top u_r),

    read as the logits of worker r's label (softmax). The item embedding
    :math:`e_i = \mathrm{normalize}(\mathrm{Lin}(\mathrm{Lin}(h_i)))`
    (dimension 20) is computed from the backbone representation
    :math:`h_i`, detached, so that, as in the original's "simple common
    module" on the raw input, it has its own parameters and does not shape
    the classifier; the worker embedding is
    :math:`u_r = \mathrm{normalize}(\mathrm{Emb}(r))` (a linear map of the
    one-hot worker). The loss is the cross-entropy over the observed labels
    minus :math:`\lambda \sum_r \lVert W_r - W_g \rVert_F` (``reg`` is
    λ, default 1e-5), which pushes the individual confusions away from the
    common one. With ``rank``, :math:`W_r = \mathrm{diag}(d_r) + U_r
    V_r^\top` (``K * (2 rank + 1)`` numbers per worker instead of ``K^2``).

    ``log_conditional`` evaluates the scores at a one-hot class
    distribution (as for CrowdLayer), so it depends on the item.

    Chu, Ma & Wang, "Learning from Crowds by Modeling Common Confusions",
    AAAI 2021 (code ``zdchu/CoNAL``).
    """

    instance_dependent = True
    default_reg = 1e-5
    init_diagonal = 2.0
    embedding_dim = 20
    hidden_dim = 128

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        k = n_classes
        self.common = nn.Parameter(self.init_diagonal * torch.eye(k))
        if rank is None:
            self.individual = nn.Parameter(
                (self.init_diagonal * torch.eye(k)).repeat(n_workers, 1, 1)
            )
        else:
            self.diag = nn.Parameter(torch.full((n_workers, k), self.init_diagonal))
            self.u = nn.Parameter(0.01 * torch.randn(n_workers, k, rank))
            self.v = nn.Parameter(0.01 * torch.randn(n_workers, k, rank))
        self.instance_net = nn.Sequential(
            nn.Linear(rep_size, self.hidden_dim),
            nn.Linear(self.hidden_dim, self.embedding_dim),
        )
        self.worker_embedding = nn.Embedding(n_workers, self.embedding_dim)

    def _individual(self, workers):
        if self.rank is None:
            return self.individual[workers]
        u, v = self.u[workers], self.v[workers]
        return torch.diag_embed(self.diag[workers]) + u @ v.transpose(-1, -2)

    def common_weight(self, rep, workers):
        """:math:`\\omega_{ir}`, the weight of the common confusion: ``(B, L)``."""
        _require_representation(rep, "CoNAL's confusion")
        e = F.normalize(self.instance_net(rep.detach()), dim=-1)  # (B, d)
        u = F.normalize(self.worker_embedding(workers), dim=-1)  # (B, L, d)
        return torch.sigmoid((u * e.unsqueeze(1)).sum(-1))

    def log_annotation_proba(self, logits, rep, workers):
        probs = F.softmax(logits, dim=1)  # (B, K)
        omega = self.common_weight(rep, workers).unsqueeze(-1)  # (B, L, 1)
        common = (probs @ self.common).unsqueeze(1)  # (B, 1, K)
        if self.rank is None:
            indiv = torch.einsum("bk,blkm->blm", probs, self.individual[workers])
        else:
            u, v = self.u[workers], self.v[workers]  # (B, L, K, rank)
            low = torch.einsum("bk,blkj->blj", probs, u)
            indiv = probs.unsqueeze(1) * self.diag[workers] + torch.einsum(
                "blj,blmj->blm", low, v
            )
        return F.log_softmax(omega * common + (1 - omega) * indiv, dim=-1)

    def log_conditional(self, rep, workers):
        omega = self.common_weight(rep, workers)[..., None, None]
        scores = omega * self.common + (1 - omega) * self._individual(workers)
        return F.log_softmax(scores, dim=-1)

    def regularization(self, logits, rep):
        if not self.reg:
            return logits.new_zeros(())
        g = self.common
        if self.rank is None:
            sq = (self.individual - g).flatten(1).pow(2).sum(1)
        else:
            # ||diag(d) + U V^T - G||_F^2 without forming the K x K matrices
            d, u, v = self.diag, self.u, self.v
            uv_sq = ((u.transpose(1, 2) @ u) * (v.transpose(1, 2) @ v)).sum((1, 2))
            uv_diag = (u * v).sum(-1)  # (W, K): diagonal of U V^T
            g_uv = (u * (g @ v)).sum((1, 2))  # <G, U V^T>
            sq = (
                g.pow(2).sum()
                - 2 * (d * torch.diagonal(g)).sum(1)
                + d.pow(2).sum(1)
                + uv_sq
                + 2 * (d * uv_diag).sum(1)
                - 2 * g_uv
            )
        return -self.reg * sq.clamp_min(1e-12).sqrt().sum()


# -- instance- and worker-dependent confusion (MaDL / Annot-Mix family) ------
@register_crowd_model("instance")
class InstanceConfusion(BaseCrowdModel):
    r"""Instance- and worker-dependent confusion from worker embeddings.

    Each worker r has a learned embedding :math:`e_r \in \mathbb{R}^d`
    (``d = 16``), a diagonal :math:`c_r \in \mathbb{R}^K` and a bias
    :math:`b_r`; every other parameter is shared by all workers. A worker
    labels an item from their own confusion, except on the items they fail
    on, where they follow a confusion shared by all workers:

    .. math::
        p(l \mid k, x, r) = (1 - \omega_r(x))\, C_r[k, l]
            + \omega_r(x)\, N[k, l],

    - :math:`C_r = \mathrm{softmax}_\text{rows}(\mathrm{diag}(c_r) +
      A(e_r) B(e_r)^\top)`, with :math:`A, B` linear maps of the embedding
      to ``K x rank`` matrices (``rank`` 8 by default, at most K): a
      low-rank pattern of class confusions, learned across workers;
    - :math:`N = \mathrm{softmax}_\text{rows}(S)`, one shared ``K x K``
      confusion (uniform at start: the failing worker guesses);
    - :math:`\omega_r(x) = \sigma\big(w^\top \mathrm{ReLU}(W_1 (g \odot
      e_r) + W_2 g + b) + b_r\big)`, with :math:`g = P h` a projection of
      the item's backbone representation :math:`h`. The product
      :math:`g \odot e_r` is a bilinear item-worker interaction (each
      worker's region of weakness in feature space), :math:`W_2 g` the
      items that are hard for everyone.

    So a worker costs ``d + K + 1`` numbers, not ``K^2``, and workers with
    few labels borrow the weakness regions and confusion patterns of the
    workers their embedding resembles. The loss is the negative marginal
    log-likelihood of each item's labels, which share one true class,
    :math:`-\log \sum_k p_\theta(k \mid x_i) \prod_{r \in R_i}
    p(y_i^r \mid k, x_i, r)` per observed label (as SpeeLFC, so an item's
    other labels tell which of its labels are the failures), plus ``reg *
    mean_r ||e_r||^2`` (default 1e-3), which shrinks rarely seen workers
    toward the average one. Training starts from workers right with
    probability 0.8, :math:`\omega \approx 0.12` and :math:`B = 0`.

    On crowds whose workers fail in regions of feature space
    (``make_crowd_classification(instance_dependent=...)``) this overfits
    the noise much less than the worker-only models. In the spirit of MaDL
    (Herde, Huseljic, Sick & Calma, TMLR 2023) and Annot-Mix (Herde et al.,
    ECAI 2024), whose annotator models map an (instance, annotator
    embedding) pair to a confusion matrix; ours keeps the item-dependent
    part to a reliability weight, which keeps the true class identifiable.
    """

    instance_dependent = True
    default_reg = 1e-3
    embedding_dim = 16
    default_rank = 8
    prior_accuracy = 0.8
    init_failure_logit = -2.0

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        k, d = n_classes, self.embedding_dim
        self.n_factors = min(self.default_rank if rank is None else rank, k)
        self.worker_embedding = nn.Embedding(n_workers, d)
        nn.init.normal_(self.worker_embedding.weight, std=d**-0.5)
        # the worker's own confusion: a diagonal plus a low-rank part
        self.diag = nn.Parameter(
            torch.full((n_workers, k), _diagonal_logit(k, self.prior_accuracy))
        )
        self.factor_a = nn.Linear(d, k * self.n_factors)
        self.factor_b = nn.Linear(d, k * self.n_factors)
        nn.init.zeros_(self.factor_b.weight)
        nn.init.zeros_(self.factor_b.bias)
        # the shared confusion of the failures (uniform at start)
        self.failure_logits = nn.Parameter(torch.zeros(k, k))
        # the failure probability of an (item, worker) pair
        self.project = nn.Linear(rep_size, d)
        self.interact = nn.Linear(d, d)
        self.item = nn.Linear(d, d, bias=False)
        self.gate = nn.Linear(d, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)
        self.worker_bias = nn.Parameter(
            torch.full((n_workers,), self.init_failure_logit)
        )

    def worker_log_confusion(self, workers):
        """Log of the workers' own confusions :math:`C_r`, ``(..., K, K)``."""
        e = self.worker_embedding(workers)
        shape = (*e.shape[:-1], self.n_classes, self.n_factors)
        a = self.factor_a(e).reshape(shape)
        b = self.factor_b(e).reshape(shape)
        logits = torch.diag_embed(self.diag[workers]) + a @ b.transpose(-1, -2)
        return F.log_softmax(logits, dim=-1)

    def failure_logit(self, rep, workers):
        r"""Logit of :math:`\omega_r(x)`, shape ``(B, L)``."""
        _require_representation(rep)
        g = self.project(rep).unsqueeze(1)  # (B, 1, d)
        e = self.worker_embedding(workers)  # (B, L, d)
        hidden = F.relu(self.interact(g * e) + self.item(g))
        return self.gate(hidden).squeeze(-1) + self.worker_bias[workers]

    def log_conditional(self, rep, workers):
        f = self.failure_logit(rep, workers)[..., None, None]
        own = F.logsigmoid(-f) + self.worker_log_confusion(workers)
        failure = F.logsigmoid(f) + F.log_softmax(self.failure_logits, dim=-1)
        return torch.logaddexp(own, failure)

    def regularization(self, logits, rep):
        if not self.reg:
            return logits.new_zeros(())
        return self.reg * self.worker_embedding.weight.pow(2).sum(1).mean()

    def loss(self, logits, rep, workers, labels):
        n_labels = (labels >= 0).sum().clamp_min(1)
        joint = self.log_joint(logits, rep, workers, labels)
        log_marginal = torch.logsumexp(joint, dim=1)
        return -log_marginal.sum() / n_labels + self.regularization(logits, rep)


# -- Annot-Mix (Herde et al., ECAI 2024) --------------------------------------
@register_crowd_model("annot-mix")
class AnnotMix(BaseCrowdModel):
    r"""Annot-Mix's annotator model: a confusion per (item, worker) pair.

    A small network maps the item's representation and the worker to a
    full ``K x K`` confusion matrix:

    .. math::
        C(x, r) = \mathrm{softmax}_\text{rows}\Big(W_o\, \mathrm{ReLU}\big(
        \mathrm{BN}(W_h [\, P h \,;\, e_r \,])\big) + b_o\Big),

    with :math:`h` the backbone's representation of the item (detached, so
    the worker model does not shape the classifier's features), :math:`P`
    a linear map to 128 dimensions, :math:`e_r` the worker's learned
    128-dimensional embedding (a linear map of the one-hot worker),
    :math:`W_h` a ``256 -> 128`` layer after dropout 0.5 with batch
    normalisation, and :math:`W_o` the ``128 -> K^2`` output. Its bias
    starts at :math:`\log(\eta (K - 1) / (1 - \eta))` on the diagonal
    (:math:`\eta = 0.9`: every worker right 90% of the time at start).
    The loss is the cross-entropy of each observed label under
    :math:`p(l \mid x, r) = \sum_k p_\theta(k \mid x)\, C(x, r)[k, l]`,
    averaged over the labels, and Annot-Mix's mixup (alpha 1) is on by
    default (``mixup_alpha="auto"``): every labelled (item, worker, label)
    triple is mixed with another of the batch, items, one-hot workers and
    one-hot labels alike, by a weight of its own. A worker costs 128
    numbers whatever K; the ``K^2`` output layer is shared.

    Herde, Lührs, Huseljic & Sick, "Annot-Mix: Learning with Noisy Class
    Labels from Multiple Annotators via a Mixup Extension", ECAI 2024 (code
    ``ies-research/multi-annotator-machine-learning``, branch
    ``annot-mix``): the architecture, loss and mixup are theirs. No
    regulariser (``reg`` is ignored).

    The start is ours. A confusion free to change with every item can
    explain the labels without the classifier, and only the start and the
    mixup tie the two to the truth. From Annot-Mix's own start (every worker
    right 90% of the time, ``CrowdClassifier(confusion_init="identity")``)
    it follows adversarial workers as readily as reliable ones: on a
    simulated crowd with 20% adversaries (3 classes) the classifier was
    right on 1.8% of the items, its worker reliabilities ranked the true
    ones at Spearman -0.82. With 70% spammers (the first draw of
    ``benchmarks/bench_crowd_simulations.py``'s (a)) it reached 61.3%.
    So with ``confusion_init="dawid-skene"`` (the default) the worker
    path starts from the Dawid-Skene confusions. The item path is set to
    zero, and the rest of the network is fitted to the DS rows of the
    labelled pairs' workers (300 Adam steps of cross-entropy, lr 0.01,
    batches of 256 pairs, dropout and batch statistics as in training).
    That gave 96% and Spearman 0.95 on the same crowds, and 81.5% on the
    spammers. On Music, in 5-fold CV over the training songs, it gave
    70.4% against 70.1% from the paper's start (3 seeds). Over the whole
    simulation benchmark (``results/bench_crowd_simulations.txt``) the
    DS start gives 83.5% with 70% spammers (paper's start: 62.2%) and
    74.2% on instance-dependent noise (67.8%). With 100 long-tailed
    classes it gives 92.8% accuracy and 82.5% balanced accuracy (75.9%,
    63.0%). On the instance-dependent noise, ``"instance"`` still leads
    with 82.2%.
    """

    instance_dependent = True
    default_mixup_alpha = 1.0
    pair_mixup = True
    embedding_dim = 128
    prior_accuracy = 0.9
    dropout = 0.5
    ds_start_steps = 300
    ds_start_batch = 256
    ds_start_lr = 0.01

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        k, d = n_classes, self.embedding_dim
        # a Linear on the one-hot worker, as an embedding and a bias
        self.worker_embedding = nn.Embedding(n_workers, d)
        self.worker_offset = nn.Parameter(torch.empty(d))
        bound = n_workers**-0.5
        nn.init.uniform_(self.worker_embedding.weight, -bound, bound)
        nn.init.uniform_(self.worker_offset, -bound, bound)
        self.project = nn.Linear(rep_size, d)
        self.drop = nn.Dropout(self.dropout)
        self.hidden = nn.Linear(2 * d, d)
        self.norm = nn.BatchNorm1d(d)
        self.output = nn.Linear(d, k * k)
        with torch.no_grad():
            diagonal = _diagonal_logit(k, self.prior_accuracy) * torch.eye(k)
            self.output.bias.copy_(diagonal.flatten())

    def initialize_confusion(self, confusion, worker=None):
        """Dawid-Skene start: the item path at zero, the worker path fitted
        to the DS confusions over the labelled pairs' workers."""
        if worker is None or len(worker) == 0:
            workers = torch.arange(self.n_workers)
        else:
            # sampled by label: a worker weighs as much as the labels it gave
            workers = torch.as_tensor(np.asarray(worker), dtype=torch.long)
        target = confusion.clamp_min(1e-6)
        target = target / target.sum(dim=-1, keepdim=True)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)
        params = [
            p for name, p in self.named_parameters() if not name.startswith("project")
        ]
        optimizer = torch.optim.Adam(params, lr=self.ds_start_lr)
        was_training = self.training
        self.train()
        for _ in range(self.ds_start_steps):
            batch = workers[torch.randint(len(workers), (self.ds_start_batch,))]
            rep = torch.zeros(len(batch), self.rep_size)
            log_c = self._log_confusion(rep, self.worker_embedding(batch))
            loss = -(target[batch] * log_c).sum(dim=-1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.train(was_training)
        return True

    def _log_confusion(self, rep, embedding):
        """``(N, K, K)`` log confusions of N (item representation, worker
        embedding) pairs."""
        e = embedding + self.worker_offset
        z = self.hidden(self.drop(torch.cat([self.project(rep.detach()), e], dim=-1)))
        if self.training and z.shape[0] < 2:
            # one pair has no batch statistics: use the running ones
            z = F.batch_norm(
                z, self.norm.running_mean, self.norm.running_var,
                self.norm.weight, self.norm.bias, False, 0.0, self.norm.eps,
            )
        else:
            z = self.norm(z)
        k = self.n_classes
        return F.log_softmax(self.output(F.relu(z)).view(-1, k, k), dim=-1)

    def log_conditional(self, rep, workers):
        _require_representation(rep)
        b, n_pairs = workers.shape
        pairs = rep.unsqueeze(1).expand(b, n_pairs, rep.shape[-1])
        e = self.worker_embedding(workers.reshape(-1))
        log_c = self._log_confusion(pairs.reshape(b * n_pairs, -1), e)
        return log_c.view(b, n_pairs, self.n_classes, self.n_classes)

    def _log_label(self, logits, rep, embedding):
        """``(N, K)``: log p(label | x, worker) of N pairs."""
        log_c = self._log_confusion(rep, embedding)
        log_p = F.log_softmax(logits, dim=1).unsqueeze(-1)
        return torch.logsumexp(log_p + log_c, dim=1)

    def loss(self, logits, rep, workers, labels):
        # only the observed pairs go through the network, so that padding
        # does not enter the batch statistics
        observed = labels >= 0
        if not bool(observed.any()):
            return logits.sum() * 0.0
        rows = observed.nonzero(as_tuple=True)[0]
        e = self.worker_embedding(workers[observed])
        return F.nll_loss(self._log_label(logits[rows], rep[rows], e), labels[observed])

    def mixed_pair_loss(self, logits, rep, workers, labels, lam):
        """The loss on mixed (item, worker, label) triples (Annot-Mix).

        ``logits`` and ``rep`` are the network's on the N mixed items;
        ``workers`` and ``labels`` pairs ``(a, b)`` of ``(N,)`` tensors, the
        triples mixed with weight ``lam`` ``(N,)`` and ``1 - lam``. The
        worker's one-hot vector is mixed (so its embedding is), and the
        label's.
        """
        if len(lam) == 0:
            return logits.sum() * 0.0
        w = lam.unsqueeze(-1)
        e = w * self.worker_embedding(workers[0]) + (1 - w) * self.worker_embedding(
            workers[1]
        )
        log_label = self._log_label(logits, rep, e)
        nll_a = F.nll_loss(log_label, labels[0], reduction="none")
        nll_b = F.nll_loss(log_label, labels[1], reduction="none")
        return (lam * nll_a + (1 - lam) * nll_b).mean()


# -- Raykar et al. EM, with the network as classifier -------------------------
@register_crowd_model("em")
class RaykarEM(BaseCrowdModel):
    r"""EM over the true labels with a neural classifier (Raykar et al., 2010).

    The model is Dawid-Skene's with the class prior replaced by the
    classifier: :math:`p(y_i^{R_i} \mid x_i) = \sum_k p_\theta(k \mid x_i)
    \prod_{r \in R_i} \pi_r[k, y_i^r]`. It keeps per-worker confusion
    matrices :math:`\pi_r` (``K x K``) and per-item posteriors :math:`q_i`
    as buffers, not parameters:

    - start: :math:`q_i` is the soft majority vote (vote fractions);
    - each epoch (M-step for θ): the network is trained on the soft targets,
      :math:`-\sum_k q_{ik} \log p_\theta(k \mid x_i)` averaged over the
      items with a label (one pass, a generalised EM step);
    - after each epoch (``on_epoch_end``, called by a skorch callback the
      estimator adds): the closed-form M-step for the workers,
      :math:`\pi_r[k, l] \propto \alpha + \sum_{i: y_i^r = l} q_{ik}`
      (Dirichlet smoothing, ``reg`` is α, default 0.01), then the E-step
      :math:`q_{ik} \propto p_\theta(k \mid x_i) \prod_r \pi_r[k, y_i^r]`
      with the network in evaluation mode.

    The loss finds each row's :math:`q_i` through the item-index column of
    the training target (see :func:`skcrowd.nn._modules.crowd_target_index`),
    which survives skorch's shuffling and validation split. Validation rows
    get E-steps (their ``q`` scores the validation loss) but do not enter
    the M-step. Without an index (the loss called on a bare target) the
    posterior under the current network and confusions is used instead.
    ``rank`` is not used: the closed-form M-step needs full matrices.

    Raykar, Yu, Zhao, Valadez, Florin, Bogoni & Moy, "Learning From Crowds",
    JMLR 11, 2010.
    """

    default_reg = 0.01
    uses_item_index = True
    epoch_hook = True
    default_mixup_alpha = 1.0
    prior_accuracy = 0.8

    def __init__(self, n_classes, n_workers, rep_size, reg=0.0, rank=None):
        super().__init__(n_classes, n_workers, rep_size, reg, rank)
        k = n_classes
        logit = _diagonal_logit(k, self.prior_accuracy) if k > 1 else 0.0
        start = F.log_softmax(logit * torch.eye(k), dim=-1)
        self.register_buffer("log_confusion", start.repeat(n_workers, 1, 1))
        self.register_buffer("posterior", torch.empty(0, k))

    def initialize_from_crowd(self, item, worker, label, n_samples):
        votes = torch.zeros(n_samples, self.n_classes)
        votes.index_put_(
            (torch.as_tensor(item), torch.as_tensor(label)),
            torch.ones(len(item)),
            accumulate=True,
        )
        total = votes.sum(1, keepdim=True)
        q = torch.where(total > 0, votes / total.clamp_min(1), 1.0 / self.n_classes)
        self.posterior = q.to(self.log_confusion.device)

    def log_conditional(self, rep, workers):
        return self.log_confusion[workers]

    def loss(self, logits, rep, workers, labels, index=None):
        has_label = (labels >= 0).any(dim=1)
        if index is None:
            with torch.no_grad():
                q = self.log_posterior(logits, rep, workers.clamp_min(0), labels).exp()
        else:
            q = self.posterior[index]
        ce = -(q * F.log_softmax(logits, dim=1)).sum(dim=1)
        return masked_mean(ce, has_label) + self.regularization(logits, rep)

    def log_joint(self, logits, rep, workers, labels):
        # the base class's, without the (B, L, K, K) confusions of every pair
        # to pick K numbers from each: index the label's column directly
        mask = (labels >= 0).unsqueeze(-1)
        per_label = self.log_confusion[workers.clamp_min(0), :, labels.clamp_min(0)]
        return F.log_softmax(logits, dim=1) + (per_label * mask).sum(dim=1)

    @torch.no_grad()
    def on_epoch_end(self, batches, n_train_batches):
        from ._modules import cat_crowd_targets, crowd_target_index, split_crowd_target

        k = self.n_classes
        # one M-step and one E-step per run of consecutive batches of at most
        # _EM_CHUNK_CELLS (row, pair, class) cells, not a dozen small ops per
        # batch; the rows keep the batches' order, so the counts add up in
        # the same order
        # M-step for the workers, from the posteriors the epoch trained on
        counts = torch.zeros_like(self.log_confusion)
        for chunk in _consecutive_chunks(batches[:n_train_batches], k):
            target = cat_crowd_targets([target for _, _, target in chunk])
            workers, labels = split_crowd_target(target)
            rows, slots = (labels >= 0).nonzero(as_tuple=True)
            q = self.posterior[crowd_target_index(target)[rows]]  # (n, K)
            w = workers[rows, slots].unsqueeze(1).expand(-1, k)
            lab = labels[rows, slots].unsqueeze(1).expand(-1, k)
            cls = torch.arange(k, device=q.device).expand_as(w)
            counts.index_put_((w, cls, lab), q, accumulate=True)
        counts += self.reg
        total = counts.sum(-1, keepdim=True)
        fresh = counts / total.clamp_min(1e-12)
        # a row without counts (reg=0) keeps its previous value
        self.log_confusion = torch.where(
            total > 0, fresh.clamp_min(1e-30).log(), self.log_confusion
        )
        # E-step for every row, training and validation
        for chunk in _consecutive_chunks(batches, k):
            logits, rep = (
                None if parts[0] is None else torch.cat(parts)
                for parts in list(zip(*chunk, strict=True))[:2]
            )
            # batches padded per batch differ in width (see cat_crowd_targets)
            target = cat_crowd_targets([target for _, _, target in chunk])
            workers, labels = split_crowd_target(target)
            post = self.log_posterior(logits, rep, workers.clamp_min(0), labels)
            self.posterior[crowd_target_index(target)] = post.exp()


#: cells (rows x label slots x classes) of one chunk of RaykarEM's epoch pass
_EM_CHUNK_CELLS = 2**22


def _consecutive_chunks(batches, n_classes):
    """Runs of consecutive ``(logits, rep, target)`` batches, each of at most
    :data:`_EM_CHUNK_CELLS` cells (or one batch), in order."""
    # counted at the chunk's widest batch: batches padded per batch are
    # padded to a common width when concatenated (cat_crowd_targets)
    chunk, rows, width = [], 0, 0
    for batch in batches:
        target = batch[2]
        wider = max(width, target.shape[1] // 2)
        if chunk and (rows + target.shape[0]) * wider * n_classes > _EM_CHUNK_CELLS:
            yield chunk
            chunk, rows, wider = [], 0, target.shape[1] // 2
        chunk.append(batch)
        rows += target.shape[0]
        width = wider
    if chunk:
        yield chunk
