"""Torch pieces of the multi-label nets: encoder, optimiser, modules, callbacks."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from torch import nn

from ..nn._modules import check_layer_sizes
from ._losses import masked_bce
from ._sampling import draw_pairs, pair_targets

__all__ = [
    "SparseMLP",
    "LazyAdamW",
    "RowData",
    "PairData",
    "MultiLabelNetModule",
    "BBSNModule",
    "BBSNSchedule",
    "WarmupLinear",
    "ValidationSelection",
]


# -- data ---------------------------------------------------------------------
def rows_to_tensor(X, rows):
    """Rows of a dense array or a CSR matrix as a tensor (sparse stays sparse).

    A CSR matrix gives a ``torch.sparse_csr_tensor`` of those rows only: the
    whole matrix is never densified.
    """
    part = X[rows]
    if sp.issparse(part):
        part = sp.csr_matrix(part)
        part.sort_indices()
        with warnings.catch_warnings():  # "sparse CSR support is in beta state"
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(
                torch.from_numpy(part.indptr.astype(np.int64)),
                torch.from_numpy(part.indices.astype(np.int64)),
                torch.from_numpy(part.data.astype(np.float32, copy=False)),
                size=part.shape,
                check_invariants=False,  # scipy's sorted CSR is valid
            )
    return torch.from_numpy(np.ascontiguousarray(part))


class RowData(torch.utils.data.Dataset):
    """``dataset[rows] -> (X rows, Y rows)`` over a dense or CSR ``X``.

    ``dense=True`` densifies each batch (for user modules that want dense
    tensors); the whole matrix is never densified.
    """

    def __init__(self, X, Y=None, dense=False):
        self.X, self.Y, self.dense = X, Y, dense

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, rows):
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        x = rows_to_tensor(self.X, rows)
        if self.dense and x.layout != torch.strided:
            x = x.to_dense()
        y = (
            torch.zeros(len(rows), 0)
            if self.Y is None
            else torch.from_numpy(self.Y[rows])
        )
        return x, y


class PairData(RowData):
    """BBSN's training set: ``n_pairs`` items, each two pairs of documents.

    Item ``i`` is ``(x1, x2)`` of the first draw and ``(x3, x4)`` of the
    second (``x1, x3`` reversed-sampled, ``x2, x4`` uniform-sampled). A batch
    of items stacks the documents as ``[x1; x2; x3; x4]`` (``4 * batch``
    rows), its target the same way. :meth:`redraw` draws new pairs.
    """

    def __init__(self, X, Y, uniform, dense=False):
        super().__init__(X, Y, dense)
        self.uniform = uniform
        self.pairs = None

    def __len__(self):
        return self.X.shape[0]

    def redraw(self, rng):
        n = self.X.shape[0]
        self.pairs = np.concatenate(
            [draw_pairs(self.Y, n, self.uniform, rng) for _ in range(2)], axis=1
        )  # columns: x1 (rev), x2 (uni), x3 (rev), x4 (uni)

    def __getitem__(self, rows):
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        docs = self.pairs[rows][:, [0, 1, 2, 3]].T.reshape(-1)
        return super().__getitem__(docs)


# -- encoder --------------------------------------------------------------------
class SparseMLP(nn.Module):
    """MLP whose first layer reads dense or sparse (CSR) batches.

    The first layer is ``x @ W + b`` with ``W`` of shape ``(n_features,
    units)``; a sparse batch is multiplied through ``embedding_bag`` (the
    stored entries only), with a sparse gradient of ``W`` when
    ``sparse_grad=True`` (only the rows of the batch's features; see
    :class:`LazyAdamW`). Each hidden layer is followed by ReLU and dropout.
    """

    def __init__(self, n_features, hidden_units=(512,), dropout=0.0, sparse_grad=True):
        super().__init__()
        hidden_units = check_layer_sizes(n_features, hidden_units)
        if not hidden_units:
            raise ValueError("hidden_units needs at least one layer.")
        first = hidden_units[0]
        self.weight = nn.Parameter(torch.empty(n_features, first))
        self.bias = nn.Parameter(torch.empty(first))
        bound = 1.0 / math.sqrt(n_features)  # nn.Linear's initialisation
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        self.sparse_grad = sparse_grad
        layers = [nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = first
        for units in hidden_units[1:]:
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        self.rest = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, x):
        if x.layout == torch.sparse_csr:
            crow = x.crow_indices()
            h = F.embedding_bag(
                x.col_indices(),
                self.weight,
                crow[:-1],
                mode="sum",
                per_sample_weights=x.values(),
                sparse=self.sparse_grad and self.training,
                include_last_offset=False,
            )
            # embedding_bag gives empty bags zero rows; rows follow crow
            h = h + self.bias
        else:
            if x.is_sparse:
                x = x.to_dense()
            h = x.reshape(len(x), -1) @ self.weight + self.bias
        return self.rest(h)


def build_encoder(module, n_features, hidden_units, dropout, module_params, sample):
    """The encoder and its output width: the default SparseMLP or the user's."""
    if module is None:
        enc = SparseMLP(n_features, hidden_units, dropout)
        return enc, enc.out_features
    from ..nn._modules import resolve_backbone

    enc = resolve_backbone(module, n_features, hidden_units, dropout, **module_params)
    with torch.no_grad():
        was = enc.training
        enc.eval()
        out = enc(sample)
        enc.train(was)
    if out.ndim != 2:
        raise ValueError(
            "The encoder module must return a (batch, n_features) representation; "
            f"got shape {tuple(out.shape)}."
        )
    return enc, out.shape[1]


