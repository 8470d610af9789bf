"""Conversion between crowd-kit's long ``(task, worker, label)`` table and the
crowd label matrix."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp

from .validation import check_crowd_matrix, is_missing_label

__all__ = ["crowd_matrix_from_long", "crowd_matrix_to_long"]

_DUPLICATES = ("raise", "first", "last")


def _column(data, name, what):
    if isinstance(data, dict) or hasattr(data, "columns"):
        columns = list(data.keys()) if isinstance(data, dict) else list(data.columns)
        if name not in columns:
            raise ValueError(
                f"The {what} column {name!r} is missing; columns are {columns}."
            )
        col = data[name]
        if hasattr(col, "to_numpy"):
            # a nullable pandas column (Int64...) holding NA as objects: its
            # plain to_numpy() would turn integer labels into floats
            as_object = not isinstance(col.dtype, np.dtype) and col.isna().any()
            return np.asarray(col.to_numpy(dtype=object if as_object else None))
        return _ids(col)
    raise ValueError(
        "data must be a DataFrame, a dict of columns, or None with arrays given "
        "as task=, worker=, label=."
    )


def _factorize(values, what):
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{what} ids must be 1-D; got shape {values.shape}.")
    if is_missing_label(values).any():
        raise ValueError(f"{what} ids contain missing values (NaN/None).")
    try:
        uniques, codes = np.unique(values, return_inverse=True)
    except TypeError:
        # mixed int/str ids: the numbers first (in numeric order, so 1 and
        # np.int64(1) are one id), then the strings (sorted); 1 and "1" differ
        is_str = np.fromiter(
            (isinstance(v, str) for v in values), dtype=bool, count=len(values)
        )
        try:
            num_u, num_c = np.unique(values[~is_str], return_inverse=True)
            str_u, str_c = np.unique(values[is_str], return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"{what} ids cannot be ordered: {exc}") from None
        uniques = np.empty(len(num_u) + len(str_u), dtype=object)
        uniques[: len(num_u)] = num_u
        uniques[len(num_u) :] = str_u
        codes = np.empty(len(values), dtype=np.int64)
        codes[~is_str] = num_c.ravel()
        codes[is_str] = len(num_u) + str_c.ravel()
    return uniques, codes.ravel().astype(np.int64)


def crowd_matrix_from_long(
    data=None,
    *,
    task="task",
    worker="worker",
    label="label",
    sparse=False,
    duplicates="raise",
    missing_label=np.nan,
):
    """Build a crowd label matrix from a long ``(task, worker, label)`` table.

    Parameters
    ----------
    data : DataFrame, dict of columns or None
        The long table, one row per label, as crowd-kit uses it. ``None``
        when ``task``, ``worker`` and ``label`` are given as arrays.
    task, worker, label : str or array-like
        Column names in ``data`` (defaults follow crowd-kit), or the arrays
        themselves when ``data`` is None. Ids may be ints or strings.
    sparse : bool, default=False
        Return a ``scipy.sparse.csr_array`` whose stored entries are the
        labels' codes (indices into ``classes``) instead of a dense matrix of
        the labels themselves. Use it for large crowds.
    duplicates : {"raise", "first", "last"}, default="raise"
        What to do when one worker labelled the same task more than once: a
        matrix cell holds one label, so either raise a ``ValueError`` naming
        the pairs, or keep the first or the last of the rows (in table order).
    missing_label : scalar, default=np.nan
        Fill value for the cells of the dense matrix that no row gives. Rows
        whose label is missing (NaN/None/``missing_label``) are dropped.

    Returns
    -------
    Y : ndarray of shape (n_tasks, n_workers) or csr_array
        The crowd label matrix. Dense: the original labels, ``missing_label``
        elsewhere (object dtype for strings or a non-numeric marker such as
        ``None`` or ``""``; otherwise the labels' dtype promoted with the
        marker's, e.g. float for NaN). Sparse: label codes.
    tasks : ndarray of shape (n_tasks,)
        The task id of each row of ``Y`` (sorted; with mixed int/str ids the
        numbers come first, then the strings). Only tasks with an observed
        label appear.
    workers : ndarray of shape (n_workers,)
        The worker id of each column of ``Y`` (sorted likewise).
    classes : ndarray of shape (n_classes,)
        The sorted labels; for ``sparse=True`` the stored codes index them.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcrowd.utils import crowd_matrix_from_long
    >>> df = pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": [7, 9, 9],
    ...                    "label": ["cat", "dog", "dog"]})
    >>> Y, tasks, workers, classes = crowd_matrix_from_long(df)
    >>> Y
    array([['cat', 'dog'],
           [nan, 'dog']], dtype=object)
    >>> tasks, workers
    (array(['t1', 't2'], dtype=object), array([7, 9]))
    """
    if duplicates not in _DUPLICATES:
        raise ValueError(
            f"duplicates must be one of {_DUPLICATES}; got {duplicates!r}."
        )
    if data is None:
        arrays = [_ids(task), _ids(worker), _ids(label)]
        if any(a.ndim != 1 for a in arrays):
            raise ValueError(
                "With data=None, task, worker and label must be 1-D arrays; got "
                f"shapes {[a.shape for a in arrays]}."
            )
        t, w, lab = arrays
    else:
        t = _column(data, task, "task")
        w = _column(data, worker, "worker")
        lab = _column(data, label, "label")
    # a dict of columns is not a table: its columns may differ in length
    if len({len(t), len(w), len(lab)}) != 1:
        raise ValueError(
            "task, worker and label arrays have different lengths: "
            f"{[len(t), len(w), len(lab)]}."
        )
    if len(lab) == 0:
        raise ValueError("The long table has no rows: no observed label.")
    keep = ~is_missing_label(lab, missing_label)
    t, w, lab = t[keep], w[keep], lab[keep]
    if len(lab) == 0:
        raise ValueError("The long table has no observed label: all are missing.")

    tasks, ti = _factorize(t, "task")
    workers, wi = _factorize(w, "worker")
    n_tasks, n_workers = len(tasks), len(workers)

    cell = ti * n_workers + wi
    order = np.arange(len(cell))
    if duplicates == "last":
        order = order[::-1]
    _, first = np.unique(cell[order], return_index=True)
    if len(first) != len(cell):
        if duplicates == "raise":
            cells, counts = np.unique(cell, return_counts=True)
            bad = cells[counts > 1][:5]
            bad_tasks = tasks[bad // n_workers].tolist()
            bad_workers = workers[bad % n_workers].tolist()
            pairs = list(zip(bad_tasks, bad_workers, strict=True))
            raise ValueError(
                f"{len(cell) - len(first)} duplicated (task, worker) pairs, e.g. "
                f"{pairs}: a worker labelled the same task twice. Pass "
                "duplicates='first' or 'last' to keep one of them."
            )
        rows = np.sort(order[first])
        ti, wi, lab = ti[rows], wi[rows], lab[rows]

    # validate the labels (continuous, mixed types...) through the one validator
    crowd = check_crowd_matrix(
        lab.reshape(-1, 1), missing_label=missing_label, input_name="label"
    )
    classes = crowd.classes
    if sparse:
        Y = sp.csr_array(
            (crowd.label, (ti, wi)), shape=(n_tasks, n_workers), dtype=np.int64
        )
        return Y, tasks, workers, classes
    if classes.dtype.kind in "OUS" or not isinstance(missing_label, Real):
        # string labels, or a non-numeric marker (None, "", pandas.NA)
        Y = np.full((n_tasks, n_workers), missing_label, dtype=object)
    else:
        dtype = np.result_type(classes.dtype, np.asarray(missing_label).dtype)
        Y = np.full((n_tasks, n_workers), missing_label, dtype=dtype)
    Y[ti, wi] = classes[crowd.label]
    return Y, tasks, workers, classes


def crowd_matrix_to_long(
    Y, *, tasks=None, workers=None, classes=None, missing_label=np.nan, names=None
):
    """Turn a crowd label matrix into a long ``(task, worker, label)`` DataFrame.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_workers) or sparse
        The crowd label matrix (see :func:`check_crowd_matrix`).
    tasks, workers : array-like, default=None
        Ids of the rows and columns (e.g. as returned by
        :func:`crowd_matrix_from_long`); default ``0..n-1``.
    classes : array-like, default=None
        For a sparse ``Y`` of codes (as :func:`crowd_matrix_from_long` returns
        with ``sparse=True``): the labels the codes index. ``None`` writes the
        stored values themselves.
    missing_label : scalar, default=np.nan
        Marker of a missing label in a dense ``Y``.
    names : tuple of 3 str, default=("task", "worker", "label")
        Column names of the table.

    Returns
    -------
    df : pandas.DataFrame
        One row per observed label, ordered by task then worker for dense
        input.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.utils import crowd_matrix_to_long
    >>> crowd_matrix_to_long(np.array([[0, np.nan], [1, 1]]), workers=["a", "b"])
       task worker  label
    0     0      a    0.0
    1     1      a    1.0
    2     1      b    1.0
    """
    import pandas as pd

    names = ("task", "worker", "label") if names is None else tuple(names)
    if len(names) != 3 or len(set(names)) != 3:
        raise ValueError(
            "names must be 3 distinct column names (task, worker, label); "
            f"got {names!r}."
        )
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    tasks = np.arange(crowd.n_samples) if tasks is None else _ids(tasks)
    workers = np.arange(crowd.n_workers) if workers is None else _ids(workers)
    if len(tasks) != crowd.n_samples or len(workers) != crowd.n_workers:
        raise ValueError(
            f"tasks/workers have lengths {len(tasks)}/{len(workers)} but Y has "
            f"shape {(crowd.n_samples, crowd.n_workers)}."
        )
    labels = crowd.classes[crowd.label]
    if classes is not None:
        classes = np.asarray(classes)
        codes = labels.astype(np.int64)
        if codes.min() < 0 or codes.max() >= len(classes):
            raise ValueError("Y holds codes outside range(len(classes)).")
        labels = classes[codes]
    return pd.DataFrame(
        {
            names[0]: tasks[crowd.item],
            names[1]: workers[crowd.worker],
            names[2]: labels,
        }
    )


def _ids(ids):
    """Ids (or labels) as an array; a list mixing strings with ints or NaN
    stays objects (numpy would turn the ints and NaN into strings)."""
    if isinstance(ids, np.ndarray):
        return ids
    arr = np.asarray(ids)
    return np.asarray(ids, dtype=object) if arr.dtype.kind == "U" else arr
