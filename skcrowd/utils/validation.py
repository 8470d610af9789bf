"""Validation of crowd label matrices: the one place where a crowd is checked.

Every estimator in skcrowd calls :func:`check_crowd_matrix` on its crowd
input and works from the :class:`CrowdMatrix` it returns; nothing else
re-implements missing-label detection, label encoding or the sparse view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

__all__ = ["CrowdMatrix", "check_crowd_matrix", "is_missing_label"]


def _is_scalar_nan(x):
    # x != x, not np.isnan: Python ints beyond int64 must not raise
    return isinstance(x, Real) and not isinstance(x, bool) and bool(x != x)


def is_missing_label(values, missing_label=np.nan):
    """Boolean mask of the missing entries of an array of labels.

    ``NaN``, ``None`` and ``pandas.NA`` are always missing; so is every
    entry equal to ``missing_label``.

    Parameters
    ----------
    values : ndarray
        Labels of any dtype.
    missing_label : scalar, default=np.nan
        The marker of a missing label.

    Returns
    -------
    mask : ndarray of bool, same shape as ``values``

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import is_missing_label
    >>> is_missing_label(np.array(["a", None, "b"], dtype=object), missing_label="b")
    array([False,  True,  True])
    """
    values = np.asarray(values)
    if values.dtype.kind == "f":
        mask = np.isnan(values)
    elif values.dtype.kind == "O":
        mask = np.fromiter(
            (_object_is_missing(v) for v in values.ravel()),
            dtype=bool,
            count=values.size,
        ).reshape(values.shape)
    else:
        mask = np.zeros(values.shape, dtype=bool)
    if _object_is_missing(missing_label):
        return mask  # None, NaN, pandas.NA: already covered above
    if values.dtype.kind in "iufb" and not isinstance(missing_label, Real):
        return mask  # a string marker can't occur in a numeric array
    if values.dtype.kind in "US" and not isinstance(missing_label, str):
        return mask
    if values.dtype.kind == "O":
        # compare only the present values: ``pandas.NA == x`` is NA, not a bool
        present = ~mask
        with np.errstate(invalid="ignore"):
            equal = np.asarray(values[present] == missing_label)
        if equal.shape == (int(present.sum()),):
            mask[present] = equal.astype(bool)
        return mask
    with np.errstate(invalid="ignore"):
        equal = np.asarray(values == missing_label)
    if equal.shape == values.shape:
        mask |= equal.astype(bool)
    return mask


def _object_is_missing(v):
    if v is None or _is_scalar_nan(v):
        return True
    # pandas.NA (and NaT) without importing pandas: they refuse bool()
    try:
        return bool(v != v)
    except TypeError:
        return True


@dataclass(frozen=True, eq=False)
class CrowdMatrix:
    """A validated, encoded crowd: the COO view of its observed labels.

    Made by :func:`check_crowd_matrix`, the one validator of crowds; every
    estimator works from it rather than from the raw input. One entry of
    ``item``, ``worker`` and ``label`` per observed label: nothing of size
    ``n_samples x n_workers`` is stored for a sparse crowd.

    Parameters
    ----------
    item, worker, label : ndarray of int64 (or int32), shape (n_labels,)
        One entry per observed label: the item (row), the worker (column)
        and the label's code, an index into ``classes``. They are int32
        when the crowd was validated with ``compact=True`` and its sizes fit.
    classes : ndarray, shape (n_classes,)
        The sorted set of observed labels (or the classes that were given).
    n_samples, n_workers : int
        Shape of the crowd matrix.
    sparse_input : bool, default=False
        Whether the crowd was given as a ``scipy.sparse`` matrix.
    codes : ndarray of int64, shape (n_samples, n_workers), default=None
        The dense encoded matrix (``-1`` where missing) when the input was
        dense; ``None`` for sparse input, which is never densified
        implicitly (see :meth:`dense_codes`).

    Attributes
    ----------
    n_classes : int
        Number of classes, ``len(classes)``.
    n_labels : int
        Number of observed labels, ``len(label)``.

    See Also
    --------
    check_crowd_matrix : Validate a crowd and return its CrowdMatrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import check_crowd_matrix
    >>> Y = np.array([["cat", "dog", None],
    ...               [None, "dog", "dog"]], dtype=object)
    >>> crowd = check_crowd_matrix(Y)
    >>> crowd.classes, crowd.n_samples, crowd.n_workers, crowd.n_labels
    (array(['cat', 'dog'], dtype=object), 2, 3, 4)
    >>> crowd.item, crowd.worker, crowd.label
    (array([0, 0, 1, 1]), array([0, 1, 1, 2]), array([0, 1, 1, 1]))
    >>> crowd.dense_codes()
    array([[ 0,  1, -1],
           [-1,  1,  1]])
    >>> crowd.vote_counts().toarray()  # items x classes
    array([[1., 1.],
           [0., 2.]])
    >>> crowd.labels_per_worker()
    array([1, 2, 1])
    >>> crowd.subset([1]).dense_codes()
    array([[-1,  1,  1]])
    """

    item: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    classes: np.ndarray
    n_samples: int
    n_workers: int
    sparse_input: bool = False
    codes: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def n_labels(self):
        return len(self.label)

    def dense_codes(self):
        """The dense ``(n_samples, n_workers)`` code matrix, ``-1`` where missing.

        For sparse input this allocates the dense matrix: call it only when
        the crowd is known to be small.
        """
        if self.codes is not None:
            return self.codes
        codes = np.full((self.n_samples, self.n_workers), -1, dtype=np.int64)
        codes[self.item, self.worker] = self.label
        return codes

    def labels_per_item(self):
        """Number of observed labels of each item."""
        return np.bincount(self.item, minlength=self.n_samples)

    def labels_per_worker(self):
        """Number of observed labels of each worker."""
        return np.bincount(self.worker, minlength=self.n_workers)

    def vote_counts(self, weights=None):
        """Sparse ``(n_samples, n_classes)`` matrix of (weighted) votes."""
        data = np.ones(self.n_labels) if weights is None else np.asarray(weights)
        return sp.csr_array(
            (data, (self.item, self.label)),
            shape=(self.n_samples, self.n_classes),
        )

    def subset(self, rows):
        """The crowd restricted to the items ``rows``, renumbered.

        ``rows`` are integer indices (negative ones count from the end,
        repeats repeat the item) or a boolean mask of length ``n_samples``;
        like numpy indexing, anything else raises ``IndexError``.
        """
        rows = np.asarray(rows)
        n = self.n_samples
        if rows.ndim != 1:
            raise IndexError(f"rows must be 1-D; got shape {rows.shape}.")
        if rows.dtype == bool:
            if len(rows) != n:
                raise IndexError(f"boolean mask of length {len(rows)} for {n} items.")
            rows = np.flatnonzero(rows)
        elif rows.size == 0:
            rows = rows.astype(np.int64)
        elif rows.dtype.kind not in "iu":
            raise IndexError(
                f"rows must be integer indices or a boolean mask; got {rows.dtype}."
            )
        else:
            rows = rows.astype(np.int64)
            bad = (rows < -n) | (rows >= n)
            if bad.any():
                raise IndexError(
                    f"rows {rows[bad][:5].tolist()} out of bounds for {n} items."
                )
            rows = np.where(rows < 0, rows + n, rows)
        order = np.argsort(self.item, kind="stable")
        sorted_item = self.item[order]
        starts = np.searchsorted(sorted_item, rows, side="left")
        lengths = np.searchsorted(sorted_item, rows, side="right") - starts
        offsets = np.cumsum(lengths) - lengths
        idx = order[np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())]
        return CrowdMatrix(
            item=np.repeat(np.arange(len(rows), dtype=self.item.dtype), lengths),
            worker=self.worker[idx],
            label=self.label[idx],
            classes=self.classes,
            n_samples=len(rows),
            n_workers=self.n_workers,
            sparse_input=self.sparse_input,
            codes=None if self.codes is None else self.codes[rows],
        )


def _check_label_type(observed):
    """Raise the one ValueError for labels that can't be class labels."""
    from sklearn.utils.multiclass import type_of_target

    has_str = False
    if observed.dtype.kind == "O":
        kinds = {type(v) for v in observed}
        has_str = any(issubclass(k, str) for k in kinds)
        has_other = any(not issubclass(k, str) for k in kinds)
        if has_str and has_other:
            raise ValueError(
                "Crowd labels mix strings and numbers "
                f"({sorted(k.__name__ for k in kinds)}); use one label type."
            )
    if observed.dtype.kind == "S":
        raise ValueError("Crowd labels are bytes; decode them to str (or use ints).")
    if observed.dtype.kind == "c" or (
        observed.dtype.kind == "O"
        and any(issubclass(k, (complex, np.complexfloating)) for k in kinds)
    ):
        raise ValueError(
            "Complex data not supported: crowd labels must be ints, strings or "
            "integral floats, not complex numbers."
        )
    if observed.dtype.kind == "f" or (observed.dtype.kind == "O" and not has_str):
        try:
            as_float = observed.astype(np.float64, copy=False)
        except (TypeError, ValueError, OverflowError):
            as_float = None
        if as_float is not None and not np.isfinite(as_float).all():
            raise ValueError(
                "Crowd labels contain infinity; labels must be finite class labels."
            )
        if observed.dtype.kind == "f" and np.any(np.abs(observed) >= 2.0**63):
            big = observed[np.abs(observed) >= 2.0**63][0]
            raise ValueError(
                "Unknown label type: crowd labels hold floats too large to be "
                f"class labels (e.g. {float(big)!r}, beyond the int64 range); use "
                "int or string labels."
            )
    target_type = type_of_target(observed, input_name="Y")
    if target_type not in ("binary", "multiclass"):
        if target_type == "unknown" and observed.dtype.kind == "O":
            names = sorted({type(v).__name__ for v in observed})
            huge = any(
                isinstance(v, int) and not -(2**63) <= v < 2**64 for v in observed
            )
            detail = " including integers beyond the int64/uint64 range" if huge else ""
            raise ValueError(
                f"Unknown label type: 'unknown'. Crowd labels must be ints, strings "
                f"or integral floats; got values of type {names}{detail}."
            )
        raise ValueError(
            f"Unknown label type: {target_type!r}. Crowd labels must be class "
            "labels (ints, strings or integral floats), not continuous values."
        )


