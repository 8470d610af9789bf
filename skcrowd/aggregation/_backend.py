"""Array backends of the EM aggregators: numpy (default) and torch.

The EM aggregators (:class:`~skcrowd.aggregation.DawidSkene`,
:class:`~skcrowd.aggregation.OneCoinDawidSkene`,
:class:`~skcrowd.aggregation.GLAD`) write their EM hooks once, against the
small set of operations of a backend object: elementwise math, reductions,
``bincount`` (a scatter-add over the labels) and products with the 0/1
*incidence* matrix of the labels. Three backends implement them:

- :class:`NumpyBackend`: numpy and ``scipy.sparse`` (CSR products, built
  once per fit);
- :class:`TorchBackend`: torch tensors in float64 on any device (CPU or
  CUDA), ``torch.sparse`` CSR products and ``index_add_``, so that EM runs
  on a GPU and gives numpy's result to rounding (float64 throughout);
- :class:`StreamingBackend`: numpy without the precomputed sparse matrices
  (chunked ``bincount``), for the partitions of the Dask path, which see
  each partition once per pass and cannot amortise building them.

The hooks receive the crowd as a :class:`CrowdArrays` (the COO arrays in the
backend's array type, plus the sizes and the backend itself as ``xp``).
Torch is imported only when the torch backend is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CrowdArrays",
    "NumpyBackend",
    "StreamingBackend",
    "TorchBackend",
    "get_backend",
]

_TINY = 1e-300
_INT32_MAX = np.iinfo(np.int32).max
#: labels per chunk of the streaming backend's scatter-adds (bounds the
#: temporaries to a few tens of MB whatever the partition size)
_CHUNK = 1 << 21


def _tall_float(x):
    """A C-contiguous float64 matrix of many short rows (the posteriors)."""
    return (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and x.dtype == np.float64
        and x.flags.c_contiguous
        and x.shape[1] <= 64
        and x.shape[0] >= 4 * x.shape[1]
        and x.shape[1] > 0
    )


@dataclass(frozen=True, eq=False)
class CrowdArrays:
    """The COO view of a crowd in a backend's array type.

    Attributes
    ----------
    item, worker, label : arrays of ints, shape (n_labels,)
        As in :class:`~skcrowd.utils.CrowdMatrix`, in the backend's type.
    n_samples, n_workers, n_classes : int
        Sizes of the crowd (``n_workers`` and ``n_classes`` are the global
        ones, also in a Dask partition).
    xp : backend
        The backend the arrays belong to.
    """

    item: Any
    worker: Any
    label: Any
    n_samples: int
    n_workers: int
    n_classes: int
    xp: Any

    @property
    def n_labels(self):
        return int(self.item.shape[0])


class NumpyBackend:
    """numpy + ``scipy.sparse``: the default backend."""

    name = "numpy"
    device = "cpu"

    # -- conversion ---------------------------------------------------------
    def view(self, crowd):
        """The :class:`CrowdArrays` of a :class:`~skcrowd.utils.CrowdMatrix`."""
        return CrowdArrays(
            item=self.index(crowd.item),
            worker=self.index(crowd.worker),
            label=self.index(crowd.label),
            n_samples=crowd.n_samples,
            n_workers=crowd.n_workers,
            n_classes=crowd.n_classes,
            xp=self,
        )

    def asarray(self, x):
        """A float64 array of this backend."""
        return np.asarray(x, dtype=np.float64)

    def index(self, x):
        """An integer index array of this backend (no copy when possible)."""
        return np.asarray(x)

    def to_numpy(self, x):
        return np.asarray(x)

    def tree_to_numpy(self, tree):
        """Convert the arrays of a dict (e.g. EM parameters) to numpy."""
        return {k: self.to_numpy(v) if self.is_array(v) else v for k, v in tree.items()}

    def tree_asarray(self, tree):
        """Convert the numpy arrays of a dict to this backend."""
        return {
            k: self.asarray(v) if isinstance(v, np.ndarray) else v
            for k, v in tree.items()
        }

    def is_array(self, x):
        return isinstance(x, np.ndarray)

    # -- construction -------------------------------------------------------
    def zeros(self, shape):
        return np.zeros(shape)

    def full(self, shape, value):
        return np.full(shape, float(value))

    def concatenate(self, arrays):
        return np.concatenate(arrays)

    # -- elementwise --------------------------------------------------------
    log = staticmethod(np.log)
    exp = staticmethod(np.exp)
    log1p = staticmethod(np.log1p)
    abs = staticmethod(np.abs)

    def safe_log(self, x):
        """``log(max(x, 1e-300))``: impossible events stay finite."""
        return np.log(np.maximum(x, _TINY))

    def minimum(self, x, value):
        return np.minimum(x, value)

    def maximum(self, x, value):
        return np.maximum(x, value)

    def clip(self, x, low, high):
        return np.clip(x, low, high)

    def where(self, condition, x, y):
        return np.where(condition, x, y)

    # -- reductions ---------------------------------------------------------
    def sum(self, x, axis=None, keepdims=False):
        if _tall_float(x) and axis in (0, 1, -1):
            # numpy reduces a tall, narrow array along either axis several
            # times slower than a loop over its few columns (200,000 x 5:
            # 6.8 ms against 1.3 ms along the rows, 5.0 against 1.4 down the
            # columns), and EM spends most of an iteration in these sums
            # otherwise. No BLAS product with a vector of ones: threaded
            # BLAS on a loaded machine varied from 1.6 to 12 ms.
            if axis == 0:
                out = np.array([x[:, k].sum() for k in range(x.shape[1])])
                return out[None, :] if keepdims else out
            out = x[:, 0].copy()
            for k in range(1, x.shape[1]):
                np.add(out, x[:, k], out=out)
            return out[:, None] if keepdims else out
        return x.sum(axis=axis, keepdims=keepdims)

    def row_max(self, x):
        """Maximum of each row of a 2-D array, shape ``(n, 1)``."""
        if _tall_float(x):
            # column by column: 10x faster than x.max(axis=1) when K is small
            top = x[:, 0].copy()
            for k in range(1, x.shape[1]):
                np.maximum(top, x[:, k], out=top)
            return top[:, None]
        return x.max(axis=1, keepdims=True)

    def dot(self, x, y):
        return x @ y

    def swap12(self, x):
        """Swap the last two axes of a 3-D array."""
        return np.swapaxes(x, 1, 2)

    def argmax(self, x):
        return np.argmax(x, axis=1)

    def flat_index(self, a, k, b, size):
        """``a * k + b`` in an integer type that holds ``size``."""
        if size > _INT32_MAX:
            a = a.astype(np.int64)
        return a * k + b

    def bincount(self, index, weights=None, minlength=0):
        """Float64 sums of ``weights`` (or counts) per value of ``index``.

        Chunked over the labels: ``np.bincount`` converts its index to
        int64, a temporary of 8 bytes per label; here each chunk adds into
        the range of values it spans (a contiguous range of items when the
        labels are grouped by item).
        """
        n = len(index)
        if n <= _CHUNK:
            out = np.bincount(index, weights=weights, minlength=minlength)
            return out.astype(np.float64, copy=False)
        out = np.zeros(max(int(minlength), int(index.max()) + 1))
        for start in range(0, n, _CHUNK):
            part = index[start : start + _CHUNK]
            low, high = int(part.min()), int(part.max())
            w = None if weights is None else weights[start : start + _CHUNK]
            shifted = part - low if low else part
            out[low : high + 1] += np.bincount(
                shifted, weights=w, minlength=high - low + 1
            )
        return out

    def incidence(self, rows, cols, shape):
        """The 0/1 matrix ``M[rows[j], cols[j]] = 1`` (one entry per label)."""
        return _ScipyIncidence(rows, cols, shape)

    # -- EM helpers ---------------------------------------------------------
    def normalize_log(self, joint):
        """Normalise per-item log joints: ``(proba, log evidence)``."""
        # plain numpy (not scipy's logsumexp, several times slower at large K)
        top = self.row_max(joint)
        proba = np.subtract(joint, top)  # one buffer, reused in place
        np.exp(proba, out=proba)
        total = self.sum(proba, axis=1, keepdims=True)
        proba /= total
        return proba, (top + np.log(total)).ravel()

    def vote_proba(self, crowd):
        """Vote fractions per item (uniform for an item without labels)."""
        k = crowd.n_classes
        cell = self.flat_index(crowd.item, k, crowd.label, crowd.n_samples * k)
        votes = self.bincount(cell, minlength=crowd.n_samples * k)
        votes = votes.reshape(crowd.n_samples, k)
        total = self.sum(votes, axis=1, keepdims=True)
        return self.where(
            total > 0, votes / self.where(total > 0, total, 1.0), 1.0 / k
        )


class StreamingBackend(NumpyBackend):
    """numpy without precomputed sparse matrices (the Dask partitions' backend).

    Products with the incidence matrix are chunked ``bincount`` calls: a
    partition is seen once per pass, so building a CSR matrix (a counting
    sort of its labels) would cost more than the products themselves.
    """

    name = "streaming"

    def incidence(self, rows, cols, shape):
        return _BincountIncidence(rows, cols, shape)


class _ScipyIncidence:
    """Products with ``M`` and ``M.T`` from one CSR matrix of ``M.T``, built once.

    ``M.T @ x`` is a CSR product and ``M @ x`` the CSC product of the same
    arrays (``M.T.T``, no copy): each reads or writes the small operand (one
    row per worker and label) item by item, while the CSR product with
    ``M`` gathered rows of the large posterior at random (at 1M labels and
    K=5: 5 ms against 7 to 26 ms, worst on a loaded machine).

    Memory: 12 bytes per label (int32 column indices and float64 ones). It
    is built with int8 data, so that no float64 temporary of the labels'
    size exists beside it.
    """

    def __init__(self, rows, cols, shape):
        shape_t = shape[::-1]
        pattern = sp.csr_array(
            (np.ones(len(rows), dtype=np.int8), (cols, rows)), shape=shape_t
        )
        if pattern.nnz != len(rows):  # repeated cells (not from a crowd): counts
            self.transposed = sp.csr_array(
                (np.ones(len(rows)), (cols, rows)), shape=shape_t
            )
            return
        self.transposed = sp.csr_array(
            (np.ones(pattern.nnz), pattern.indices, pattern.indptr),
            shape=shape_t,
            copy=False,
        )

    def dot(self, x):
        """``M @ x``."""
        return self.transposed.T @ x

    def tdot(self, x):
        """``M.T @ x``."""
        return self.transposed @ x


class _BincountIncidence:
    """``M @ x`` and ``M.T @ x`` as chunked scatter-adds over the labels."""

    def __init__(self, rows, cols, shape):
        self.rows, self.cols, self.shape = rows, cols, shape

    @staticmethod
    def _push(dst, src, x, n_out):
        """``out[dst[j]] += x[src[j]]`` for every label ``j``."""
        columns = np.ascontiguousarray(np.asarray(x).T)  # (K, n_src)
        out = np.zeros((columns.shape[0], n_out))
        for start in range(0, len(dst), _CHUNK):
            d = dst[start : start + _CHUNK].astype(np.intp)
            s = src[start : start + _CHUNK]
            for k, column in enumerate(columns):
                out[k] += np.bincount(d, weights=column.take(s), minlength=n_out)
        return np.ascontiguousarray(out.T)

    def dot(self, x):
        return self._push(self.rows, self.cols, x, self.shape[0])

    def tdot(self, x):
        return self._push(self.cols, self.rows, x, self.shape[1])


class TorchBackend(NumpyBackend):
    """torch tensors in float64 on ``device`` (``"cpu"``, ``"cuda"``, ...).

    Index arrays keep their integer type (int32 or int64; torch's
    ``index_add_`` and sparse CSR accept both); on the CPU they share memory
    with the numpy arrays of the validated crowd.
    """

    name = "torch"

    def __init__(self, device="cpu"):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was asked for, but CUDA is not available; "
                "use device='cpu' (a fitted aggregator moved to a machine "
                "without CUDA: set_params(device='cpu'), its fit is kept)."
            )

    # -- conversion ---------------------------------------------------------
    def asarray(self, x):
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=torch.float64)
        return torch.as_tensor(
            np.asarray(x, dtype=np.float64), device=self.device
        )

    def index(self, x):
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(self.device)
        x = np.asarray(x)
        if x.dtype.kind != "i" or x.dtype.itemsize not in (4, 8):
            x = x.astype(np.int64)
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    def to_numpy(self, x):
        if isinstance(x, self.torch.Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)

    def is_array(self, x):
        return isinstance(x, self.torch.Tensor | np.ndarray)

    # -- construction -------------------------------------------------------
    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.torch.float64, device=self.device)

    def full(self, shape, value):
        return self.torch.full(
            shape, float(value), dtype=self.torch.float64, device=self.device
        )

    def concatenate(self, arrays):
        return self.torch.cat(list(arrays))

    # -- elementwise --------------------------------------------------------
    def log(self, x):
        return self.torch.log(x)

    def exp(self, x):
        return self.torch.exp(x)

    def log1p(self, x):
        return self.torch.log1p(x)

    def abs(self, x):
        return self.torch.abs(x)

    def safe_log(self, x):
        return self.torch.log(self.torch.clamp(x, min=_TINY))

    def minimum(self, x, value):
        return self.torch.clamp(x, max=value)

    def maximum(self, x, value):
        return self.torch.clamp(x, min=value)

    def clip(self, x, low, high):
        return self.torch.clamp(x, min=low, max=high)

    def where(self, condition, x, y):
        return self.torch.where(condition, x, y)

    # -- reductions ---------------------------------------------------------
    def sum(self, x, axis=None, keepdims=False):
        if axis is None:
            return x.sum()
        return x.sum(dim=axis, keepdim=keepdims)

    def dot(self, x, y):
        return x @ y

    def swap12(self, x):
        return x.transpose(1, 2)

    def argmax(self, x):
        return self.torch.argmax(x, dim=1)

    def flat_index(self, a, k, b, size):
        if size > _INT32_MAX:
            a = a.to(self.torch.int64)
        return a * k + b

    def bincount(self, index, weights=None, minlength=0):
        torch = self.torch
        out = torch.zeros(int(minlength), dtype=torch.float64, device=self.device)
        if weights is None:
            weights = torch.ones(
                index.shape[0], dtype=torch.float64, device=self.device
            )
        return out.index_add_(0, index, weights.to(torch.float64))

    def incidence(self, rows, cols, shape):
        return _TorchIncidence(self, rows, cols, shape)

    # -- EM helpers ---------------------------------------------------------
    def normalize_log(self, joint):
        torch = self.torch
        top = joint.amax(dim=1, keepdim=True)
        proba = torch.exp(joint - top)
        total = proba.sum(dim=1, keepdim=True)
        proba /= total
        return proba, (top + torch.log(total)).ravel()


class _TorchIncidence:
    """``M`` and ``M.T`` as torch sparse CSR tensors on the backend's device.

    They are built on the host by scipy (a counting sort) and moved to the
    device once; on the CPU the tensors share scipy's buffers.
    """

    def __init__(self, xp, rows, cols, shape):
        import warnings

        torch = xp.torch
        host = _ScipyIncidence(xp.to_numpy(rows), xp.to_numpy(cols), shape)

        def to_torch(m):
            with warnings.catch_warnings():  # "CSR support is in beta state"
                warnings.simplefilter("ignore", UserWarning)
                return torch.sparse_csr_tensor(
                    torch.from_numpy(m.indptr),
                    torch.from_numpy(m.indices),
                    torch.from_numpy(m.data),
                    size=m.shape,
                    check_invariants=False,
                ).to(xp.device)

        self.matrix = to_torch(host.transposed.T.tocsr())
        self.transposed = to_torch(host.transposed)

    def dot(self, x):
        return self.matrix @ x

    def tdot(self, x):
        return self.transposed @ x


_NUMPY = NumpyBackend()


def get_backend(backend="numpy", device="cpu"):
    """The backend object for an aggregator's ``backend`` and ``device``.

    Parameters
    ----------
    backend : {"numpy", "torch"}, default="numpy"
        ``"numpy"`` runs on the CPU with numpy and scipy; ``"torch"`` runs
        with torch in float64 on ``device``.
    device : str or torch.device, default="cpu"
        Where the torch backend computes (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...). The numpy backend accepts only ``"cpu"`` (or
        ``None``).

    Returns
    -------
    backend : NumpyBackend or TorchBackend

    Examples
    --------
    >>> from skcrowd.aggregation._backend import get_backend
    >>> get_backend("numpy").name
    'numpy'
    """
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(
                f"device={device!r} needs backend='torch'; the numpy backend "
                "runs on the CPU."
            )
        return _NUMPY
    if backend == "torch":
        return TorchBackend("cpu" if device is None else device)
    raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}.")
