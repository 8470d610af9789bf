"""Validation of crowd rationales: one mask per item, worker and term.

A rationale is a set of terms (words, attributes) a worker marked on an
item. :func:`check_rationales` accepts them

- per item and worker, as a 3-D ``(n_samples, n_workers, n_terms)`` 0/1
  mask: a ``scipy.sparse.coo_array`` with ``ndim == 3``, a pydata
  ``sparse.COO``, or a dense array;
- per item, as aggregated ``(n_samples, n_terms)`` counts (dense or any
  ``scipy.sparse`` format).

and returns the per-item rationale *target* of the rationale head: the
fraction of the item's describing workers who marked each term (a CSR
matrix, never densified). For 3-D input a worker describes an item when
they marked at least one term on it. 2-D input is taken as that fraction
already (:func:`aggregate_rationales` computes it from 3-D masks; a 0/1
mask is used as it is); a row of counts above 1 is divided by its largest
count, since the number of describing workers is not known. Items whose
row is all zero have no rationale and are left out of the rationale loss.

scikit-learn's cross-validation turns every sparse fit parameter into a CSR
matrix, which a 3-D sparse array cannot be: to route rationales through
GridSearchCV or ``cross_validate``, pass :func:`aggregate_rationales`'s 2-D
fractions (the same model) or a dense 3-D array.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ..utils.validation import _nullable_frame_as_float

__all__ = ["aggregate_rationales", "check_rationales"]


def _coords_3d(R):
    """``(item, worker, term, value)`` of a 3-D rationale mask, or None."""
    if sp.issparse(R) and R.ndim == 3:
        coo = R.tocoo() if hasattr(R, "tocoo") else R
        item, worker, term = (np.asarray(c, dtype=np.int64) for c in coo.coords)
        return item, worker, term, np.asarray(coo.data)
    coords = getattr(R, "coords", None)
    if coords is not None and getattr(R, "ndim", None) == 3 and hasattr(R, "data"):
        coords = np.asarray(coords, dtype=np.int64)  # pydata sparse.COO
        return coords[0], coords[1], coords[2], np.asarray(R.data)
    return None


def _check_values(values, name):
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers (0/1 masks or counts).")
    values = values.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative (0/1 masks or counts).")
    return values


def check_rationales(R, n_samples, *, n_terms=None, name="rationales"):
    """Validate rationales; return the per-item target of the rationale head.

    Parameters
    ----------
    R : array-like or sparse, shape (n_samples, n_workers, n_terms) or \
(n_samples, n_terms)
        Per-worker 0/1 masks (3-D), or per-item fractions of describing
        workers (2-D, values in [0, 1]), or per-item counts (2-D, a row
        above 1 is divided by its largest value).
    n_samples : int
        The number of items (rows of ``X``).
    n_terms : int, default=None
        The expected number of terms (at prediction-time checks).
    name : str, default="rationales"
        Name used in error messages.

    Returns
    -------
    rationales : Bunch
        ``target``: ``csr_array`` of float32 ``(n_samples, n_terms)``, the
        fraction of the item's describing workers who marked each term;
        ``has_rationale``: bool ``(n_samples,)``; ``n_terms``: int;
        ``mean_length``: the mean number of marked terms per describing
        worker, over the items with a rationale (at least 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.rationale import check_rationales
    >>> R = np.zeros((2, 3, 4)); R[0, 0, [1, 2]] = 1; R[0, 1, 1] = 1
    >>> out = check_rationales(R, 2)
    >>> out.target.toarray()
    array([[0. , 1. , 0.5, 0. ],
           [0. , 0. , 0. , 0. ]], dtype=float32)
    >>> out.has_rationale, out.mean_length
    (array([ True, False]), 1.5)
    """
    if R is None:
        raise ValueError(f"{name} is None.")
    coords = _coords_3d(R)
    shape = getattr(R, "shape", None)
    if coords is None and not sp.issparse(R):
        # nullable pandas columns: not an object array rejected as non-numeric
        dense = np.asarray(_nullable_frame_as_float(R))
        shape = dense.shape
        if dense.ndim == 3:
            _check_values(dense, name)
            item, worker, term = np.nonzero(dense)
            coords = (item, worker, term, dense[item, worker, term])
        elif dense.ndim != 2:
            raise ValueError(
                f"{name} must be (n_samples, n_workers, n_terms) masks or "
                f"(n_samples, n_terms) counts; got shape {dense.shape}."
            )
        else:
            R = _check_values(dense, name)
    if coords is not None:  # per worker: the fraction of describing workers
        item, worker, term, values = coords
        marked = _check_values(values, name) > 0
        triples = np.unique(
            np.column_stack([item[marked], worker[marked], term[marked]]), axis=0
        ).reshape(-1, 3)
        n_rows, n_cols = int(shape[0]), int(shape[2])
        counts = sp.csr_array(
            (np.ones(len(triples)), (triples[:, 0], triples[:, 2])),
            shape=(n_rows, n_cols),
        )
        counts.sum_duplicates()
        pairs = np.unique(triples[:, :2], axis=0)
        describers = np.bincount(pairs[:, 0], minlength=n_rows).astype(np.float64)
    else:  # per item counts: each row scaled by its largest count
        if sp.issparse(R) and R.ndim != 2:
            raise ValueError(f"{name} must be 2-D or 3-D; got ndim={R.ndim}.")
        counts = sp.csr_array(R, dtype=np.float64)
        counts.sum_duplicates()
        counts.data = _check_values(np.asarray(counts.data), name)
        describers = None
    counts.eliminate_zeros()
    if counts.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {counts.shape[0]} rows but X has {n_samples} samples."
        )
    if n_terms is not None and counts.shape[1] != n_terms:
        raise ValueError(
            f"{name} has {counts.shape[1]} terms; the model was fitted with {n_terms}."
        )
    row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    if describers is None:  # fractions as they are, counts by their maximum
        describers = np.ones(counts.shape[0])
        np.maximum.at(describers, row_of, counts.data)
    has = np.diff(counts.indptr) > 0
    data = counts.data / np.maximum(describers[row_of], 1.0)
    target = sp.csr_array(
        (data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape
    )
    lengths = np.asarray(target.sum(axis=1)).ravel()
    mean_length = float(lengths[has].mean()) if has.any() else 1.0
    return Bunch(
        target=target,
        has_rationale=has,
        n_terms=int(counts.shape[1]),
        mean_length=max(mean_length, 1.0),
    )


def aggregate_rationales(R):
    """Per-item rationale fractions from per-worker masks.

    ``out[i, t]`` is the fraction of the workers who described item ``i``
    (marked at least one term on it) who marked term ``t``: the target of
    :class:`~skcrowd.rationale.RationaleCoLearner`'s rationale head. Fitting
    on it gives the same model as fitting on ``R``, and, being a 2-D sparse
    matrix, it goes through scikit-learn's cross-validation and metadata
    routing, which a 3-D sparse array does not.

    Parameters
    ----------
    R : array-like or sparse of shape (n_samples, n_workers, n_terms)
        0/1 masks (also accepted: 2-D input, see :func:`check_rationales`).

    Returns
    -------
    fractions : csr_array of float32, shape (n_samples, n_terms)

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.rationale import aggregate_rationales
    >>> R = np.zeros((1, 2, 3)); R[0, 0, 0] = R[0, 1, [0, 2]] = 1
    >>> aggregate_rationales(R).toarray()
    array([[1. , 0. , 0.5]], dtype=float32)
    """
    n_samples = R.shape[0] if hasattr(R, "shape") else len(R)
    return check_rationales(R, n_samples, name="R").target