def check_crowd_matrix(
    Y,
    *,
    missing_label=np.nan,
    classes=None,
    n_samples=None,
    input_name="Y",
    compact=False,
):
    """Validate and encode a crowd label matrix.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_workers) or (n_samples,), or sparse
        ``Y[i, r]`` is worker ``r``'s label of item ``i``. Labels may be ints,
        integral floats, bools or strings. Missing labels are ``NaN``,
        ``None``, ``pandas.NA`` or equal to ``missing_label``. A 1-D ``Y`` is
        a crowd of one worker. For a ``scipy.sparse`` matrix the *stored*
        entries are the observed labels (explicit zeros included) and the
        cells that are not stored are missing; the matrix is never
        densified, and a cell stored twice is an error.
    missing_label : scalar, default=np.nan
        Marker of a missing label, besides ``NaN``/``None``/``pandas.NA``. It
        must not be a real label value.
    classes : array-like, default=None
        Known classes to encode against, in any order: the codes index them
        as given. ``None`` uses the sorted set of observed labels; with
        ``classes`` given, a label outside them is an error.
    n_samples : int, default=None
        Expected number of items (rows), e.g. the length of ``X``.
    input_name : str, default="Y"
        Name used in error messages.
    compact : bool, default=False
        Store ``item``, ``worker`` and ``label`` as int32 when the crowd's
        sizes fit (12 bytes per label instead of 24; the aggregators use
        it), and validate a large sparse crowd without int64 temporaries of
        its size.

    Returns
    -------
    crowd : CrowdMatrix
        The COO view (``item``, ``worker``, ``label`` codes), ``classes`` and,
        for dense input, the dense ``codes`` with ``-1`` for missing.

    Raises
    ------
    ValueError
        If ``Y`` has no observed label, holds continuous, infinite, bytes or
        mixed str/number labels, has more than two dimensions, stores a sparse
        cell twice, or its number of rows differs from ``n_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import check_crowd_matrix
    >>> Y = np.array([[0, 1, np.nan], [1, 1, 1], [np.nan, 2, 2]])
    >>> crowd = check_crowd_matrix(Y)
    >>> crowd.classes
    array([0., 1., 2.])
    >>> crowd.codes
    array([[ 0,  1, -1],
           [ 1,  1,  1],
           [-1,  2,  2]])
    >>> crowd.item, crowd.worker
    (array([0, 0, 1, 1, 1, 2, 2]), array([0, 1, 0, 1, 2, 1, 2]))
    >>> crowd.label
    array([0, 1, 1, 1, 1, 2, 2])
    """
    if Y is None:
        raise ValueError(
            f"This estimator requires {input_name} to be passed, but the target "
            f"{input_name} is None: a crowd label matrix is required."
        )
    if sp.issparse(Y):
        crowd_arrays = _sparse_observed(Y, missing_label, input_name, compact)
    else:
        crowd_arrays = _dense_observed(Y, missing_label, input_name)
    item, worker, observed, shape, codes_mask = crowd_arrays
    n_rows, n_workers = shape

    if n_workers == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(shape)}) while a minimum "
            f"of 1 is required: {input_name} has no worker column."
        )
    if n_samples is not None and n_rows != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {n_rows}] (X has {n_samples} rows, {input_name} has "
            f"{n_rows})."
        )
    if observed.size == 0:
        raise ValueError(
            f"{input_name} has no observed label: every entry is missing "
            f"(missing_label={missing_label!r}). At least one label is required."
        )
    _check_label_type(observed)

    index_dtype = np.int64
    if compact and max(n_rows, n_workers) <= np.iinfo(np.int32).max:
        index_dtype = np.int32
        item = item.astype(np.int32, copy=False)
        worker = worker.astype(np.int32, copy=False)

    small = _encode_small_ints(observed, index_dtype) if classes is None else None
    if small is not None:
        classes, label = small
    elif classes is None:
        try:
            classes, label = np.unique(observed, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"{input_name} holds labels that cannot be compared: {exc}"
            ) from None
    else:
        classes = np.asarray(classes)
        if classes.ndim != 1 or len(classes) == 0:
            raise ValueError(
                f"classes must be a non-empty 1-D array; got shape {classes.shape}."
            )
        try:
            sorter = np.argsort(classes, kind="stable")
            ordered = classes[sorter]
            repeated = np.asarray(ordered[1:] == ordered[:-1])
            pos = np.searchsorted(classes, observed, sorter=sorter)
            label = sorter[np.clip(pos, 0, len(classes) - 1)]
            unknown = np.asarray(classes[label] != observed)
        except TypeError as exc:
            raise ValueError(
                f"{input_name} labels cannot be compared with the classes "
                f"{classes.tolist()}: {exc}"
            ) from None
        if np.any(repeated):
            # a repeated class would get a code no label ever maps to
            raise ValueError(
                "classes must not repeat a label; got repeated "
                f"{np.unique(ordered[1:][repeated])[:10].tolist()}."
            )
        unknown = np.broadcast_to(unknown, observed.shape)
        if np.any(unknown):
            raise ValueError(
                f"{input_name} holds labels not among the known classes "
                f"{classes.tolist()}: {np.unique(observed[unknown])[:10].tolist()}"
            )
    label = label.astype(index_dtype, copy=False).ravel()

    codes = None
    if codes_mask is not None:
        codes = np.full(shape, -1, dtype=np.int64)
        codes[codes_mask] = label
    return CrowdMatrix(
        item=item,
        worker=worker,
        label=label,
        classes=classes,
        n_samples=n_rows,
        n_workers=n_workers,
        sparse_input=codes_mask is None,
        codes=codes,
    )


