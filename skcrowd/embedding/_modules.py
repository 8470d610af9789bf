"""Torch parts of :class:`~skcrowd.embedding.MultiviewTripletEmbedder`.

Imported lazily (this module imports torch). The model is the one of Lu,
Li, Takeuchi & Kashima (WWW 2023), METHODS.md §B.4–B.5:

- an encoder gives every object ``V`` embeddings ``e_v(x)`` in ``R^D``
  (a shared trunk plus one head per view, or a free table of vectors in the
  transductive setting);
- per view, pair similarities ``s_v(a, b) = exp(-||e_v(a) - e_v(b)||)``
  (unsquared distance) and their normalised certainty
  ``H_v = 1 - Ent(p_v) / log P`` over the ``P`` pairs of the query;
- a view attention ``Q = softmax(H + W[worker])`` per triplet;
- the mixed similarities ``S(ab) = sum_v Q_v s_v(ab)`` and the likelihood
  of the answer ``(S(ij) + 1e-8) / (sum_ab S(ab) + P * 1e-8)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "MultiviewEncoder",
    "FreeEmbedding",
    "MultiviewTripletModule",
    "TripletBatches",
    "DecayExceptWorkers",
]

#: Pairs compared by each query, as positions in the triplet row; the first
#: pair is the answer's. ``ODD_POSITION[query][p]`` is the position of the
#: object left out of pair ``p``.
PAIRS = {"odd-one-out": ((0, 1), (0, 2), (1, 2)), "anchor": ((0, 1), (0, 2))}
ODD_POSITION = {"odd-one-out": (2, 1, 0), "anchor": (2, 1)}
EPS = 1e-8


class ViewHead(nn.Module):
    """One view's head: optional hidden layers, then ``Linear(-> D)`` without bias."""

    def __init__(self, in_features, n_components, hidden_units=(), dropout=0.0):
        super().__init__()
        layers = []
        width = in_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, n_components, bias=False))
        self.layers = nn.Sequential(*layers)

    def forward(self, rep):
        return self.layers(rep)


class MultiviewEncoder(nn.Module):
    """A shared trunk and ``V`` view heads: objects ``(B, ...)`` to ``(B, V, D)``.

    If the trunk already returns ``(B, V, D)`` (a user module with its own
    view heads, such as the paper's ResNet-18 with one ``layer4`` per view),
    no heads are added.
    """

    def __init__(self, trunk, heads=None):
        super().__init__()
        self.trunk = trunk
        self.heads = None if heads is None else nn.ModuleList(heads)

    @classmethod
    def build(cls, trunk, X_sample, n_views, n_components, head_units, dropout):
        with torch.no_grad():
            was_training = trunk.training
            trunk.eval()
            out = trunk(X_sample)
            trunk.train(was_training)
        if out.ndim == 3:
            if tuple(out.shape[1:]) != (n_views, n_components):
                raise ValueError(
                    "A module returning (batch, views, components) must match "
                    f"n_views={n_views} and n_components={n_components}; got shape "
                    f"{tuple(out.shape)}."
                )
            return cls(trunk)
        if out.ndim != 2:
            raise ValueError(
                "The module must return a (batch, n_features) representation or "
                f"(batch, n_views, n_components) embeddings; got shape "
                f"{tuple(out.shape)}."
            )
        heads = [
            ViewHead(out.shape[1], n_components, tuple(head_units), dropout)
            for _ in range(n_views)
        ]
        return cls(trunk, heads)

    def forward(self, X):
        rep = self.trunk(X)
        if self.heads is None:
            return rep
        return torch.stack([head(rep) for head in self.heads], dim=1)


class FreeEmbedding(nn.Module):
    """Transductive encoder: one free vector per object and view."""

    def __init__(self, n_objects, n_views, n_components, init_scale=0.1):
        super().__init__()
        self.table = nn.Parameter(
            torch.randn(n_objects, n_views, n_components) * init_scale
        )

    def forward(self, index):
        return self.table[index]


def pair_distances(emb, rows, pairs):
    """Unsquared distances ``(B, V, P)`` of the pairs of each row.

    ``emb`` is ``(N, V, D)``; ``rows`` is ``(B, 3)`` of indices into it.
    """
    dists = [
        torch.linalg.vector_norm(emb[rows[:, a]] - emb[rows[:, b]], dim=-1)
        for a, b in pairs
    ]
    return torch.stack(dists, dim=-1)


def view_certainty(log_sim):
    """``H_v = 1 - Ent(p_v) / log P`` from the log-similarities ``(B, V, P)``."""
    n_pairs = log_sim.shape[-1]
    log_p = torch.log_softmax(log_sim, dim=-1)
    entropy = -(log_p.exp() * log_p).sum(dim=-1)
    return 1.0 - entropy / math.log(n_pairs)


