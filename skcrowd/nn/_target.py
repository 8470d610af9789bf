"""The crowd as a training target: padded (worker, label) pairs per item.

A neural net sees the crowd as an ``(n_samples, 2 * L)`` int64 array
``[workers | labels]``, ``L`` the most labels any item has, padded with
``-1``. It is built from the COO view in one vectorised pass, so a sparse
crowd is never densified into ``n_samples x n_workers``, and skorch slices
it by rows like any target.
"""

from __future__ import annotations

import numpy as np

__all__ = ["padded_crowd_target"]


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
    order = np.lexsort((crowd.worker, crowd.item))
    item = crowd.item[order]
    counts = np.bincount(item, minlength=crowd.n_samples)
    width = max(int(counts.max()) if counts.size else 0, 1)
    starts = np.cumsum(counts) - counts
    slot = np.arange(len(item)) - starts[item]
    workers = np.full((crowd.n_samples, width), -1, dtype=np.int64)
    labels = np.full((crowd.n_samples, width), -1, dtype=np.int64)
    workers[item, slot] = crowd.worker[order]
    labels[item, slot] = crowd.label[order]
    return np.concatenate([workers, labels], axis=1)
