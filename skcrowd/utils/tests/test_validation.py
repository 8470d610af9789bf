"""Tests of the crowd validator: ``check_crowd_matrix``, ``CrowdMatrix``,
``is_missing_label``."""

import copy
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skcrowd.utils import CrowdMatrix, check_crowd_matrix, is_missing_label

SPARSE_FORMATS = ["csr", "csc", "coo"]


# ---------------------------------------------------------------- helpers


def _same(a, b):
    """Exact equality of two arrays, NaN == NaN, None is None, dtypes equal."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O":
        return all(
            x is y or (type(x) is type(y) and (x == y or (x != x and y != y)))
            for x, y in zip(a.ravel(), b.ravel(), strict=True)
        )
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def _sparse_snapshot(S):
    """Everything a sparse matrix holds, copied."""
    if S.format == "coo":
        parts = (S.data, S.row, S.col)
    else:
        parts = (S.data, S.indices, S.indptr)
    return S.format, S.shape, [np.array(p, copy=True) for p in parts]


def _assert_sparse_unchanged(S, snap):
    fmt, shape, parts = snap
    assert S.format == fmt and S.shape == shape
    now = (S.data, S.row, S.col) if fmt == "coo" else (S.data, S.indices, S.indptr)
    for p, q in zip(now, parts, strict=True):
        assert _same(p, q)


def _check_consistent(crowd):
    """Invariants every CrowdMatrix satisfies."""
    assert isinstance(crowd, CrowdMatrix)
    for a in (crowd.item, crowd.worker, crowd.label):
        assert a.dtype == np.int64 and a.ndim == 1 and len(a) == crowd.n_labels
    assert crowd.n_labels > 0
    assert ((crowd.item >= 0) & (crowd.item < crowd.n_samples)).all()
    assert ((crowd.worker >= 0) & (crowd.worker < crowd.n_workers)).all()
    assert ((crowd.label >= 0) & (crowd.label < crowd.n_classes)).all()
    # one label per (item, worker) cell
    cells = crowd.item * crowd.n_workers + crowd.worker
    assert len(np.unique(cells)) == len(cells)
    if crowd.codes is not None:
        assert not crowd.sparse_input
        assert crowd.codes.shape == (crowd.n_samples, crowd.n_workers)
        assert crowd.codes.dtype == np.int64
        observed = crowd.codes != -1
        assert observed.sum() == crowd.n_labels
        assert (crowd.codes[crowd.item, crowd.worker] == crowd.label).all()
    else:
        assert crowd.sparse_input


def _triples(crowd):
    labels = crowd.classes[crowd.label].tolist()
    return set(zip(crowd.item.tolist(), crowd.worker.tolist(), labels, strict=True))


# ----------------------------------------------------------- dense labels


def test_docstring_example_float_with_nan():
    Y = np.array([[0, 1, np.nan], [1, 1, 1], [np.nan, 2, 2]])
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    np.testing.assert_array_equal(crowd.classes, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(crowd.codes, [[0, 1, -1], [1, 1, 1], [-1, 2, 2]])
    assert (crowd.n_samples, crowd.n_workers, crowd.n_classes) == (3, 3, 3)
    assert crowd.n_labels == 7
    assert not crowd.sparse_input


def test_int_labels_classes_are_sorted_observed_set():
    Y = np.array([[5, 3], [3, 9]])
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    assert crowd.classes.dtype.kind == "i"
    np.testing.assert_array_equal(crowd.classes, [3, 5, 9])
    np.testing.assert_array_equal(crowd.codes, [[1, 0], [0, 2]])


def test_int_labels_with_minus_one_marker():
    Y = np.array([[0, -1, 2], [-1, -1, 1]])
    crowd = check_crowd_matrix(Y, missing_label=-1)
    _check_consistent(crowd)
    np.testing.assert_array_equal(crowd.classes, [0, 1, 2])
    np.testing.assert_array_equal(crowd.codes, [[0, -1, 2], [-1, -1, 1]])
    # without the marker, -1 is a label like any other
    crowd = check_crowd_matrix(Y)
    np.testing.assert_array_equal(crowd.classes, [-1, 0, 1, 2])
    assert crowd.n_labels == 6


def test_float_labels_with_numeric_marker_and_nan():
    Y = np.array([[1.0, -1.0], [np.nan, 0.0]])
    crowd = check_crowd_matrix(Y, missing_label=-1)
    np.testing.assert_array_equal(crowd.classes, [0.0, 1.0])
    np.testing.assert_array_equal(crowd.codes, [[1, -1], [-1, 0]])


def test_string_labels_unicode_array_with_empty_marker():
    Y = np.array([["cat", ""], ["dog", "cat"]])
    crowd = check_crowd_matrix(Y, missing_label="")
    _check_consistent(crowd)
    np.testing.assert_array_equal(crowd.classes, ["cat", "dog"])
    np.testing.assert_array_equal(crowd.codes, [[0, -1], [1, 0]])
    # without the marker, "" is an observed label
    assert "" in check_crowd_matrix(Y).classes.tolist()


def test_string_labels_object_array_none_and_nan_missing():
    Y = np.array([["cat", None], [np.nan, "dog"]], dtype=object)
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    assert crowd.classes.tolist() == ["cat", "dog"]
    np.testing.assert_array_equal(crowd.codes, [[0, -1], [-1, 1]])


def test_list_of_strings_with_nan_keeps_nan_missing():
    # np.asarray would turn NaN into the string 'nan', a label
    crowd = check_crowd_matrix([["cat", np.nan], ["dog", "cat"]])
    assert crowd.classes.tolist() == ["cat", "dog"]
    np.testing.assert_array_equal(crowd.codes, [[0, -1], [1, 0]])
    crowd = check_crowd_matrix([["cat", None]])
    assert crowd.classes.tolist() == ["cat"]


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "None", ""])
def test_strings_that_look_like_numbers_are_labels(text):
    for other in ("a", "1"):  # "1": every label parses as a float
        for Y in (
            np.array([[text, other]], dtype=object),
            np.array([[text, other]]),
        ):
            crowd = check_crowd_matrix(Y)
            assert sorted(crowd.classes.tolist()) == sorted([text, other])
            assert crowd.n_labels == 2


def test_object_array_of_numbers_gets_numeric_classes():
    Y = np.array([[1, None], [2, 1]], dtype=object)
    crowd = check_crowd_matrix(Y)
    assert crowd.classes.dtype == np.int64
    np.testing.assert_array_equal(crowd.classes, [1, 2])
    Y = np.array([[1.0, None], [2.0, np.nan]], dtype=object)
    np.testing.assert_array_equal(check_crowd_matrix(Y).classes, [1, 2])


def test_object_array_of_large_ints_is_exact():
    big = 2**60
    Y = np.array([[big, big + 1, None]], dtype=object)
    crowd = check_crowd_matrix(Y)
    assert crowd.classes.tolist() == [big, big + 1]


def test_bool_labels():
    Y = np.array([[True, False], [False, False]])
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    assert crowd.classes.dtype == bool
    np.testing.assert_array_equal(crowd.classes, [False, True])
    np.testing.assert_array_equal(crowd.codes, [[1, 0], [0, 0]])
    # bools with missing values (object array) stay bools
    Y = np.array([[True, None], [False, True]], dtype=object)
    crowd = check_crowd_matrix(Y)
    assert crowd.classes.dtype == bool
    np.testing.assert_array_equal(crowd.classes, [False, True])


def test_pandas_nullable_int64_dataframe():
    df = pd.DataFrame(
        {
            "w0": pd.array([1, None, 2], dtype="Int64"),
            "w1": pd.array([2, 2, None], dtype="Int64"),
        }
    )
    crowd = check_crowd_matrix(df)
    _check_consistent(crowd)
    assert crowd.classes.dtype.kind == "i"
    np.testing.assert_array_equal(crowd.classes, [1, 2])
    np.testing.assert_array_equal(crowd.codes, [[0, 1], [-1, 1], [1, -1]])


def test_pandas_nullable_with_numeric_marker_and_na_marker():
    df = pd.DataFrame({"w0": pd.array([1, -1, None], dtype="Int64")})
    crowd = check_crowd_matrix(df, missing_label=-1)
    np.testing.assert_array_equal(crowd.classes, [1])
    np.testing.assert_array_equal(crowd.codes, [[0], [-1], [-1]])
    crowd = check_crowd_matrix(df, missing_label=pd.NA)
    np.testing.assert_array_equal(crowd.classes, [-1, 1])
    Y = np.array([["a", pd.NA], [pd.NA, "b"]], dtype=object)
    crowd = check_crowd_matrix(Y, missing_label=pd.NA)
    assert crowd.classes.tolist() == ["a", "b"]
    crowd = check_crowd_matrix(Y, missing_label="b")
    assert crowd.classes.tolist() == ["a"]


def test_pandas_string_and_boolean_dtypes():
    df = pd.DataFrame({"w0": pd.array(["x", None, ""], dtype="string")})
    crowd = check_crowd_matrix(df, missing_label="")
    assert crowd.classes.tolist() == ["x"]
    np.testing.assert_array_equal(crowd.codes, [[0], [-1], [-1]])
    df = pd.DataFrame({"w0": pd.array([True, None, False], dtype="boolean")})
    np.testing.assert_array_equal(check_crowd_matrix(df).classes, [False, True])


def test_pandas_plain_dataframe_and_series():
    df = pd.DataFrame({"a": [0.0, np.nan, 1.0], "b": [1.0, 1.0, np.nan]})
    crowd = check_crowd_matrix(df)
    np.testing.assert_array_equal(crowd.codes, [[0, 1], [-1, 1], [1, -1]])
    crowd = check_crowd_matrix(pd.Series([1, np.nan, 2]))
    assert (crowd.n_samples, crowd.n_workers) == (3, 1)
    np.testing.assert_array_equal(crowd.codes, [[0], [-1], [1]])


def test_one_dimensional_y_is_a_one_worker_crowd():
    y = np.array([0, 1, np.nan, 1])
    crowd = check_crowd_matrix(y)
    _check_consistent(crowd)
    assert (crowd.n_samples, crowd.n_workers) == (4, 1)
    np.testing.assert_array_equal(crowd.item, [0, 1, 3])
    np.testing.assert_array_equal(crowd.worker, [0, 0, 0])
    np.testing.assert_array_equal(crowd.codes, [[0], [1], [-1], [1]])
    crowd = check_crowd_matrix(["a", "b", "a"])
    assert crowd.classes.tolist() == ["a", "b"] and crowd.n_workers == 1


def test_worker_without_any_label_is_allowed():
    Y = np.array([[0, np.nan, 1], [1, np.nan, np.nan]])
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    assert crowd.n_workers == 3
    np.testing.assert_array_equal(crowd.labels_per_worker(), [2, 0, 1])
    np.testing.assert_array_equal(crowd.labels_per_item(), [2, 1])


def test_item_without_any_label_is_allowed():
    crowd = check_crowd_matrix(np.array([[0, 1], [np.nan, np.nan]]))
    np.testing.assert_array_equal(crowd.labels_per_item(), [2, 0])
    assert crowd.n_samples == 2


# ---------------------------------------------------------------- classes=


def test_classes_encoding_includes_unobserved_classes():
    Y = np.array([[0, 2], [np.nan, 2]])
    crowd = check_crowd_matrix(Y, classes=[0, 1, 2])
    _check_consistent(crowd)
    np.testing.assert_array_equal(crowd.classes, [0, 1, 2])
    np.testing.assert_array_equal(crowd.codes, [[0, 2], [-1, 2]])
    assert crowd.vote_counts().shape == (2, 3)


def test_classes_in_any_order_codes_index_them():
    Y = np.array([["dog", "cat"], ["cat", None]], dtype=object)
    crowd = check_crowd_matrix(Y, classes=["dog", "bird", "cat"])
    assert crowd.classes.tolist() == ["dog", "bird", "cat"]
    np.testing.assert_array_equal(crowd.codes, [[0, 2], [2, -1]])
    labels = crowd.classes[crowd.codes[crowd.codes >= 0]]
    assert labels.tolist() == ["dog", "cat", "cat"]


def test_unknown_label_with_classes_raises():
    Y = np.array([[0, 3], [1, 1]])
    with pytest.raises(ValueError, match="not among the known classes"):
        check_crowd_matrix(Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not among the known classes"):
        check_crowd_matrix(np.array([["a", "z"]]), classes=["a", "b"])
    with pytest.raises(ValueError, match="not among the known classes"):
        check_crowd_matrix(np.array([["a"]]), classes=[0, 1])
    with pytest.raises(ValueError, match="classes must be a non-empty 1-D"):
        check_crowd_matrix(np.array([[0]]), classes=[])


@pytest.mark.parametrize("classes", [[0, 0, 1], ["b", "a", "b"]])
def test_repeated_classes_raise(classes):
    # a repeated class got a code that no label maps to: worker_confusion
    # returned a NaN row for it
    Y = np.array([[classes[0], classes[-1]], [classes[-1], classes[-1]]], dtype=object)
    with pytest.raises(ValueError, match="classes must not repeat a label"):
        check_crowd_matrix(Y, classes=classes)


# -------------------------------------------------------------- n_samples


def test_n_samples_mismatch_raises():
    Y = np.array([[0, 1], [1, 1]])
    assert check_crowd_matrix(Y, n_samples=2).n_samples == 2
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        check_crowd_matrix(Y, n_samples=3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        check_crowd_matrix(sp.csr_array(Y), n_samples=5)


# ------------------------------------------------------------------- sparse


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_sparse_stored_zeros_are_labels_unstored_missing(fmt):
    item = np.array([0, 0, 1, 3])
    worker = np.array([0, 2, 1, 2])
    data = np.array([0, 1, 0, 2])
    Y = sp.coo_array((data, (item, worker)), shape=(4, 3)).asformat(fmt)
    assert Y.nnz == 4  # explicit zeros stored
    crowd = check_crowd_matrix(Y)
    _check_consistent(crowd)
    assert crowd.sparse_input and crowd.codes is None
    assert (crowd.n_samples, crowd.n_workers) == (4, 3)
    np.testing.assert_array_equal(crowd.classes, [0, 1, 2])
    assert _triples(crowd) == {(0, 0, 0), (0, 2, 1), (1, 1, 0), (3, 2, 2)}
    np.testing.assert_array_equal(
        crowd.dense_codes(), [[0, -1, 1], [-1, 0, -1], [-1, -1, -1], [-1, -1, 2]]
    )


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_sparse_matrix_classes_also_accepted(fmt):
    Y = sp.random(20, 5, density=0.3, format=fmt, random_state=0)
    Y.data[:] = np.arange(Y.nnz) % 3
    crowd = check_crowd_matrix(Y)
    assert crowd.n_labels == Y.nnz
    dense = Y.toarray()
    observed = np.zeros(Y.shape, dtype=bool)
    coo = Y.tocoo()
    observed[coo.row, coo.col] = True
    expected = np.where(observed, dense, -1).astype(np.int64)
    np.testing.assert_array_equal(crowd.dense_codes(), expected)


def test_sparse_stored_nan_and_marker_are_missing():
    Y = sp.csr_array(
        (np.array([1.0, np.nan, -1.0, 0.0]), (np.array([0, 0, 1, 1]), [0, 1, 0, 1])),
        shape=(2, 2),
    )
    crowd = check_crowd_matrix(Y, missing_label=-1)
    assert _triples(crowd) == {(0, 0, 1.0), (1, 1, 0.0)}


def test_sparse_duplicate_entries_raise():
    Y = sp.coo_array(
        (np.array([1, 2, 0]), (np.array([0, 0, 1]), np.array([1, 1, 0]))),
        shape=(2, 2),
    )
    with pytest.raises(ValueError, match=r"duplicate entries .*\(0, 1\)"):
        check_crowd_matrix(Y)
    # a csr matrix built from (data, indices, indptr) may hold duplicates too
    csr = sp.csr_array(
        (np.array([1, 2, 0]), np.array([1, 1, 0]), np.array([0, 2, 3])),
        shape=(2, 2),
    )
    with pytest.raises(ValueError, match=r"duplicate entries .*\(0, 1\)"):
        check_crowd_matrix(csr)
    # a canonical matrix (duplicates summed) is fine
    assert check_crowd_matrix(Y.tocsr()).n_labels == 2


def test_huge_sparse_crowd_is_never_densified():
    rng = np.random.default_rng(0)
    n = 300
    Y = sp.csr_array(
        (
            rng.integers(0, 4, n).astype(float),
            (rng.choice(10**7, n, replace=False), rng.integers(0, 10**5, n)),
        ),
        shape=(10**7, 10**5),
    )
    start = time.perf_counter()
    crowd = check_crowd_matrix(Y)
    assert time.perf_counter() - start < 2.0
    assert crowd.codes is None and crowd.sparse_input
    assert crowd.n_labels == n and crowd.n_samples == 10**7
    votes = crowd.vote_counts()
    assert votes.shape == (10**7, crowd.n_classes) and votes.sum() == n
    sub = crowd.subset(np.unique(crowd.item)[:10])
    assert sub.n_samples == 10 and sub.codes is None and sub.n_labels >= 10


def test_sparse_result_does_not_share_memory_with_input():
    Y = sp.coo_array(
        (np.array([1, 0]), (np.array([0, 1], dtype=np.int64), np.array([1, 0]))),
        shape=(2, 2),
    )
    Y.col = Y.col.astype(np.int64)
    crowd = check_crowd_matrix(Y)
    for a in (crowd.item, crowd.worker):
        for b in (Y.row, Y.col, Y.data):
            assert not np.shares_memory(a, b)


def test_sparse_errors():
    with pytest.raises(ValueError, match="no observed label"):
        check_crowd_matrix(sp.csr_array((3, 4)))
    with pytest.raises(ValueError, match="empty"):
        check_crowd_matrix(sp.csr_array((0, 4)))
    with pytest.raises(ValueError, match="Unknown label type"):
        check_crowd_matrix(sp.csr_array(np.array([[0.5, 0, 2.0]])))
    with pytest.raises(ValueError, match="infinity"):
        check_crowd_matrix(sp.csr_array(np.array([[np.inf, 0, 2.0]])))


# -------------------------------------------------------------- bad inputs


BAD_INPUTS = [
    (np.full((3, 2), np.nan), {}, "no observed label"),
    (np.array([[None, None]], dtype=object), {}, "no observed label"),
    (np.array([[-1, -1]]), {"missing_label": -1}, "no observed label"),
    (np.array([["", ""]]), {"missing_label": ""}, "no observed label"),
    (np.zeros((3, 0)), {}, "no worker column|no observed label"),
    (pd.DataFrame({"a": pd.array([None, None], dtype="Int64")}), {}, "no observed"),
    (np.array([[0.5, 1.0], [2.0, np.nan]]), {}, "Unknown label type"),
    (np.array([[0.5, None]], dtype=object), {}, "Unknown label type"),
    (np.array([[(1, 2), None]], dtype=object), {}, "multi-label"),
    (np.array([[object(), None]], dtype=object), {}, "Unknown label type"),
    (np.array([[1 + 1j, 1]]), {}, "Complex"),
    (np.array([[np.inf, 1.0]]), {}, "infinity"),
    (np.array([[-np.inf, 1.0]]), {}, "infinity"),
    (np.array([[np.inf, None]], dtype=object), {}, "infinity"),
    (np.array([["a", 1]], dtype=object), {}, "mix strings and numbers"),
    (np.array([["1", 1]], dtype=object), {}, "mix strings and numbers"),
    (np.array([["a", 1.0, None]], dtype=object), {}, "mix strings and numbers"),
    (np.array([[b"a", b"b"]]), {}, "bytes"),
    (np.zeros((2, 2, 2)), {}, "3 dimensions"),
    (np.asarray(1.0), {}, "0 dimensions"),
    (np.array([]), {}, "empty"),
    (np.zeros((0, 3)), {}, "empty"),
    ([], {}, "empty"),
    (None, {}, "None"),
]


@pytest.mark.parametrize(
    "Y, kwargs, match", BAD_INPUTS, ids=[m for _, _, m in BAD_INPUTS]
)
def test_bad_input_raises_value_error_naming_problem(Y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_crowd_matrix(Y, **kwargs)


def test_input_name_used_in_messages():
    with pytest.raises(ValueError, match="crowd_y has no observed label"):
        check_crowd_matrix(np.full(3, np.nan), input_name="crowd_y")
    with pytest.raises(ValueError, match="crowd_y is None"):
        check_crowd_matrix(None, input_name="crowd_y")


# ---------------------------------------------------------- not modified


def test_inputs_are_not_modified():
    inputs = [
        np.array([[0, 1, np.nan], [1, np.nan, 2]]),
        np.array([[0, -1], [2, 1]]),
        np.array([["a", ""], ["b", "a"]]),
        np.array([["a", None], [np.nan, "b"]], dtype=object),
        np.array([[1, pd.NA], [2, None]], dtype=object),
    ]
    for Y in inputs:
        before = Y.copy()
        for kwargs in ({}, {"missing_label": -1}, {"missing_label": ""}):
            try:
                crowd = check_crowd_matrix(Y, **kwargs)
            except ValueError:
                continue
            assert not np.shares_memory(crowd.codes, Y)
            assert _same(Y, before)

    df = pd.DataFrame(
        {
            "a": pd.array([1, None, 2], dtype="Int64"),
            "b": [0.0, 1.0, np.nan],
            "c": ["x", None, "y"],
        }
    )
    df_before = df.copy(deep=True)
    check_crowd_matrix(df[["a", "b"]])
    check_crowd_matrix(df[["c"]])
    pd.testing.assert_frame_equal(df, df_before)

    for fmt in SPARSE_FORMATS:
        S = sp.coo_array(
            (np.array([0.0, 1.0, np.nan]), ([0, 1, 1], [1, 0, 1])), shape=(3, 2)
        ).asformat(fmt)
        snap = _sparse_snapshot(S)
        crowd = check_crowd_matrix(S)
        crowd.subset([1, 0]).vote_counts()
        _assert_sparse_unchanged(S, snap)


def test_inputs_not_modified_when_raising():
    Y = np.array([[0.5, np.nan]])
    before = Y.copy()
    with pytest.raises(ValueError):
        check_crowd_matrix(Y)
    assert _same(Y, before)


# -------------------------------------------------------- CrowdMatrix API


@pytest.fixture
def toy_crowd():
    Y = np.array(
        [
            ["a", "b", None],
            ["b", "b", "b"],
            [None, "c", "a"],
            [None, None, None],
        ],
        dtype=object,
    )
    return Y, check_crowd_matrix(Y)


def test_dense_codes_labels_per_item_worker(toy_crowd):
    Y, crowd = toy_crowd
    assert crowd.dense_codes() is crowd.codes
    np.testing.assert_array_equal(
        crowd.codes, [[0, 1, -1], [1, 1, 1], [-1, 2, 0], [-1, -1, -1]]
    )
    np.testing.assert_array_equal(crowd.labels_per_item(), [2, 3, 2, 0])
    np.testing.assert_array_equal(crowd.labels_per_worker(), [2, 3, 2])


def test_vote_counts(toy_crowd):
    _, crowd = toy_crowd
    votes = crowd.vote_counts()
    assert sp.issparse(votes) and votes.shape == (4, 3)
    np.testing.assert_array_equal(
        votes.toarray(), [[1, 1, 0], [0, 3, 0], [1, 0, 1], [0, 0, 0]]
    )
    weights = np.arange(1, crowd.n_labels + 1, dtype=float)
    weighted = crowd.vote_counts(weights).toarray()
    expected = np.zeros((4, 3))
    np.add.at(expected, (crowd.item, crowd.label), weights)
    np.testing.assert_allclose(weighted, expected)
    # per-worker weights (e.g. worker reliabilities), hand-computed
    worker_weights = np.array([10.0, 1.0, 0.5])[crowd.worker]
    got = crowd.vote_counts(worker_weights).toarray()
    np.testing.assert_allclose(got, [[10, 1, 0], [0, 11.5, 0], [0.5, 0, 1], [0, 0, 0]])


def _coo_dense(crowd):
    dense = np.full((crowd.n_samples, crowd.n_workers), -1, dtype=np.int64)
    dense[crowd.item, crowd.worker] = crowd.label
    return dense


@pytest.mark.parametrize("sparse_input", [False, True])
@pytest.mark.parametrize(
    "rows",
    [
        [2, 0],
        [1, 1, 3, 1],
        [],
        [-1, 0],
        np.array([True, False, True, True]),
        np.array([False] * 4),
        np.arange(4, dtype=np.uint8),
    ],
    ids=["order", "repeat", "empty", "negative", "mask", "empty-mask", "uint"],
)
def test_subset(toy_crowd, sparse_input, rows):
    _, crowd = toy_crowd
    if sparse_input:
        crowd = check_crowd_matrix(
            sp.coo_array(
                (crowd.label, (crowd.item, crowd.worker)),
                shape=(crowd.n_samples, crowd.n_workers),
            ),
            classes=np.arange(crowd.n_classes),
        )
    full = crowd.dense_codes()
    sub = crowd.subset(rows)
    index = np.asarray(rows)
    expected = full[index if index.dtype == bool else index.astype(np.int64)]
    assert sub.n_samples == len(expected)
    assert sub.n_workers == crowd.n_workers
    assert sub.classes is crowd.classes
    assert sub.sparse_input == sparse_input
    np.testing.assert_array_equal(_coo_dense(sub), expected)
    np.testing.assert_array_equal(sub.dense_codes(), expected)
    if not sparse_input:
        np.testing.assert_array_equal(sub.codes, expected)
    np.testing.assert_array_equal(sub.labels_per_item(), (expected >= 0).sum(axis=1))


def test_subset_bad_rows(toy_crowd):
    _, crowd = toy_crowd
    with pytest.raises(IndexError, match="out of bounds"):
        crowd.subset([4])
    with pytest.raises(IndexError, match="out of bounds"):
        crowd.subset([-5])
    with pytest.raises(IndexError, match="boolean mask"):
        crowd.subset([True, False])
    with pytest.raises(IndexError, match="integer indices"):
        crowd.subset([0.5])


# ------------------------------------------------------- is_missing_label


def test_is_missing_label():
    np.testing.assert_array_equal(
        is_missing_label(np.array([1.0, np.nan, -1.0]), -1), [False, True, True]
    )
    np.testing.assert_array_equal(
        is_missing_label(np.array([1, -1]), missing_label=""), [False, False]
    )
    np.testing.assert_array_equal(
        is_missing_label(np.array(["a", ""]), missing_label=np.nan), [False, False]
    )
    np.testing.assert_array_equal(
        is_missing_label(np.array(["a", ""]), missing_label=-1), [False, False]
    )
    values = np.array(["a", None, np.nan, pd.NA, "", 3, pd.NaT], dtype=object)
    np.testing.assert_array_equal(
        is_missing_label(values, missing_label=""),
        [False, True, True, True, True, False, True],
    )
    np.testing.assert_array_equal(
        is_missing_label(values, missing_label=3),
        [False, True, True, True, False, True, True],
    )
    for marker in (None, np.nan, pd.NA):
        np.testing.assert_array_equal(
            is_missing_label(values, missing_label=marker),
            [False, True, True, True, False, False, True],
        )
    mask = is_missing_label(np.array([[1, 2], [2, 1]]), missing_label=2)
    assert mask.shape == (2, 2) and mask.dtype == bool
    np.testing.assert_array_equal(mask, [[False, True], [True, False]])


# ------------------------------------------------------- property based

INT_LABELS = st.integers(min_value=0, max_value=6)
STR_LABELS = st.one_of(
    st.sampled_from(["cat", "dog", "nan", "inf", "None", "0", "-1", "Ä"]),
    st.text(alphabet="abcxyz01 ", min_size=1, max_size=3),
)


@st.composite
def crowds(draw, labels=None):
    """(Y, missing_label, observed mask, label matrix) for a random crowd."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["int", "str"])) if labels is None else labels
    pool = INT_LABELS if kind == "int" else STR_LABELS
    values = draw(st.lists(pool, min_size=n * m, max_size=n * m))
    observed = np.array(
        draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    if not observed.any():
        observed.flat[draw(st.integers(0, n * m - 1))] = True
    if kind == "int":
        labels_arr = np.array(values, dtype=np.int64).reshape(n, m)
        style = draw(st.sampled_from(["float-nan", "int-marker", "object-none"]))
        if style == "float-nan":
            Y = np.where(observed, labels_arr, np.nan)
            missing_label = np.nan
        elif style == "int-marker":
            Y = np.where(observed, labels_arr, -1)
            missing_label = -1
        else:
            Y = np.empty((n, m), dtype=object)
            Y[observed] = [int(v) for v in labels_arr[observed]]
            missing_label = np.nan
    else:
        labels_arr = np.empty((n, m), dtype=object)
        labels_arr.flat[:] = values
        style = draw(st.sampled_from(["object-none", "object-nan", "unicode-empty"]))
        if style == "unicode-empty":
            Y = np.where(observed, labels_arr.astype(str), "")
            missing_label = ""
        else:
            Y = labels_arr.copy()
            Y[~observed] = None if style == "object-none" else np.nan
            missing_label = np.nan
    if draw(st.booleans()) and m == 1:
        Y = Y.ravel()  # a one-worker crowd given as 1-D y
    return Y, missing_label, observed, labels_arr


@settings(max_examples=150, deadline=None)
@given(crowds())
def test_property_codes_round_trip(case):
    Y, missing_label, observed, labels = case
    before = Y.copy()
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    _check_consistent(crowd)
    assert _same(Y, before)  # input unmodified
    assert (crowd.n_samples, crowd.n_workers) == observed.shape
    # the mask of missing is exactly codes == -1
    np.testing.assert_array_equal(crowd.codes == -1, ~observed)
    # classes_[codes] reproduces the observed labels exactly
    decoded = crowd.classes[crowd.codes[observed]]
    assert decoded.tolist() == labels[observed].tolist()
    # classes are the sorted set of observed labels
    assert crowd.classes.tolist() == sorted(set(labels[observed].tolist()))
    # the COO view is row-major over the observed cells
    item, worker = np.nonzero(observed)
    np.testing.assert_array_equal(crowd.item, item)
    np.testing.assert_array_equal(crowd.worker, worker)
    np.testing.assert_array_equal(crowd.labels_per_item(), observed.sum(axis=1))
    np.testing.assert_array_equal(crowd.labels_per_worker(), observed.sum(axis=0))
    votes = crowd.vote_counts().toarray()
    assert votes.sum() == observed.sum()
    np.testing.assert_array_equal(votes.sum(axis=1), observed.sum(axis=1))


@settings(max_examples=100, deadline=None)
@given(crowds(labels="int"), st.sampled_from(SPARSE_FORMATS), st.booleans())
def test_property_dense_and_sparse_agree(case, fmt, as_matrix):
    Y, missing_label, observed, labels = case
    dense = check_crowd_matrix(Y, missing_label=missing_label)
    item, worker = np.nonzero(observed)
    build = sp.coo_matrix if as_matrix else sp.coo_array
    S = build(
        (labels[observed].astype(float), (item, worker)), shape=observed.shape
    ).asformat(fmt)
    snap = _sparse_snapshot(S)
    sparse = check_crowd_matrix(S)
    _check_consistent(sparse)
    _assert_sparse_unchanged(S, snap)
    assert sparse.codes is None
    assert _triples(sparse) == _triples(dense)
    np.testing.assert_array_equal(sparse.dense_codes(), dense.codes)
    np.testing.assert_array_equal(sparse.labels_per_item(), dense.labels_per_item())
    np.testing.assert_array_equal(
        sparse.vote_counts().toarray(), dense.vote_counts().toarray()
    )


@settings(max_examples=80, deadline=None)
@given(
    crowds(),
    st.lists(st.integers(-7, 6), max_size=10),
)
def test_property_subset_matches_dense_rows(case, rows):
    Y, missing_label, observed, _ = case
    crowd = check_crowd_matrix(Y, missing_label=missing_label)
    n = crowd.n_samples
    rows = [r for r in rows if -n <= r < n]
    sub = crowd.subset(rows)
    expected = crowd.codes[np.asarray(rows, dtype=np.int64)]
    np.testing.assert_array_equal(sub.codes, expected)
    np.testing.assert_array_equal(_coo_dense(sub), expected)


@st.composite
def bad_crowds(draw):
    """A valid crowd corrupted in one way, with the message it must raise."""
    Y, missing_label, observed, _ = draw(crowds())
    Y = Y.reshape(observed.shape)
    how = draw(
        st.sampled_from(
            ["all-missing", "continuous", "inf", "mixed", "3d", "empty", "none"]
        )
    )
    i, j = draw(st.integers(0, Y.shape[0] - 1)), draw(st.integers(0, Y.shape[1] - 1))
    if how == "all-missing":
        if Y.dtype.kind == "O":
            Y = np.full(Y.shape, None, dtype=object)
        else:
            Y = np.full_like(Y, missing_label)
        return Y, missing_label, "no observed label"
    if how == "continuous":
        Y = np.where(observed, 0.0, np.nan)
        Y[i, j] = draw(st.sampled_from([0.5, 1.25, -3.75]))
        return Y, np.nan, "Unknown label type"
    if how == "inf":
        Y = np.where(observed, 1.0, np.nan)
        Y[i, j] = draw(st.sampled_from([np.inf, -np.inf]))
        if draw(st.booleans()):
            Y = Y.astype(object)
        return Y, np.nan, "infinity"
    if how == "mixed":
        Y = np.empty(Y.shape, dtype=object)
        Y[i, j] = "a"
        Y.flat[(i * Y.shape[1] + j + 1) % Y.size] = 1
        if Y.size == 1:
            Y = np.array([["a", 1]], dtype=object)
        return Y, np.nan, "mix strings and numbers"
    if how == "3d":
        return Y[..., None], missing_label, "dimensions"
    if how == "empty":
        return Y[:0], missing_label, "empty"
    return None, missing_label, "None"


@settings(max_examples=150, deadline=None)
@given(bad_crowds())
def test_property_bad_input_raises_value_error(case):
    Y, missing_label, match = case
    before = copy.deepcopy(Y)
    with pytest.raises(ValueError, match=match):
        check_crowd_matrix(Y, missing_label=missing_label)
    if Y is not None:
        assert _same(Y, before)


# sklearn's type_of_target casts floats beyond int64 to int to test them
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
    )
)
def test_property_any_float_array_validates_or_raises_value_error(Y):
    before = Y.copy()
    try:
        crowd = check_crowd_matrix(Y)
    except ValueError as exc:
        message = str(exc)
        assert any(
            key in message
            for key in ("no observed label", "Unknown label type", "infinity", "empty")
        ), message
    else:
        _check_consistent(crowd)
        observed = ~np.isnan(Y.reshape(len(Y), -1))
        np.testing.assert_array_equal(crowd.codes != -1, observed)
        np.testing.assert_array_equal(
            crowd.classes[crowd.codes[observed]], Y.reshape(len(Y), -1)[observed]
        )
    assert _same(Y, before)