class MultiviewTripletModule(nn.Module):
    """Encoder, worker preferences and the multiview triplet likelihood.

    ``forward(rows, objects=None)`` returns ``(S, Q)``: the mixed similarity
    of each pair of the query ``(B, P)`` (the first pair is the answer's) and
    the view attention ``(B, V)``. ``rows`` is ``(B, 4)``:
    ``[worker, i, j, k]``, with ``i, j, k`` indices into ``objects`` (the
    objects of the batch) or, transductively, into the free table. A worker
    ``-1`` is an unknown worker, who gets the mean preference of all.
    Batches come with a leading axis of length 1 (see :class:`TripletBatches`).
    """

    def __init__(self, encoder, n_workers, n_views, query, transductive):
        super().__init__()
        self.encoder = encoder
        self.worker_logits = nn.Parameter(torch.zeros(n_workers, n_views))
        self.worker_logits.no_weight_decay = True  # see DecayExceptWorkers
        self.query = query
        self.pairs = PAIRS[query]
        self.transductive = transductive

    def embed(self, objects):
        """Embeddings ``(n, V, D)`` of objects (indices when transductive)."""
        return self.encoder(objects)

    def mix(self, emb, rows):
        """``(S, Q)`` for ``rows`` ``(B, 4)`` indexing the embeddings ``emb``."""
        log_sim = -pair_distances(emb, rows[:, 1:], self.pairs)
        certainty = view_certainty(log_sim)
        logits = self.worker_logits
        # index -1 (an unknown worker) picks the appended mean preference
        logits = torch.cat([logits, logits.mean(dim=0, keepdim=True)])
        attention = torch.softmax(certainty + logits[rows[:, 0]], dim=-1)
        mixed = (attention.unsqueeze(-1) * log_sim.exp()).sum(dim=1)
        return mixed, attention

    def forward(self, rows, objects=None):
        if rows.ndim == 3:  # one pre-collated batch (TripletBatches)
            rows = rows[0]
            objects = None if objects is None else objects[0]
        if self.transductive:
            emb = self.encoder.table
        else:
            emb = self.encoder(objects)
        return self.mix(emb, rows)

    def loss(self, output, target=None):
        mixed, _ = output
        n_pairs = mixed.shape[1]
        likelihood = (mixed[:, 0] + EPS) / (mixed.sum(dim=1) + n_pairs * EPS)
        return -torch.log(likelihood).mean()


class TripletBatches(torch.utils.data.Dataset):
    """Triplet rows served a whole mini-batch at a time.

    The DataLoader asks ``__getitems__`` for a batch of indices; the rows are
    gathered in one vectorised step (no Python loop over triplets) and, in
    the inductive setting, the objects the batch refers to are gathered once
    and the rows re-indexed into them. The batch is returned as a single
    sample, so the default collate adds a leading axis of length 1, which the
    module removes.
    """

    def __init__(self, rows, objects=None):
        self.rows = torch.as_tensor(rows, dtype=torch.int64)
        self.objects = objects

    def __len__(self):
        return len(self.rows)

    def __getitems__(self, indices):
        rows = self.rows[torch.as_tensor(indices, dtype=torch.int64)]
        target = torch.zeros(len(rows))
        if self.objects is None:
            return [({"rows": rows}, target)]
        used, local = torch.unique(rows[:, 1:], return_inverse=True)
        rows = torch.cat([rows[:, :1], local], dim=1)
        return [({"rows": rows, "objects": self.objects[used]}, target)]

    def __getitem__(self, index):
        ((X, target),) = self.__getitems__([index])
        return {key: value for key, value in X.items()}, target[0]


class DecayExceptWorkers:
    """Optimizer factory: weight decay on the encoder, none on the preferences.

    The paper decays the network's weights and not the worker matrix
    (METHODS.md §B.6). skorch hands the optimizer a single parameter group;
    parameters flagged ``no_weight_decay`` move to a group without decay.
    """

    def __init__(self, optimizer_class):
        self.optimizer_class = optimizer_class

    def __call__(self, param_groups, **kwargs):
        groups = []
        for group in param_groups:
            params = group["params"]
            decay = [p for p in params if not getattr(p, "no_weight_decay", False)]
            free = [p for p in params if getattr(p, "no_weight_decay", False)]
            if decay:
                groups.append({**group, "params": decay})
            if free:
                groups.append({**group, "params": free, "weight_decay": 0.0})
        return self.optimizer_class(groups, **kwargs)