def _dense_observed(Y, missing_label, input_name):
    if hasattr(Y, "to_numpy") and hasattr(Y, "dtypes"):  # pandas
        Y = Y.to_numpy(dtype=object if _pandas_has_extension(Y) else None)
    if isinstance(Y, np.ndarray):
        Y = np.asarray(Y)
    else:
        # a list mixing strings and NaN/None: keep NaN a NaN (numpy would
        # make it the string 'nan', a label)
        arr = np.asarray(Y)
        Y = np.asarray(Y, dtype=object) if arr.dtype.kind == "U" else arr
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2:
        raise ValueError(
            f"{input_name} must be 1-D (one worker) or 2-D (n_samples, n_workers); "
            f"got an array with {Y.ndim} dimensions."
        )
    if Y.shape[0] == 0:
        raise ValueError(
            f"{input_name} is empty (0 items): at least one labelled item is required."
        )
    mask = ~is_missing_label(Y, missing_label)
    item, worker = np.nonzero(mask)
    observed = Y[mask]
    if observed.dtype.kind == "O":
        observed = _tighten_object(observed)
    return (
        item.astype(np.int64),
        worker.astype(np.int64),
        observed,
        Y.shape,
        mask,
    )


def _check_int(value, name, low, high=None):
    """``value`` as an int in ``[low, high]`` (``high=None``: no upper bound),
    else a ValueError naming ``name`` (a bool is not an int here)."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int; got {value!r}.")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bounds}; got {value}.")
    return int(value)


def _check_worker_ids(estimator, Y, *, reset):
    """Record (``reset``) or check the worker ids of a DataFrame crowd.

    A crowd given as a DataFrame names its workers by its columns. On
    ``reset`` they are kept in ``estimator.workers_``; on a later call with a
    DataFrame, its columns must be the same, in the same order, or the
    labels would be read as other workers' without a word. Arrays carry no
    ids and are read by position. An earlier fit's ``workers_`` is the
    caller's to clear.
    """
    columns = getattr(Y, "columns", None)
    if columns is None:
        return
    columns = np.asarray(columns)
    if reset:
        estimator.workers_ = columns
        return
    fitted = getattr(estimator, "workers_", None)
    if fitted is not None and not (
        len(columns) == len(fitted) and np.array_equal(columns, fitted)
    ):
        raise ValueError(
            "The worker ids (columns) of the crowd should match those seen in fit: "
            f"got {columns[:10].tolist()}, fitted on "
            f"{np.asarray(fitted)[:10].tolist()} (first 10)."
        )


def _nullable_frame_as_float(y):
    """A DataFrame of nullable numeric/boolean columns as float64, NaN for NA.

    pandas' nullable columns (``Int64``, ``boolean``, ``Float64``) become an
    object array under ``np.asarray``, which numeric targets (multi-label
    indicators, rationale counts) reject. Anything else is returned as is.
    """
    if getattr(y, "ndim", None) != 2 or not hasattr(y, "dtypes"):
        return y
    if not _pandas_has_extension(y):
        return y
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if all(is_numeric_dtype(d) or is_bool_dtype(d) for d in y.dtypes):
        return y.to_numpy(dtype=np.float64, na_value=np.nan)
    return y


def _pandas_has_extension(df):
    dtypes = [df.dtypes] if not hasattr(df.dtypes, "__iter__") else list(df.dtypes)
    return any(not isinstance(d, np.dtype) for d in dtypes)


def _tighten_object(observed):
    """Give object arrays of plain numbers a numeric dtype (str stays object)."""
    kinds = {type(v) for v in observed}
    if any(issubclass(k, str) for k in kinds):
        return observed  # strings (or a str/number mix, rejected later)
    if all(issubclass(k, (bool, np.bool_)) for k in kinds):
        return observed.astype(bool)  # e.g. a nullable "boolean" column
    if all(issubclass(k, (int, np.integer)) for k in kinds):
        try:
            return observed.astype(np.int64)  # exact, unlike a float round trip
        except OverflowError:
            pass
        try:  # non-negative ints up to 2**64 - 1 (numpy raises for negatives)
            return observed.astype(np.uint64)
        except OverflowError:
            return observed  # beyond uint64: rejected with a clear message
    try:
        as_num = observed.astype(np.float64)
    except (TypeError, ValueError):
        return observed
    if np.all(np.isfinite(as_num)) and np.all(as_num == np.round(as_num)):
        return as_num.astype(np.int64)
    return as_num


def _encode_small_ints(observed, dtype):
    """``np.unique(observed, return_inverse=True)`` for ints of a small range.

    A counting pass and a lookup table, in chunks: no sort and no int64
    temporary of the crowd's size (``np.unique`` sorts a copy and returns
    int64 codes). ``None`` when the labels are not integers or span more
    than 65536 values.
    """
    if observed.dtype.kind not in "iub" or observed.size < (1 << 16):
        return None
    low, high = int(observed.min()), int(observed.max())
    if high - low >= (1 << 16):
        return None
    chunk = 1 << 22
    counts = np.zeros(high - low + 1, dtype=np.int64)
    for start in range(0, observed.size, chunk):
        part = observed[start : start + chunk].astype(np.int64) - low
        counts += np.bincount(part, minlength=high - low + 1)
    present = np.flatnonzero(counts)
    classes = (present + low).astype(observed.dtype)
    lut = np.zeros(high - low + 1, dtype=dtype)
    lut[present] = np.arange(len(present), dtype=dtype)
    label = np.empty(observed.size, dtype=dtype)
    for start in range(0, observed.size, chunk):
        part = observed[start : start + chunk].astype(np.int64) - low
        label[start : start + chunk] = lut[part]
    return classes, label


def _sparse_observed(Y, missing_label, input_name, compact=False):
    if Y.ndim != 2:
        raise ValueError(f"{input_name} must be a 2-D sparse matrix.")
    coo = Y.tocoo() if Y.format != "coo" else Y
    data = np.asarray(coo.data)
    if data.dtype.kind not in "iufb":
        raise ValueError(
            f"Sparse {input_name} must hold numeric labels; got dtype {data.dtype}."
        )
    if coo.shape[0] == 0:
        raise ValueError(
            f"{input_name} is empty (0 items): at least one labelled item is required."
        )
    keep = ~is_missing_label(data, missing_label)
    # copies: the CrowdMatrix must not share memory with the caller's matrix
    small = compact and max(coo.shape) <= np.iinfo(np.int32).max
    index_dtype = np.int32 if small else np.int64
    item = np.array(coo.row, dtype=index_dtype)
    worker = np.array(coo.col, dtype=index_dtype)
    if not keep.all():
        item, worker, data = item[keep], worker[keep], data[keep]
    del keep
    if len(item) > 1 and not getattr(Y, "has_canonical_format", False):
        # one int64 key per cell, sorted in place: 8 bytes per label (a
        # lexsort of the two columns needs 3 times as much); the pairs of
        # the error message are found again only when there are duplicates
        key = item.astype(np.int64)
        key *= coo.shape[1]
        key += worker
        key.sort()
        has_dup = bool((key[1:] == key[:-1]).any())
        del key
        if has_dup:
            order = np.lexsort((worker, item))
            dup = (np.diff(item[order]) == 0) & (np.diff(worker[order]) == 0)
            where = order[1:][dup][:5]
            pairs = list(zip(item[where].tolist(), worker[where].tolist(), strict=True))
            raise ValueError(
                f"Sparse {input_name} stores {int(dup.sum())} duplicate entries "
                f"for the same (item, worker) cells, e.g. {pairs}: a cell holds "
                "one label. Keep one entry per cell."
            )
    return item, worker, data, coo.shape, None
