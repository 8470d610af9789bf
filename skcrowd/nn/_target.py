"""The crowd as a training target: padded (worker, label) pairs per item.

A neural net sees the crowd as an ``(n_samples, 2 * L)`` int64 array
``[workers | labels]``, ``L`` the most labels any item has, padded with
``-1``. It is built from the COO view in one vectorised pass, so a sparse
crowd is never densified into ``n_samples x n_workers``, and skorch slices
it by rows like any target.

When that padding is mostly waste (a few items labelled by many workers),
:func:`crowd_training_target` returns a :class:`RaggedCrowdTarget`
instead: the pairs sorted by item, padded per selection of rows, so each
mini-batch is only as wide as its own widest item.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RaggedCrowdTarget",
    "crowd_training_target",
    "global_padding_is_wasteful",
    "padded_crowd_target",
]


def padded_crowd_target(crowd):
    """``[workers | labels]`` per item, ``-1``-padded, from a ``CrowdMatrix``.

    Parameters
    ----------
    crowd : CrowdMatrix
        A validated crowd (see :func:`skcrowd.utils.check_crowd_matrix`).

    Returns
    -------
    target : ndarray of int64, shape (n_samples, 2 * max_labels_per_item)

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import check_crowd_matrix
    >>> from skcrowd.nn import padded_crowd_target
    >>> padded_crowd_target(check_crowd_matrix(np.array([[0, np.nan], [1, 1]])))
    array([[ 0, -1,  0, -1],
           [ 0,  1,  1,  1]])
    """
    # the per-row padding of RaggedCrowdTarget over all rows, less its index
    return np.ascontiguousarray(RaggedCrowdTarget.from_crowd(crowd)[:][:, :-1])


#: the training target is padded per batch (:class:`RaggedCrowdTarget`) only
#: when the global padding would hold more than ``RAGGED_MIN_WASTE`` times the
#: cells of the tight representation ...
RAGGED_MIN_WASTE = 4
#: ... and more than ``RAGGED_MIN_CELLS`` cells (128 MiB of int64): every
#: smaller or evenly labelled crowd keeps the one global-padded array, so
#: its fits are those of earlier releases, bit for bit
RAGGED_MIN_CELLS = 2**24


def _sorted_pairs(crowd):
    order = np.lexsort((crowd.worker, crowd.item))
    counts = np.bincount(crowd.item[order], minlength=crowd.n_samples)
    return (
        counts,
        np.asarray(crowd.worker[order], dtype=np.int64),
        np.asarray(crowd.label[order], dtype=np.int64),
    )


def global_padding_is_wasteful(crowd):
    """Whether the global-padded target would be too large for its content.

    True when ``n_samples x 2 x max_labels_per_item`` exceeds both
    ``RAGGED_MIN_WASTE`` times the tight size (``2 x n_labels + n_samples``
    cells) and ``RAGGED_MIN_CELLS``
    (:attr:`RaggedCrowdTarget.padding_is_wasteful`).
    """
    return RaggedCrowdTarget.from_crowd(crowd).padding_is_wasteful


class RaggedCrowdTarget:
    """A crowd target ``[workers | labels | index]`` padded per row selection.

    Holds the crowd's (worker, label) pairs sorted by item (CSR-like
    ``offsets``) and each row's item index; ``target[rows]`` (an int, a
    slice, a list or array of ints, or a boolean mask) returns the int64
    array ``[workers | labels | index]`` of those rows, ``-1``-padded to the
    most labels any of THOSE rows has. A batch of a crowd whose few gold
    items were labelled by every worker is then as wide as its own widest
    item, not as the widest item of the crowd. It stands where skorch, its
    ``ValidSplit`` and :func:`skcrowd.nn._net.batch_loader` expect a
    numpy target (``len``, ``shape``, ``ndim``, ``dtype``, row indexing).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import check_crowd_matrix
    >>> from skcrowd.nn._target import RaggedCrowdTarget
    >>> crowd = check_crowd_matrix(np.array([[0, np.nan, 1], [1, 1, 1]]))
    >>> target = RaggedCrowdTarget.from_crowd(crowd)
    >>> target[[0]]
    array([[0, 2, 0, 1, 0]])
    >>> target[:]
    array([[ 0,  2, -1,  0,  1, -1,  0],
           [ 0,  1,  2,  1,  1,  1,  1]])
    """

    ndim = 2
    dtype = np.dtype(np.int64)

    def __init__(self, offsets, worker, label, index):
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.worker = np.asarray(worker, dtype=np.int64)
        self.label = np.asarray(label, dtype=np.int64)
        self.index = np.asarray(index, dtype=np.int64)
        counts = np.diff(self.offsets)
        self.max_width = max(int(counts.max()) if counts.size else 0, 1)

    @classmethod
    def from_crowd(cls, crowd, index=None):
        """From a ``CrowdMatrix``; ``index`` defaults to ``arange(n_samples)``."""
        counts, worker, label = _sorted_pairs(crowd)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        if index is None:
            index = np.arange(crowd.n_samples, dtype=np.int64)
        return cls(offsets, worker, label, index)

    def __len__(self):
        return len(self.index)

    @property
    def shape(self):
        """The shape of the global-padded target this one stands for."""
        return (len(self), 2 * self.max_width + 1)

    @property
    def padding_is_wasteful(self):
        """Whether :attr:`shape`, padded globally, would be mostly padding:
        more than ``RAGGED_MIN_WASTE`` times the tight size (``2 x n_labels
        + n_samples`` cells) and more than ``RAGGED_MIN_CELLS`` cells."""
        n = len(self)
        if n == 0:
            return False
        padded = n * self.shape[1]
        tight = 2 * len(self.worker) + n
        return padded > RAGGED_MIN_WASTE * tight and padded > RAGGED_MIN_CELLS

    @property
    def nbytes(self):
        """Bytes held (the arrays), not those of :attr:`shape`."""
        arrays = (self.offsets, self.worker, self.label, self.index)
        return sum(a.nbytes for a in arrays)

    def _rows(self, rows):
        if isinstance(rows, tuple):
            # sklearn's _safe_indexing (skorch's Dataset for a non-array
            # index) asks for target[rows, ...]; all columns only
            if len(rows) != 2 or rows[1] not in (Ellipsis, slice(None)):
                raise IndexError("a RaggedCrowdTarget is indexed by rows only")
            rows = rows[0]
        if isinstance(rows, (int, np.integer)):
            return None
        if isinstance(rows, slice):
            return np.arange(len(self), dtype=np.int64)[rows]
        rows = np.asarray(rows)
        if rows.dtype == bool:
            return np.flatnonzero(rows)
        return rows.astype(np.int64, copy=False).reshape(-1)

    def __getitem__(self, rows):
        flat = self._rows(rows)
        if flat is None:  # one row: 1-D, as a numpy target's row
            row = rows[0] if isinstance(rows, tuple) else rows
            return self[np.array([row])][0]
        n = len(self)
        flat = np.where(flat < 0, flat + n, flat)
        if flat.size and (flat.min() < 0 or flat.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        start = self.offsets[flat]
        counts = self.offsets[flat + 1] - start
        width = max(int(counts.max()) if counts.size else 0, 1)
        out = np.full((len(flat), 2 * width + 1), -1, dtype=np.int64)
        row = np.repeat(np.arange(len(flat)), counts)
        first = np.cumsum(counts) - counts
        slot = np.arange(len(row)) - np.repeat(first, counts)
        source = np.repeat(start, counts) + slot
        out[row, slot] = self.worker[source]
        out[row, width + slot] = self.label[source]
        out[:, -1] = self.index[flat]
        return out

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def __repr__(self):
        return (
            f"RaggedCrowdTarget(n_samples={len(self)}, n_labels={len(self.worker)}, "
            f"max_width={self.max_width})"
        )


def crowd_training_target(crowd, allow_ragged=True):
    """The training target ``[workers | labels | index]`` of a crowd.

    The global-padded int64 array (``padded_crowd_target`` and the item
    index) unless its padding is wasteful
    (:func:`global_padding_is_wasteful`) and ``allow_ragged``: then a
    :class:`RaggedCrowdTarget`, padded per batch.
    """
    target = RaggedCrowdTarget.from_crowd(crowd)
    if allow_ragged and target.padding_is_wasteful:
        return target
    return target[:]