# -- optimiser ------------------------------------------------------------------
class LazyAdamW(torch.optim.Optimizer):
    """AdamW that also takes sparse gradients (lazily, the touched rows only).

    Dense parameters: AdamW (Loshchilov & Hutter 2019) with decoupled weight
    decay, applied to matrices only (not to biases: BERT's rule of no decay
    on bias and LayerNorm). Sparse gradients (the sparse first layer):
    the same update on the rows present in the gradient only, moments
    included ("lazy Adam", as ``torch.optim.SparseAdam``), decay included.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = (
                group["lr"],
                group["betas"],
                group["eps"],
                group["weight_decay"],
            )
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                decay = wd if p.ndim >= 2 else 0.0
                c1, c2 = 1 - b1**t, 1 - b2**t
                grad = p.grad
                if grad.is_sparse:
                    grad = grad.coalesce()
                    idx, val = grad.indices()[0], grad.values()
                    if len(idx) == 0:
                        continue
                    m_rows = m[idx].mul_(b1).add_(val, alpha=1 - b1)
                    v_rows = v[idx].mul_(b2).addcmul_(val, val, value=1 - b2)
                    m[idx], v[idx] = m_rows, v_rows
                    rows = p[idx]
                    if decay:
                        rows.mul_(1 - lr * decay)
                    denom = (v_rows / c2).sqrt_().add_(eps)
                    rows.addcdiv_(m_rows, denom, value=-lr / c1)
                    p[idx] = rows
                else:
                    if decay:
                        p.mul_(1 - lr * decay)
                    m.mul_(b1).add_(grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    denom = (v / c2).sqrt_().add_(eps)
                    p.addcdiv_(m, denom, value=-lr / c1)
        return loss


# -- modules --------------------------------------------------------------------
class MultiLabelNetModule(nn.Module):
    """Encoder + linear head; ``loss`` is one of the multi-label losses."""

    def __init__(self, encoder, rep_size, n_labels, loss):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(rep_size, n_labels)
        self.criterion = loss

    def forward(self, x):
        return self.head(self.encoder(x))

    def loss(self, logits, target):
        return self.criterion(logits, target)


class SiameseBlock(nn.Module):
    """One BBSN Siamese block: projection, classifier, category similarity."""

    def __init__(self, rep_size, feature_dim, n_labels):
        super().__init__()
        self.linear1 = nn.Linear(rep_size, feature_dim)  # no activation
        self.classifier = nn.Linear(feature_dim, n_labels)
        self.linear_onehot = nn.Linear(n_labels, feature_dim)
        self.contrast = nn.Linear(feature_dim, 1)
        self.n_labels = n_labels

    def similarity(self, fa, fb):
        """Category-specific similarity logits ``z`` of shape ``(B, C)``.

        ``d = |sigma(fa) - sigma(fb)|``, ``q_c = ReLU((W_q e_c + b_q)/sqrt(C))``,
        ``z_c = w_s^T (d * q_c) + b_s``.
        """
        d = (torch.sigmoid(fa) - torch.sigmoid(fb)).abs()
        q = F.relu(
            (self.linear_onehot.weight.T + self.linear_onehot.bias)
            / math.sqrt(self.n_labels)
        )  # (C, F): row c is q_c
        return d @ (q * self.contrast.weight).T + self.contrast.bias


class BBSNModule(nn.Module):
    """BBSN: one shared encoder, two Siamese blocks, two BBN heads.

    Training input: the ``[x1; x2; x3; x4]`` stack of :class:`PairData`;
    evaluation input: single documents, scored by ``prediction``:
    ``"bbn"`` the BBN heads at ``alpha = 0.5`` (the paper's), ``"siamese"``
    the mean of the two Siamese classifiers' logits.
    ``alpha`` and ``beta`` are set per epoch by :class:`BBSNSchedule`.
    """

    def __init__(
        self,
        encoder,
        rep_size,
        n_labels,
        feature_dim=1024,
        criterion=None,
        prediction="bbn",
    ):
        super().__init__()
        if prediction not in ("bbn", "siamese"):
            raise ValueError(
                f"prediction must be 'bbn' or 'siamese'; got {prediction!r}."
            )
        self.prediction = prediction
        self.encoder = encoder
        # the classification terms' loss (L1, L5, L3); None: BCE (the paper's)
        self.criterion = criterion
        self.siamese1 = SiameseBlock(rep_size, feature_dim, n_labels)
        self.siamese2 = SiameseBlock(rep_size, feature_dim, n_labels)
        self.bbn_branch2 = nn.Linear(feature_dim, n_labels)
        self.bbn_branch3 = nn.Linear(feature_dim, n_labels)
        self.alpha = 1.0
        self.beta = 1.0

    def bbn_logits(self, f_uniform, f_reversed, alpha):
        return self.bbn_branch2(alpha * f_uniform) + self.bbn_branch3(
            (1 - alpha) * f_reversed
        )

    def predict_logits(self, h):
        """Evaluation logits of encoded single documents ``h``."""
        s1, s2 = self.siamese1, self.siamese2
        f1, f2 = s1.linear1(h), s2.linear1(h)
        if self.prediction == "siamese":
            return 0.5 * (s1.classifier(f1) + s2.classifier(f2))
        return self.bbn_logits(f1, f2, 0.5)

    def forward(self, x):
        h = self.encoder(x)
        if not self.training:
            return self.predict_logits(h)
        h1, h2, h3, h4 = torch.chunk(h, 4)
        s1, s2 = self.siamese1, self.siamese2
        f1, f2 = s1.linear1(h1), s1.linear1(h2)
        f3, f4 = s2.linear1(h3), s2.linear1(h4)
        return (
            s1.classifier(f1),  # y1 hat
            s2.classifier(f4),  # y4 hat
            s1.similarity(f1, f2),  # z1
            s2.similarity(f3, f4),  # z2
            self.bbn_logits(f2, f3, self.alpha),
        )

    def loss(self, output, target):
        if not isinstance(output, tuple):  # evaluation on single documents
            return F.binary_cross_entropy_with_logits(output, target)
        y1, y2, y3, y4 = torch.chunk(target, 4)
        yhat1, yhat4, z1, z2, ybbn = output
        g1, m1 = pair_targets(y1, y2)
        g2, m2 = pair_targets(y3, y4)
        cls = self.criterion or F.binary_cross_entropy_with_logits
        l1, l5 = cls(yhat1, y1), cls(yhat4, y4)
        l2, l4 = masked_bce(z1, g1, m1), masked_bce(z2, g2, m2)
        a, b = self.alpha, self.beta
        l3 = a * cls(ybbn, y2) + (1 - a) * cls(ybbn, y3)
        return b * (l1 + l5) + (1 - b) * (l2 + l4) + l3


# -- schedules and callbacks ------------------------------------------------------
def alpha_schedule(epoch, n_epochs):
    """BBN's cumulative-learning weight ``1 - (e/T)^2``, ``T = n_epochs - 1``."""
    if n_epochs <= 1:
        return 1.0
    return 1.0 - (epoch / (n_epochs - 1)) ** 2


def beta_schedule(epoch, n_epochs, kind):
    """BBSN's dynamic weight: ``"quadratic"`` (RCV1) or ``"cosine"`` (AAPD)."""
    if n_epochs <= 1:
        return 1.0
    r = epoch / (n_epochs - 1)
    if kind == "quadratic":
        return 1.0 - r**2
    if kind == "cosine":
        return math.cos(r * math.pi / 2)
    raise ValueError(f"beta schedule must be 'quadratic' or 'cosine'; got {kind!r}.")


class BBSNSchedule(Callback):
    """Per epoch: new pairs (seeded by the fit's seed and the epoch), alpha, beta."""

    def __init__(self, beta_kind="quadratic", resample=True, scale_branch_lr=False):
        self.beta_kind = beta_kind
        self.resample = resample
        self.scale_branch_lr = scale_branch_lr

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        epoch = len(net.history) - 1
        total = net.max_epochs
        module = net.module_
        module.alpha = alpha_schedule(epoch, total)
        module.beta = beta_schedule(epoch, total, self.beta_kind)
        if isinstance(dataset_train, PairData):
            if self.resample or dataset_train.pairs is None:
                draw = epoch if self.resample else 0
                seed = getattr(net, "skcrowd_seed_", 0)
                dataset_train.redraw(np.random.default_rng([seed, draw]))
        if self.scale_branch_lr:
            _set_branch_lr_scales(net.optimizer_, module, net.lr)
        net.history.record("alpha", module.alpha)
        net.history.record("beta", module.beta)


def _set_branch_lr_scales(optimizer, module, lr):
    """The BBN heads' weight matrices learn at ``alpha`` and ``1 - alpha`` times
    the learning rate (each in its own parameter group).

    BBN's features enter the heads as ``alpha f2`` and ``(1 - alpha) f3``: with
    SGD (BBN's optimiser) a head's updates shrink with its weight. Adam's
    updates do not depend on the gradient's scale, so the head whose weight is
    near 0 still moves at the full rate, towards the huge weights its
    near-zero input asks for, and at prediction (``alpha = 0.5``) it swamps
    the logits. Scaling its learning rate by its weight restores SGD's
    behaviour (``WarmupLinear`` multiplies a group's ``lr_scale`` in)."""
    weights = {
        id(module.bbn_branch2.weight): module.alpha,
        id(module.bbn_branch3.weight): 1.0 - module.alpha,
    }
    groups = {id(g["params"][0]): g for g in optimizer.param_groups if g["params"]}
    for pid, param in (
        (id(module.bbn_branch2.weight), module.bbn_branch2.weight),
        (id(module.bbn_branch3.weight), module.bbn_branch3.weight),
    ):
        if pid not in groups:  # first epoch: give the matrix its own group
            for g in optimizer.param_groups:
                g["params"] = [p for p in g["params"] if p is not param]
            optimizer.add_param_group({"params": [param]})
            groups[pid] = optimizer.param_groups[-1]
        groups[pid]["lr_scale"] = weights[pid]
        groups[pid]["lr"] = lr * weights[pid]  # WarmupLinear, if any, rescales


class WarmupLinear(Callback):
    """BERT's ``warmup_linear``: lr rises over the first ``warmup`` of the steps,
    then falls linearly to 0 at the last step (set before every batch)."""

    def __init__(self, warmup=0.1):
        self.warmup = warmup

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        bs = net.batch_size if net.batch_size > 0 else len(dataset_train)
        self.per_epoch_ = max(1, -(-len(dataset_train) // bs))
        self.total_ = self.per_epoch_ * net.max_epochs
        self.step_ = (len(net.history) - 1) * self.per_epoch_

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        x = self.step_ / self.total_
        w = self.warmup
        factor = x / w if (w and x < w) else max(0.0, (1 - x) / (1 - w if w else 1))
        for group in net.optimizer_.param_groups:
            group["lr"] = net.lr * factor * group.get("lr_scale", 1.0)
        self.step_ += 1


class ValidationSelection(Callback):
    """Score the held-out split each epoch; keep (and maybe reload) the best.

    ``score_fn(scores, Y_valid) -> (micro_f1, macro_f1)``. The selection
    criterion is micro-F1 + macro-F1 (BBSN's). ``reload=True`` reloads the
    best weights after every epoch (BBSN's original loop). The best weights
    are loaded at the end of training when ``restore=True``.
    """

    def __init__(self, dataset, Y, score_fn, reload=False, restore=True):
        self.dataset = dataset
        self.Y = Y
        self.score_fn = score_fn
        self.reload = reload
        self.restore = restore

    def initialize(self):
        self.best_ = -np.inf
        self.best_state_ = None
        self.best_epoch_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        scores = predict_logits(net, self.dataset)
        micro, macro = self.score_fn(scores, self.Y)
        net.history.record("valid_micro_f1", micro)
        net.history.record("valid_macro_f1", macro)
        value = micro + macro
        improved = value > self.best_
        net.history.record("valid_f1_best", bool(improved))
        if improved:
            self.best_ = value
            self.best_epoch_ = len(net.history)
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
        elif self.reload and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)

    def on_train_end(self, net, **kwargs):
        if self.restore and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)

    def __getstate__(self):  # the held-out data are not part of the model
        state = dict(self.__dict__)
        state["dataset"] = None
        state["Y"] = None
        state["best_state_"] = None
        return state


def predict_logits(net, dataset):
    """Evaluation-mode logits of ``dataset`` as a numpy array (no RNG use)."""
    module = net.module_
    was = module.training
    module.eval()
    out = []
    with torch.no_grad():
        n = len(dataset)
        bs = 512
        for start in range(0, n, bs):
            x, _ = dataset[np.arange(start, min(n, start + bs))]
            out.append(module(x.to(net.device)).float().cpu())
    module.train(was)
    return torch.cat(out).numpy()
