"""The samplers of BBSN: category-frequency samplers and document pairs.

Numpy only (no torch). BBSN (Zhao, Li & Fukumoto, ICONIP 2022) builds each
training pair from two samplers over the category frequencies
:math:`N_c` (the number of training documents with label ``c``):

- the *reversed* sampler (BBN's re-balancing sampler, Zhou et al., CVPR
  2020) draws a category with :math:`P(c) \\propto N_{max} / N_c`, then a
  random document of that category;
- the *uniform* sampler, either ``"instance"`` (the RCV1 variant): a
  category with :math:`P(c) \\propto N_c`, then a random document of it,
  which is roughly instance-level sampling; or ``"sequential"`` (the AAPD
  variant): the i-th pair takes the i-th document, one pass over the
  training documents per epoch.

A pair ``(a, b)`` is trained against the *intersection* of its label
vectors (``y_a * y_b``, both documents have the label) under the *union*
mask (``y_a + y_b - y_a * y_b``, either has it). For hard labels these are
the logical and/or; soft labels give their probabilistic versions.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "category_documents",
    "category_weights",
    "sample_documents",
    "draw_pairs",
    "pair_targets",
]

#: the uniform-sampler variants (RCV1: by category frequency; AAPD: a pass)
UNIFORM_SAMPLERS = ("instance", "sequential")


def category_documents(Y, threshold=0.5):
    """Documents of each category: ``(flat document indices, offsets)``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        Label matrix (soft labels count where ``Y >= threshold``).
    threshold : float, default=0.5

    Returns
    -------
    docs : ndarray of int64
        The documents of category 0, then of category 1, ...
    offsets : ndarray of shape (n_labels + 1,)
        Category ``c``'s documents are ``docs[offsets[c]:offsets[c + 1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> docs, offsets = category_documents(np.array([[1, 0], [1, 1], [0, 0]]))
    >>> docs.tolist(), offsets.tolist()
    ([0, 1, 1], [0, 2, 3])
    """
    member = np.asarray(Y) >= threshold
    rows, cols = np.nonzero(member.T)  # category-major order
    counts = np.bincount(rows, minlength=member.shape[1])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return cols.astype(np.int64), offsets


def category_weights(counts, kind):
    """Sampling probability of each category from its document count.

    Parameters
    ----------
    counts : array-like of shape (n_labels,)
        :math:`N_c`, the documents per category.
    kind : {"reversed", "uniform"}
        ``"reversed"``: :math:`P(c) \\propto N_{max}/N_c`; ``"uniform"``:
        :math:`P(c) \\propto N_c`. Categories without documents get 0.

    Returns
    -------
    p : ndarray of shape (n_labels,)
        Probabilities summing to 1.

    Examples
    --------
    >>> category_weights([1, 3, 0], "reversed").round(3).tolist()
    [0.75, 0.25, 0.0]
    >>> category_weights([1, 3, 0], "uniform").tolist()
    [0.25, 0.75, 0.0]
    """
    counts = np.asarray(counts, dtype=float)
    present = counts > 0
    if not present.any():
        raise ValueError("No category has a training document to sample from.")
    w = np.zeros_like(counts)
    if kind == "reversed":
        w[present] = counts.max() / counts[present]
    elif kind == "uniform":
        w[present] = counts[present]
    else:
        raise ValueError(f"kind must be 'reversed' or 'uniform'; got {kind!r}.")
    return w / w.sum()


def sample_documents(docs, offsets, p, size, rng):
    """Draw ``size`` documents: a category from ``p``, then one of its documents."""
    cats = rng.choice(len(p), size=size, p=p)
    start, n = offsets[cats], offsets[cats + 1] - offsets[cats]
    return docs[start + (rng.random(size) * n).astype(np.int64)]


def draw_pairs(Y, n_pairs, uniform, rng, threshold=0.5):
    """One draw of BBSN pairs: (reversed document, uniform document).

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        Training labels.
    n_pairs : int
        Number of pairs (BBSN: the number of training documents).
    uniform : {"instance", "sequential"}
        The second document's sampler (see the module docstring).
    rng : numpy.random.Generator
    threshold : float, default=0.5
        Soft labels count as the category's documents from this value.

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2)
        Document indices ``(reversed, uniform)``.

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    >>> pairs = draw_pairs(Y, 4000, "instance", np.random.default_rng(0))
    >>> share = float(np.mean(pairs[:, 0] == 3))  # rare category: P = 3/4
    >>> abs(share - 0.75) < 0.03
    True
    """
    docs, offsets = category_documents(Y, threshold)
    counts = np.diff(offsets)
    first = sample_documents(
        docs, offsets, category_weights(counts, "reversed"), n_pairs, rng
    )
    if uniform == "instance":
        second = sample_documents(
            docs, offsets, category_weights(counts, "uniform"), n_pairs, rng
        )
    elif uniform == "sequential":
        second = np.arange(n_pairs, dtype=np.int64) % len(Y)
    else:
        raise ValueError(f"uniform must be one of {UNIFORM_SAMPLERS}; got {uniform!r}.")
    return np.column_stack([first, second])


def pair_targets(Ya, Yb):
    """Intersection (target) and union (mask) of two label matrices.

    Examples
    --------
    >>> import numpy as np
    >>> g, m = pair_targets(np.array([[1, 1, 0]]), np.array([[1, 0, 0]]))
    >>> g.tolist(), m.tolist()
    ([[1, 0, 0]], [[1, 1, 0]])
    """
    inter = Ya * Yb
    return inter, Ya + Yb - inter
