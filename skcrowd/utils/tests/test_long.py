"""Tests of the long-format converters ``crowd_matrix_from_long`` and
``crowd_matrix_to_long``.

How ids map back: ``crowd_matrix_from_long`` returns ``(Y, tasks, workers,
classes)``; row ``i`` of ``Y`` is task ``tasks[i]`` and column ``r`` is worker
``workers[r]``. Only tasks and workers with at least one observed label appear,
so after ``crowd_matrix_to_long(Y0, tasks=ids_t, workers=ids_w)`` and back,
``Y`` equals ``Y0[np.ix_(rows, cols)]`` where ``rows``/``cols`` are the
positions of ``tasks``/``workers`` in ``ids_t``/``ids_w``; every row and
column of ``Y0`` left out is all missing.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skcrowd.utils import (
    check_crowd_matrix,
    crowd_matrix_from_long,
    crowd_matrix_to_long,
)


def _rows(df, names=("task", "worker", "label")):
    """The table as a set of (task, worker, label) tuples of Python scalars."""
    return set(
        zip(
            *(np.asarray(df[c], dtype=object).tolist() for c in names),
            strict=True,
        )
    )


def _is_missing(v):
    return v is None or (isinstance(v, float) and v != v)


# ------------------------------------------------------------ from_long


def test_docstring_example_dataframe_string_labels():
    df = pd.DataFrame(
        {
            "task": ["t1", "t1", "t2"],
            "worker": [7, 9, 9],
            "label": ["cat", "dog", "dog"],
        }
    )
    before = df.copy(deep=True)
    Y, tasks, workers, classes = crowd_matrix_from_long(df)
    pd.testing.assert_frame_equal(df, before)
    assert Y.dtype == object
    assert Y[0].tolist() == ["cat", "dog"]
    assert _is_missing(Y[1, 0]) and Y[1, 1] == "dog"
    assert tasks.tolist() == ["t1", "t2"]
    assert workers.tolist() == [7, 9]
    assert classes.tolist() == ["cat", "dog"]


def test_from_arrays_int_labels_dense_and_sparse():
    task = np.array([10, 10, 20, 30])
    worker = np.array(["b", "a", "a", "b"])
    label = np.array([0, 2, 0, 1])
    Y, tasks, workers, classes = crowd_matrix_from_long(
        task=task, worker=worker, label=label
    )
    assert tasks.tolist() == [10, 20, 30]
    assert workers.tolist() == ["a", "b"]
    np.testing.assert_array_equal(classes, [0, 1, 2])
    assert Y.dtype.kind == "f"  # NaN fill
    np.testing.assert_array_equal(Y, [[2, 0], [0, np.nan], [np.nan, 1]])

    S, tasks_s, workers_s, classes_s = crowd_matrix_from_long(
        task=task, worker=worker, label=label, sparse=True
    )
    assert isinstance(S, sp.csr_array) and S.shape == (3, 2)
    assert S.nnz == 4  # code 0 is stored explicitly: explicit zeros are labels
    np.testing.assert_array_equal(tasks_s, tasks)
    np.testing.assert_array_equal(classes_s, classes)
    crowd = check_crowd_matrix(S)
    assert {
        (int(i), int(w), int(classes_s[c]))
        for i, w, c in zip(
            crowd.item, crowd.worker, crowd.classes[crowd.label], strict=True
        )
    } == {(0, 0, 2), (0, 1, 0), (1, 0, 0), (2, 1, 1)}


def test_from_long_custom_column_names_and_dict():
    data = {"item": [1, 2], "annotator": ["x", "x"], "y": ["pos", "neg"]}
    Y, tasks, workers, classes = crowd_matrix_from_long(
        data, task="item", worker="annotator", label="y"
    )
    assert Y.tolist() == [["pos"], ["neg"]]
    assert tasks.tolist() == [1, 2] and workers.tolist() == ["x"]
    with pytest.raises(ValueError, match="The label column 'label' is missing"):
        crowd_matrix_from_long(data, task="item", worker="annotator")


def test_from_long_missing_marker_fill_and_dropped_rows():
    df = pd.DataFrame(
        {"task": [0, 0, 1, 2], "worker": [0, 1, 0, 1], "label": [1, -1, 2, 1]}
    )
    Y, tasks, workers, _ = crowd_matrix_from_long(df, missing_label=-1)
    # the row with label -1 is dropped; the fill is -1 and the dtype stays int
    assert Y.dtype.kind == "i"
    np.testing.assert_array_equal(Y, [[1, -1], [2, -1], [-1, 1]])
    assert tasks.tolist() == [0, 1, 2]
    crowd = check_crowd_matrix(Y, missing_label=-1)
    assert crowd.n_labels == 3
    # a string marker for numeric labels gives an object matrix, labels unchanged
    Y, *_ = crowd_matrix_from_long(df, missing_label="")
    assert Y.dtype == object
    assert Y.tolist() == [[1, -1], [2, ""], ["", 1]]
    assert all(type(v) is not str for v in Y.ravel() if v != "")
    Y, *_ = crowd_matrix_from_long(df, missing_label=None)
    assert Y[2, 0] is None and Y[0, 0] == 1


def test_from_long_nullable_pandas_columns():
    df = pd.DataFrame(
        {
            "task": pd.array([1, 2, 3], dtype="Int64"),
            "worker": pd.array(["a", "b", "a"], dtype="string"),
            "label": pd.array([1, None, 0], dtype="Int64"),
        }
    )
    Y, tasks, workers, classes = crowd_matrix_from_long(df)
    assert classes.dtype.kind == "i"  # NA does not turn integer labels into floats
    np.testing.assert_array_equal(classes, [0, 1])
    assert tasks.tolist() == [1, 3]  # task 2's only row had a missing label
    assert workers.tolist() == ["a"]
    np.testing.assert_array_equal(Y, [[1.0], [0.0]])


def test_from_long_string_labels_with_missing():
    Y, tasks, workers, classes = crowd_matrix_from_long(
        task=["t", "t", "u"],
        worker=["w1", "w2", "w1"],
        label=["yes", np.nan, ""],
        missing_label="",
    )
    assert Y.tolist() == [["yes"]]
    assert tasks.tolist() == ["t"] and workers.tolist() == ["w1"]


def test_from_long_mixed_int_and_str_ids():
    task = np.array([2, "b", 10, "a", np.int64(2)], dtype=object)
    Y, tasks, workers, _ = crowd_matrix_from_long(
        task=task, worker=[0, 0, 0, 0, 1], label=[1, 2, 3, 4, 5]
    )
    # numbers first in numeric order, then strings; 2 and np.int64(2) are one id
    assert tasks.tolist() == [2, 10, "a", "b"]
    np.testing.assert_array_equal(Y, [[1, 5], [3, np.nan], [4, np.nan], [2, np.nan]])
    # 1 and "1" are different ids
    _, tasks, _, _ = crowd_matrix_from_long(task=[1, "1"], worker=[0, 0], label=[0, 1])
    assert tasks.tolist() == [1, "1"]


@pytest.mark.parametrize("sparse", [False, True])
def test_duplicates(sparse):
    df = pd.DataFrame(
        {
            "task": ["t1", "t1", "t2", "t1", "t2"],
            "worker": ["w", "w", "w", "v", "w"],
            "label": ["a", "b", "a", "a", "c"],
        }
    )
    with pytest.raises(ValueError, match=r"2 duplicated \(task, worker\) pairs"):
        crowd_matrix_from_long(df, sparse=sparse)
    with pytest.raises(ValueError, match=r"\('t1', 'w'\).*\('t2', 'w'\)"):
        crowd_matrix_from_long(df, sparse=sparse)
    expected = {
        "first": {("t1", "w"): "a", ("t2", "w"): "a", ("t1", "v"): "a"},
        "last": {("t1", "w"): "b", ("t2", "w"): "c", ("t1", "v"): "a"},
    }
    for keep in ("first", "last"):
        Y, tasks, workers, classes = crowd_matrix_from_long(
            df, sparse=sparse, duplicates=keep
        )
        long = crowd_matrix_to_long(
            Y, tasks=tasks, workers=workers, classes=classes if sparse else None
        )
        assert _rows(long) == {(t, w, lab) for (t, w), lab in expected[keep].items()}
    with pytest.raises(ValueError, match="duplicates must be one of"):
        crowd_matrix_from_long(df, duplicates="mean")


def test_duplicates_with_missing_label_are_not_duplicates():
    Y, *_ = crowd_matrix_from_long(task=[0, 0], worker=[0, 0], label=[np.nan, 1.0])
    np.testing.assert_array_equal(Y, [[1.0]])


FROM_LONG_ERRORS = [
    (dict(task=[], worker=[], label=[]), "no rows"),
    (dict(task=[0, 1], worker=[0, 1], label=[np.nan, None]), "no observed label"),
    (dict(task=[0, 1], worker=[0], label=[1, 2]), "different lengths"),
    (dict(task=[0, 1], worker=[0, 0], label=[0.5, 1.0]), "Unknown label type"),
    (dict(task=[0, 1], worker=[0, 0], label=[np.inf, 1.0]), "infinity"),
    (
        dict(task=[0, 1], worker=[0, 0], label=np.array(["a", 1], dtype=object)),
        "mix strings and numbers",
    ),
    (dict(task=[0, np.nan], worker=[0, 0], label=[1, 2]), "task ids contain missing"),
    (dict(task=[0, 1], worker=[None, 0], label=[1, 2]), "worker ids contain missing"),
    (dict(task=[[0, 1]], worker=[[0, 1]], label=[[1, 2]]), "1-D"),
    (dict(), "1-D"),
    (dict(data={"task": [0, 1, 2], "worker": [0, 1], "label": [1, 0]}),
     "different lengths"),
]


@pytest.mark.parametrize(
    "kwargs, match", FROM_LONG_ERRORS, ids=[m for _, m in FROM_LONG_ERRORS]
)
def test_from_long_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        crowd_matrix_from_long(**kwargs)


def test_from_long_bad_data():
    with pytest.raises(ValueError, match="data must be a DataFrame"):
        crowd_matrix_from_long([[0, 0, 1]])
    with pytest.raises(ValueError, match="The task column 'task' is missing"):
        crowd_matrix_from_long(pd.DataFrame({"worker": [0], "label": [1]}))


# -------------------------------------------------------------- to_long


def test_docstring_example_to_long():
    Y = np.array([[0, np.nan], [1, 1]])
    before = Y.copy()
    df = crowd_matrix_to_long(Y, workers=["a", "b"])
    np.testing.assert_array_equal(Y, before)
    assert list(df.columns) == ["task", "worker", "label"]
    assert df.values.tolist() == [[0, "a", 0.0], [1, "a", 1.0], [1, "b", 1.0]]


def test_to_long_names_one_worker_and_strings():
    df = crowd_matrix_to_long(
        np.array(["x", None, "y"], dtype=object), names=("item", "who", "y")
    )
    assert list(df.columns) == ["item", "who", "y"]
    assert df.values.tolist() == [[0, 0, "x"], [2, 0, "y"]]


def test_to_long_mixed_id_list_keeps_ints():
    df = crowd_matrix_to_long(np.array([[1, 2]]), tasks=["t"], workers=[5, "five"])
    assert df["worker"].tolist() == [5, "five"]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_to_long_sparse_codes_with_classes(fmt):
    S = sp.coo_array(
        (np.array([0, 2, 1]), (np.array([0, 1, 1]), np.array([1, 0, 1]))),
        shape=(3, 2),
    ).asformat(fmt)
    df = crowd_matrix_to_long(S, tasks=["p", "q", "r"], classes=["x", "y", "z"])
    assert _rows(df) == {("p", 1, "x"), ("q", 0, "z"), ("q", 1, "y")}
    df = crowd_matrix_to_long(S)
    assert _rows(df) == {(0, 1, 0), (1, 0, 2), (1, 1, 1)}


def test_to_long_errors():
    Y = np.array([[0, 1], [1, np.nan]])
    with pytest.raises(ValueError, match="tasks/workers have lengths"):
        crowd_matrix_to_long(Y, tasks=["a"])
    with pytest.raises(ValueError, match="codes outside"):
        crowd_matrix_to_long(sp.csr_array(np.array([[0, 3]])), classes=["a", "b"])
    with pytest.raises(ValueError, match="no observed label"):
        crowd_matrix_to_long(np.full((2, 2), np.nan))


def test_to_long_sparse_input_not_modified():
    S = sp.csr_array(np.array([[0, 1], [2, 0]]))
    S.data[0] = 0
    parts = [S.data.copy(), S.indices.copy(), S.indptr.copy()]
    crowd_matrix_to_long(S, classes=["a", "b", "c"])
    for p, q in zip((S.data, S.indices, S.indptr), parts, strict=True):
        np.testing.assert_array_equal(p, q)


# ------------------------------------------------------- property based

INT_IDS = st.integers(-3, 40)
STR_IDS = st.text(alphabet="abz01", min_size=1, max_size=3)
ID_KINDS = {
    "int": INT_IDS,
    "str": STR_IDS,
    "mixed": st.one_of(INT_IDS, STR_IDS),
}


def _id_array(values):
    return np.array(values, dtype=object) if values else np.array([], dtype=object)


@st.composite
def crowd_matrices(draw):
    """(Y, missing_label, observed, labels) for a dense crowd."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["int", "str"]))
    pool = (
        st.integers(0, 5)
        if kind == "int"
        else st.sampled_from(["cat", "dog", "nan", "inf", "0", "é"])
    )
    values = draw(st.lists(pool, min_size=n * m, max_size=n * m))
    observed = np.array(
        draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    if not observed.any():
        observed.flat[draw(st.integers(0, n * m - 1))] = True
    labels = np.empty((n, m), dtype=object)
    labels.flat[:] = values
    if kind == "int":
        if draw(st.booleans()):
            Y = np.where(observed, labels.astype(float), np.nan)
            missing_label = np.nan
        else:
            Y = np.where(observed, labels.astype(np.int64), -1)
            missing_label = -1
    else:
        Y = labels.copy()
        Y[~observed] = None
        missing_label = np.nan
    return Y, missing_label, observed, labels


def _unique_ids(draw, kind, size):
    return draw(st.lists(ID_KINDS[kind], min_size=size, max_size=size, unique=True))


@settings(max_examples=120, deadline=None)
@given(crowd_matrices(), st.data())
def test_property_matrix_to_long_and_back(case, data):
    Y, missing_label, observed, labels = case
    n, m = observed.shape
    task_ids = _unique_ids(data.draw, data.draw(st.sampled_from(list(ID_KINDS))), n)
    worker_ids = _unique_ids(data.draw, data.draw(st.sampled_from(list(ID_KINDS))), m)
    before = Y.copy()
    long = crowd_matrix_to_long(
        Y,
        tasks=_id_array(task_ids),
        workers=_id_array(worker_ids),
        missing_label=missing_label,
    )
    assert len(long) == observed.sum()
    # one row per observed label, with the right ids
    expected_rows = {
        (task_ids[i], worker_ids[r], labels[i, r])
        for i, r in zip(*np.nonzero(observed), strict=True)
    }
    assert _rows(long) == expected_rows

    sparse = data.draw(st.booleans())
    Y2, tasks, workers, classes = crowd_matrix_from_long(
        long, sparse=sparse, missing_label=missing_label
    )
    # input unmodified
    assert Y.dtype == before.dtype
    if Y.dtype.kind == "f":
        np.testing.assert_array_equal(Y, before)
    else:
        assert Y.tolist() == before.tolist()
    # tasks/workers are the ids with at least one label
    assert set(tasks.tolist()) == {task_ids[i] for i in np.flatnonzero(observed.any(1))}
    assert set(workers.tolist()) == {
        worker_ids[r] for r in np.flatnonzero(observed.any(0))
    }
    row_of = {t: i for i, t in enumerate(task_ids)}
    col_of = {w: r for r, w in enumerate(worker_ids)}
    rows = np.array([row_of[t] for t in tasks.tolist()], dtype=np.int64)
    cols = np.array([col_of[w] for w in workers.tolist()], dtype=np.int64)
    # Y2 is Y restricted to those rows and columns, in the order of tasks/workers
    crowd2 = check_crowd_matrix(Y2, missing_label=missing_label)
    codes2 = crowd2.dense_codes()
    np.testing.assert_array_equal(codes2 >= 0, observed[np.ix_(rows, cols)])
    sub_labels = labels[np.ix_(rows, cols)]
    decoded = crowd2.classes[codes2[codes2 >= 0]]
    if sparse:
        decoded = classes[decoded.astype(np.int64)]
    assert decoded.tolist() == sub_labels[codes2 >= 0].tolist()
    # left-out rows and columns hold no label
    assert observed.sum() == observed[np.ix_(rows, cols)].sum()
    # and back to the same table
    long2 = crowd_matrix_to_long(
        Y2,
        tasks=tasks,
        workers=workers,
        classes=classes if sparse else None,
        missing_label=missing_label,
    )
    assert _rows(long2) == expected_rows


@st.composite
def long_tables(draw, allow_duplicates=False):
    kind_t = draw(st.sampled_from(list(ID_KINDS)))
    kind_w = draw(st.sampled_from(list(ID_KINDS)))
    pairs = st.tuples(ID_KINDS[kind_t], ID_KINDS[kind_w])
    if allow_duplicates:
        cells = draw(st.lists(pairs, min_size=1, max_size=25))
    else:
        cells = draw(st.lists(pairs, min_size=1, max_size=25, unique_by=lambda p: p))
    label_kind = draw(st.sampled_from(["int", "str"]))
    pool = (
        st.integers(-2, 4)
        if label_kind == "int"
        else st.sampled_from(["a", "b", "c", "nan", "inf"])
    )
    labels = draw(st.lists(pool, min_size=len(cells), max_size=len(cells)))
    df = pd.DataFrame(
        {
            "task": _id_array([c[0] for c in cells]),
            "worker": _id_array([c[1] for c in cells]),
            "label": _id_array(labels),
        }
    )
    return df


@settings(max_examples=120, deadline=None)
@given(long_tables(), st.booleans())
def test_property_long_to_matrix_and_back(df, sparse):
    before = df.copy(deep=True)
    Y, tasks, workers, classes = crowd_matrix_from_long(df, sparse=sparse)
    pd.testing.assert_frame_equal(df, before)  # input unmodified
    assert Y.shape == (len(tasks), len(workers))
    assert set(tasks.tolist()) == set(df["task"].tolist())
    assert set(workers.tolist()) == set(df["worker"].tolist())
    assert classes.tolist() == sorted(set(df["label"].tolist()))
    long = crowd_matrix_to_long(
        Y, tasks=tasks, workers=workers, classes=classes if sparse else None
    )
    assert len(long) == len(df)
    assert _rows(long) == _rows(df)


@settings(max_examples=120, deadline=None)
@given(long_tables(allow_duplicates=True), st.sampled_from(["first", "last"]))
def test_property_duplicates(df, keep):
    pairs = list(zip(df["task"].tolist(), df["worker"].tolist(), strict=True))
    n_dup = len(pairs) - len(set(pairs))
    if n_dup:
        with pytest.raises(ValueError, match=f"{n_dup} duplicated"):
            crowd_matrix_from_long(df)
    else:
        crowd_matrix_from_long(df)
    expected = {}
    for pair, label in zip(pairs, df["label"].tolist(), strict=True):
        if keep == "last" or pair not in expected:
            expected[pair] = label
    for sparse in (False, True):
        Y, tasks, workers, classes = crowd_matrix_from_long(
            df, duplicates=keep, sparse=sparse
        )
        long = crowd_matrix_to_long(
            Y, tasks=tasks, workers=workers, classes=classes if sparse else None
        )
        assert _rows(long) == {(t, w, lab) for (t, w), lab in expected.items()}


@pytest.mark.parametrize("names", [("a", "b"), ("a", "b", "c", "d"), ("a", "a", "b")])
def test_to_long_bad_names(names):
    with pytest.raises(ValueError, match="names must be 3 distinct column names"):
        crowd_matrix_to_long(np.array([[0, 1], [1, 1]]), names=names)
