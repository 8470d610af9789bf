"""Robustness of every public estimator to bad, messy and extreme input.

Users feed skcrowd raw exports from crowdsourcing platforms. For every
estimator of :func:`skcrowd.utils.estimator_checks.all_estimators` (so new
estimators are covered automatically) and every kind of bad input that
applies to its family, each case either

- raises a ``ValueError``/``TypeError`` whose message names the problem,
  raised by skcrowd's or scikit-learn's validation (never deep inside torch,
  scipy or numpy), or
- works as documented: finite probabilities that sum to one, predictions
  among ``classes_``, and, where the input is an encoding of a reference
  input (strings for ints, ``None`` or ``pandas.NA`` for NaN, sparse for
  dense, ...), the very same result as the reference.

Inputs are never modified (hashed before and after every call).

The cases are grouped by family: aggregators (``fit(Y)``), crowd classifiers
(``fit(X, Y)``) and triplet embedders (``fit(triplets)``). An estimator of
no known family fails :func:`test_every_estimator_has_a_family`, so that a
new family gets its cases. :func:`test_bad_input_counts` asserts at least 20
kinds of bad input per estimator, and the table of counts (and of outcomes
in this session) is printed in pytest's terminal summary; the counts are
quoted in ``doc/robustness.rst`` (checked by
:func:`test_documented_counts_match`).

The second half checks numerical robustness on extreme crowds (finite
posteriors; EM's objective never decreases) and property-based (hypothesis)
fuzzing of random crowds and random triplet arrays.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skcrowd.aggregation import BaseAggregator, BaseEMAggregator
from skcrowd.base import CrowdClassifierMixin
from skcrowd.utils.estimator_checks import (
    all_estimators,
    construct_instance,
    labelled_instances,
    with_settings,
)

ESTIMATORS = all_estimators()
NAMES = [name for name, _ in ESTIMATORS]

#: Small, fast settings (applied where the estimator has the parameter).
FAST = {
    "max_epochs": 2,
    "hidden_units": (8,),
    "batch_size": None,
    "n_components": 2,
    "max_iter": 10,
    "inner_iter": 5,
    "random_state": 0,
}


def fast(est, **params):
    """``est`` with this file's small settings (see ``with_settings``)."""
    return with_settings(est, FAST, **params)


def make(cls, **params):
    return fast(construct_instance(cls), **params)


def instances():
    """``(id, unfitted instance)`` for each estimator (and each crowd model)."""
    return labelled_instances(FAST)


def family(cls):
    """``"aggregator"``, ``"classifier"``, ``"triplet"`` or None."""
    if issubclass(cls, BaseAggregator):
        return "aggregator"
    if issubclass(cls, CrowdClassifierMixin):
        return "classifier"
    if cls.__module__.startswith("skcrowd.embedding"):
        return "triplet"
    if cls.__module__.startswith("skcrowd.multilabel"):
        return "multilabel"
    return None


# -- harness -------------------------------------------------------------------
@dataclass
class Case:
    name: str
    family: str
    run: object  # run(cls) -> "raises" | "works"
    applies: object = None  # applies(cls) -> bool
    doc: str = ""


CASES: list[Case] = []
#: outcomes of this session: (estimator, case) -> "raises" | "works"
OUTCOMES: dict = {}


def case(name, families, applies=None):
    """Register ``fn(cls, family)`` as a case of each of ``families``."""

    def decorate(fn):
        for fam in families:
            CASES.append(
                Case(
                    name,
                    fam,
                    lambda cls, fam=fam: fn(cls, fam),
                    applies,
                    (fn.__doc__ or "").strip(),
                )
            )
        return fn

    return decorate


def cases_for(cls):
    fam = family(cls)
    return [
        c for c in CASES if c.family == fam and (c.applies is None or c.applies(cls))
    ]


def _content(obj):
    """The data of ``obj`` (not caches such as scipy's canonical-format flag)."""
    if sp.issparse(obj):
        parts = [obj.format, obj.shape, obj.dtype.str]
        if obj.format == "coo":
            return parts + [obj.row, obj.col, obj.data]
        if obj.format in ("csr", "csc"):
            return parts + [obj.indptr, obj.indices, obj.data]
        return parts + [obj.toarray()]
    if isinstance(obj, pd.DataFrame):
        return [
            list(obj.columns),
            [str(d) for d in obj.dtypes],
            obj.to_numpy(dtype=object),
        ]
    if hasattr(obj, "triplets") and hasattr(obj, "objects"):  # TripletData
        return [
            _content(obj.triplets),
            _content(obj.objects),
            _content(obj.workers),
            obj.n_objects,
        ]
    if isinstance(obj, np.ndarray):
        return [obj.dtype.str, obj.shape, obj.flags.writeable, obj]
    return obj


def fingerprint(*objects):
    return [joblib.hash(_content(obj)) for obj in objects]


class unchanged:
    """Context manager: the given inputs hash the same before and after."""

    def __init__(self, *objects):
        self.objects = objects

    def __enter__(self):
        self.before = fingerprint(*self.objects)
        return self

    def __exit__(self, *exc):
        assert fingerprint(*self.objects) == self.before, "an input was modified"
        return False


_ALLOWED_ORIGINS = ("skcrowd", f"sklearn{Path('/')}", "sklearn/")


def raises(match, fn, *args, exc=(ValueError, TypeError), **kwargs):
    """``fn`` raises ``exc`` matching ``match``, from skcrowd's or sklearn's code."""
    with unchanged(*args, *kwargs.values()):
        with pytest.raises(exc, match=match) as info:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(*args, **kwargs)
    origin = str(info.traceback[-1].path)
    assert any(part in origin for part in _ALLOWED_ORIGINS), (
        f"{info.type.__name__} raised deep inside {origin}: {info.value}"
    )
    return "raises"


def quiet(fn, *args, **kwargs):
    with unchanged(*args, *kwargs.values()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)


def check_proba(proba, n_samples, n_classes=None):
    proba = np.asarray(proba)
    assert proba.ndim == 2 and proba.shape[0] == n_samples, proba.shape
    if n_classes is not None:
        assert proba.shape[1] == n_classes
    assert np.all(np.isfinite(proba)), "non-finite probabilities"
    assert np.all(proba >= -1e-12) and np.all(proba <= 1 + 1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


# -- data ------------------------------------------------------------------------
N, W, K = 24, 5, 3


def base_data():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, K, N)
    Y = np.where(rng.rand(N, W) < 0.75, truth[:, None], rng.randint(0, K, (N, W)))
    Y = Y.astype(float)
    Y[rng.rand(N, W) < 0.3] = np.nan
    Y[:, 0] = truth  # every item has a label
    X = rng.randn(N, 3) + truth[:, None]
    return X, Y


X0, Y0 = base_data()
NAMES3 = np.array(["cat", "dog", "eel"], dtype=object)


def as_object(Y, mapping=None, missing=None):
    out = np.empty(Y.shape, dtype=object)
    present = ~np.isnan(Y)
    values = Y[present].astype(int)
    out[present] = [v if mapping is None else mapping[v] for v in values.tolist()]
    out[~present] = missing
    return out


def fit_on(est, fam, Y, X=None):
    """Fit ``est`` on the crowd (aggregators) or on (X, crowd)."""
    if fam == "aggregator":
        return quiet(est.fit, Y)
    X = X0[: _n_rows(Y)] if X is None else X
    return quiet(est.fit, X, Y)


def outputs(est, fam, Y, X=None):
    """``(proba, prediction)`` on the training items."""
    if fam == "aggregator":
        return quiet(est.predict_proba, Y), quiet(est.predict, Y)
    X = X0[: _n_rows(Y)] if X is None else X
    return quiet(est.predict_proba, X), quiet(est.predict, X)


def _n_rows(Y):
    return Y.shape[0] if hasattr(Y, "shape") else len(Y)


@dataclass
class CrowdSpec:
    """A crowd input and what it must do.

    ``expect`` is ``"raises"`` (with ``match``), ``"works"``, or ``"either"``
    (legitimately depends on the inner estimator: then a raise must match).
    ``reference`` is ``(Y_ref, label_map, ref_params)``: the result must be
    the reference's, with ``classes_`` mapped through ``label_map``.
    """

    Y: object
    expect: str = "works"
    match: str = ""
    reference: tuple | None = None
    params: dict = field(default_factory=dict)
    X: object = None


def run_crowd_spec(cls, fam, spec):
    est = make(cls, **spec.params)
    X = None if spec.X is None else spec.X
    if spec.expect == "raises":
        if fam == "aggregator":
            return raises(spec.match, est.fit, spec.Y)
        return raises(
            spec.match, est.fit, X0[: _n_rows(spec.Y)] if X is None else X, spec.Y
        )
    try:
        fit_on(est, fam, spec.Y, X)
    except (ValueError, TypeError) as exc:
        if spec.expect != "either":
            raise
        assert re.search(spec.match, str(exc)), str(exc)
        return "raises"
    proba, pred = outputs(est, fam, spec.Y, X)
    check_proba(proba, _n_rows(spec.Y), len(est.classes_))
    assert np.isin(pred, est.classes_).all()
    if spec.reference is not None:
        Y_ref, label_map, ref_params = spec.reference
        ref = make(cls, **ref_params)
        fit_on(ref, fam, Y_ref, X)
        ref_proba, ref_pred = outputs(ref, fam, Y_ref, X)
        mapped = [label_map(v) for v in ref.classes_.tolist()]
        assert list(est.classes_.tolist()) == mapped, (est.classes_, mapped)
        np.testing.assert_allclose(proba, ref_proba, rtol=1e-9, atol=1e-12)
        assert [label_map(v) for v in ref_pred.tolist()] == pred.tolist()
    return "works"


def crowd_case(name):
    """A crowd-input case for aggregators and crowd classifiers."""

    def decorate(make_spec):
        def run(cls, fam):
            return run_crowd_spec(cls, fam, make_spec())

        run.__doc__ = make_spec.__doc__
        case(name, ("aggregator", "classifier"))(run)
        return make_spec

    return decorate


def same(v):
    return v


# -- crowd cases: errors -------------------------------------------------------
@crowd_case("crowd_3d")
def _():
    """A 3-D crowd array."""
    return CrowdSpec(Y0[:, :, None], "raises", "dimensions")


@crowd_case("crowd_empty")
def _():
    """An empty crowd (0 items)."""
    return CrowdSpec(np.empty((0, W)), "raises", r"empty|0 sample")


@crowd_case("crowd_no_worker_column")
def _():
    """A crowd with items but no worker column."""
    return CrowdSpec(np.empty((N, 0)), "raises", r"no worker column|0 feature")


@crowd_case("crowd_all_missing")
def _():
    """Every label missing."""
    return CrowdSpec(np.full((N, W), np.nan), "raises", "no observed label")


@crowd_case("labels_mixed_str_int")
def _():
    """Labels mixing strings and ints."""
    Y = as_object(Y0)
    Y[0, 0], Y[1, 0] = "cat", 2
    return CrowdSpec(Y, "raises", "mix strings and numbers")


@crowd_case("labels_continuous")
def _():
    """Non-integral float labels."""
    return CrowdSpec(Y0 + 0.5, "raises", "continuous")


@crowd_case("labels_infinite")
def _():
    """An infinite label."""
    Y = Y0.copy()
    Y[2, 1] = np.inf
    return CrowdSpec(Y, "raises", "infinity")


@crowd_case("labels_bytes")
def _():
    """Bytes labels (undecoded CSV)."""
    Y = np.array([[b"a", b"b"], [b"b", b"b"]] * 6)
    return CrowdSpec(Y, "raises", "bytes")


@crowd_case("labels_complex")
def _():
    """Complex labels."""
    return CrowdSpec(Y0.astype(complex), "raises", "[Cc]omplex")


@crowd_case("labels_float_beyond_int64")
def _():
    """Huge float labels (1e300): integral, but no class label."""
    return CrowdSpec(Y0 * 1e300 + 1e300, "raises", "too large")


@crowd_case("labels_int_beyond_uint64")
def _():
    """Python ints beyond 2**64 in an object array."""
    return CrowdSpec(
        as_object(Y0, {0: 2**70, 1: 2**71, 2: 2**72}),
        "raises",
        "beyond the int64/uint64 range",
    )


@crowd_case("labels_arbitrary_objects")
def _():
    """Arbitrary Python objects as labels."""
    Y = as_object(Y0)
    Y[0, 0] = object()
    return CrowdSpec(Y, "raises", "Unknown label type")


@crowd_case("sparse_duplicate_cells")
def _():
    """A sparse crowd storing one (item, worker) cell twice."""
    coo = sp.coo_array(
        (np.r_[0, 1, 1, 2], (np.r_[0, 0, 1, 2], np.r_[0, 0, 1, 2])), shape=(3, 3)
    )
    return CrowdSpec(coo, "raises", "duplicate")


@crowd_case("sparse_continuous")
def _():
    """A sparse crowd with continuous stored values."""
    Y = sp.csr_array(np.where(np.isnan(Y0), 0, Y0 + 0.25))
    return CrowdSpec(Y, "raises", "continuous")


# -- crowd cases: works (as documented) ----------------------------------------
@crowd_case("item_all_missing")
def _():
    """An item nobody labelled (gets a finite posterior)."""
    Y = Y0.copy()
    Y[3] = np.nan
    return CrowdSpec(Y, "works")


@crowd_case("worker_all_missing")
def _():
    """A worker who labelled nothing."""
    Y = Y0.copy()
    Y[:, 2] = np.nan
    return CrowdSpec(Y, "works")


@crowd_case("single_observed_class")
def _():
    """Every label the same class (a classifier may need two classes)."""
    Y = np.where(np.isnan(Y0), np.nan, 1.0)
    return CrowdSpec(Y, "either", "class")


@crowd_case("labels_strings_none_missing")
def _():
    """String labels with None for missing: same as the int crowd."""
    return CrowdSpec(
        as_object(Y0, NAMES3), reference=(Y0, lambda v: NAMES3[int(v)], {})
    )


@crowd_case("labels_pandas_string_dtype")
def _():
    """A pandas 'string' DataFrame with pd.NA: same as the int crowd."""
    Y = pd.DataFrame(as_object(Y0, NAMES3)).astype("string")
    return CrowdSpec(Y, reference=(Y0, lambda v: NAMES3[int(v)], {}))


@crowd_case("missing_none_in_object_ints")
def _():
    """Ints in an object array with None for missing: same as NaN."""
    return CrowdSpec(as_object(Y0), reference=(Y0, int, {}))


@crowd_case("missing_pandas_NA_Int64")
def _():
    """A nullable Int64 DataFrame with pd.NA: same as NaN."""
    return CrowdSpec(pd.DataFrame(Y0).astype("Int64"), reference=(Y0, int, {}))


@crowd_case("labels_object_mixed_numbers")
def _():
    """Python ints and integral floats in one object array: same as numeric."""
    Y = as_object(Y0)
    Y[::2] = np.where(np.isnan(Y0[::2]), None, Y0[::2])
    return CrowdSpec(Y, reference=(Y0, int, {}))


@crowd_case("labels_bool")
def _():
    """Boolean labels."""
    Y = np.where(np.isnan(Y0), None, Y0 > 0).astype(object)
    return CrowdSpec(Y, reference=(np.where(np.isnan(Y0), np.nan, Y0 > 0), bool, {}))


@crowd_case("labels_huge_int64")
def _():
    """Int64 labels near 2**62: exact classes, no float rounding."""
    Y = np.where(np.isnan(Y0), -1, Y0).astype(np.int64) * (2**61)
    return CrowdSpec(
        Y,
        reference=(Y0, lambda v: int(v) * 2**61, {}),
        params={"missing_label": -(2**61)},
    )


@crowd_case("labels_uint64_beyond_int63")
def _():
    """uint64 labels at and above 2**63."""
    Y = np.where(np.isnan(Y0), 0, Y0 + 1).astype(np.uint64) + np.uint64(2**63)
    return CrowdSpec(
        Y,
        reference=(Y0, lambda v: int(v) + 1 + 2**63, {}),
        params={"missing_label": np.uint64(2**63)},
    )


@crowd_case("labels_negative")
def _():
    """Negative int labels."""
    return CrowdSpec(Y0 - 5, reference=(Y0, lambda v: v - 5, {}))


@crowd_case("labels_float32")
def _():
    """float32 labels."""
    return CrowdSpec(Y0.astype(np.float32), reference=(Y0, same, {}))


@crowd_case("sparse_explicit_zeros")
def _():
    """A sparse crowd whose stored zeros are labels: same as dense."""
    present = ~np.isnan(Y0)
    rows, cols = np.nonzero(present)
    Y = sp.csr_array((Y0[present], (rows, cols)), shape=Y0.shape)
    assert (Y.data == 0).any()
    return CrowdSpec(Y, reference=(Y0, same, {}))


@crowd_case("sparse_nan_entries_missing")
def _():
    """Stored NaN entries of a sparse crowd are missing labels."""
    Yf = np.where(np.isnan(Y0), -7.0, Y0)
    rows, cols = np.nonzero(np.ones_like(Yf, dtype=bool))
    data = np.where(Yf == -7.0, np.nan, Yf).ravel()
    Y = sp.coo_array((data, (rows, cols)), shape=Y0.shape)
    return CrowdSpec(Y, reference=(Y0, same, {}))


@crowd_case("missing_label_custom_int")
def _():
    """missing_label=-1 on an int crowd: same as NaN."""
    Y = np.where(np.isnan(Y0), -1, Y0).astype(np.int64)
    return CrowdSpec(Y, params={"missing_label": -1}, reference=(Y0, int, {}))


@crowd_case("missing_label_custom_string")
def _():
    """missing_label='?' on a string crowd."""
    Y = as_object(Y0, NAMES3, missing="?").astype(str)
    return CrowdSpec(
        Y, params={"missing_label": "?"}, reference=(Y0, lambda v: NAMES3[int(v)], {})
    )


@crowd_case("read_only_input")
def _():
    """A read-only crowd array."""
    Y = Y0.copy()
    Y.setflags(write=False)
    return CrowdSpec(Y, reference=(Y0, same, {}))


@crowd_case("fortran_order")
def _():
    """A Fortran-ordered crowd."""
    return CrowdSpec(np.asfortranarray(Y0), reference=(Y0, same, {}))


@crowd_case("nested_list_with_none")
def _():
    """A list of lists with None for missing."""
    return CrowdSpec(as_object(Y0).tolist(), reference=(Y0, int, {}))


@crowd_case("dataframe_named_workers")
def _():
    """A DataFrame with worker names as columns."""
    Y = pd.DataFrame(Y0, columns=[f"w{i}" for i in range(W)])
    return CrowdSpec(Y, reference=(Y0, same, {}))


@crowd_case("one_worker_1d")
def _():
    """A 1-D crowd: one worker."""
    return CrowdSpec(Y0[:, 0], "works")


@crowd_case("one_item")
def _():
    """A single item (a classifier may need two)."""
    return CrowdSpec(Y0[:1], "either", r"class|1 sample|n_samples")


@crowd_case("many_classes_few_labels")
def _():
    """As many classes as items, one label each."""
    Y = np.full((N, W), np.nan)
    Y[:, 0] = np.arange(N) * 3
    return CrowdSpec(Y, "works")


@crowd_case("duplicated_items")
def _():
    """Identical rows (the same item exported twice)."""
    return CrowdSpec(np.vstack([Y0, Y0]), "works", X=np.vstack([X0, X0]))


# -- aggregator-only cases ---------------------------------------------------------
def fitted(cls, **params):
    return quiet(make(cls, **params).fit, Y0)


@case("predict_unseen_class", ["aggregator"])
def _(cls, fam):
    """predict on a crowd holding a label the model never saw."""
    Y = Y0.copy()
    Y[0, 1] = 7
    return raises("not among the known classes", fitted(cls).predict, Y)


@case("predict_unseen_worker", ["aggregator"])
def _(cls, fam):
    """predict on a crowd with an extra (unseen) worker column."""
    Y = np.column_stack([Y0, Y0[:, 0]])
    return raises(r"features|workers", fitted(cls).predict_proba, Y)


@case("predict_fewer_workers", ["aggregator"])
def _(cls, fam):
    """predict on a crowd missing a worker column."""
    return raises(r"features|workers", fitted(cls).predict, Y0[:, :-1])


@case("predict_1d_on_many_workers", ["aggregator"])
def _(cls, fam):
    """predict on a 1-D crowd when fitted on several workers."""
    return raises("Expected 2D", fitted(cls).predict, Y0[:, 0])


@case("predict_renamed_workers", ["aggregator"])
def _(cls, fam):
    """predict on a DataFrame whose worker names differ from fit's."""
    est = quiet(make(cls).fit, pd.DataFrame(Y0, columns=[f"w{i}" for i in range(W)]))
    other = pd.DataFrame(Y0, columns=[f"v{i}" for i in range(W)])
    return raises("feature names", est.predict, other)


@case("predict_before_fit", ["aggregator", "classifier", "triplet"])
def _(cls, fam):
    """predict on an unfitted estimator."""
    est = make(cls)
    arg = Y0 if fam == "aggregator" else X0
    if fam == "triplet":
        arg = TRIPLETS
    return raises("not fitted", est.predict, arg, exc=NotFittedError)


@case("y_gold_wrong_length", ["aggregator"])
def _(cls, fam):
    """Gold labels with the wrong length."""
    return raises("y_gold", make(cls).fit, Y0, y_gold=np.zeros(N - 1))


@case("y_gold_unseen_label", ["aggregator"])
def _(cls, fam):
    """A gold label no worker gave."""
    gold = np.full(N, np.nan)
    gold[0] = 9
    return raises("y_gold", make(cls).fit, Y0, y_gold=gold)


@case("y_gold_all_missing", ["aggregator"])
def _(cls, fam):
    """Gold labels all missing: as without gold."""
    est = quiet(make(cls).fit, Y0, y_gold=np.full(N, np.nan))
    ref = fitted(cls)
    np.testing.assert_allclose(est.proba_, ref.proba_)
    return "works"


# -- crowd classifier cases: features ----------------------------------------------
def fit_classifier_raises(cls, match, X, Y=Y0, **kw):
    return raises(match, make(cls).fit, X, Y, **kw)


@case("X_nan", ["classifier"])
def _(cls, fam):
    """NaN in the features."""
    X = X0.copy()
    X[1, 1] = np.nan
    return fit_classifier_raises(cls, "NaN", X)


@case("X_inf", ["classifier"])
def _(cls, fam):
    """Infinity in the features."""
    X = X0.copy()
    X[1, 1] = np.inf
    return fit_classifier_raises(cls, "infinity", X)


@case("X_wrong_length", ["classifier"])
def _(cls, fam):
    """Features and crowd with different numbers of items."""
    return fit_classifier_raises(cls, "inconsistent numbers of samples", X0[:-2])


@case("X_1d", ["classifier"])
def _(cls, fam):
    """1-D features."""
    return fit_classifier_raises(cls, "Expected 2D", X0[:, 0])


@case("X_3d", ["classifier"])
def _(cls, fam):
    """3-D features."""
    return fit_classifier_raises(cls, r"dim 3|dimensions", X0[:, :, None])


@case("X_strings", ["classifier"])
def _(cls, fam):
    """Non-numeric string features."""
    X = X0.astype(object)
    X[0, 0] = "abc"
    return fit_classifier_raises(cls, r"could not convert|string", X)


@case("X_complex", ["classifier"])
def _(cls, fam):
    """Complex features."""
    return fit_classifier_raises(cls, "[Cc]omplex", X0 + 1j)


@case("X_zero_features", ["classifier"])
def _(cls, fam):
    """Features with no column."""
    return fit_classifier_raises(cls, "0 feature", np.empty((N, 0)))


@case("X_object_numbers", ["classifier"])
def _(cls, fam):
    """Numbers in an object array: as floats."""
    return run_crowd_spec(
        cls, fam, CrowdSpec(Y0, X=X0.astype(object), reference=(Y0, same, {}))
    )


@case("X_int", ["classifier"])
def _(cls, fam):
    """Integer features."""
    return run_crowd_spec(cls, fam, CrowdSpec(Y0, X=np.round(X0 * 10).astype(int)))


@case("X_dataframe", ["classifier"])
def _(cls, fam):
    """A DataFrame of features: as the array, with feature names."""
    Xdf = pd.DataFrame(X0, columns=["a", "b", "c"])
    est = quiet(make(cls).fit, Xdf, Y0)
    ref = quiet(make(cls).fit, X0, Y0)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(quiet(est.predict_proba, Xdf), ref.predict_proba(X0))
    return "works"


@case("X_too_large_for_float32", ["classifier"])
def _(cls, fam):
    """Feature values beyond float32 (1e39): rejected or finite results."""
    X = X0.copy()
    X[0, 0] = 1e39
    return run_crowd_spec(cls, fam, CrowdSpec(Y0, "either", "too large|infinity", X=X))


@case("X_sparse_explicit_zeros", ["classifier"])
def _(cls, fam):
    """Sparse features: as dense, or a clear 'sparse' error."""
    Xs = sp.csr_matrix(X0)
    Xs.data[::3] = 0.0  # explicit zeros
    spec = CrowdSpec(Y0, "either", "[Ss]parse", X=Xs, reference=None)
    outcome = run_crowd_spec(cls, fam, spec)
    if outcome == "works":
        dense = quiet(make(cls).fit, Xs.toarray(), Y0)
        est = quiet(make(cls).fit, Xs, Y0)
        np.testing.assert_allclose(
            est.predict_proba(Xs), dense.predict_proba(Xs.toarray())
        )
    return outcome


def _fitted_classifier(cls):
    return quiet(make(cls).fit, X0, Y0)


@case("predict_wrong_n_features", ["classifier"])
def _(cls, fam):
    """predict with a different number of features."""
    return raises("features", _fitted_classifier(cls).predict, X0[:, :2])


@case("predict_X_nan", ["classifier"])
def _(cls, fam):
    """predict on features with NaN."""
    X = X0.copy()
    X[0, 0] = np.nan
    return raises("NaN", _fitted_classifier(cls).predict_proba, X)


@case("predict_renamed_features", ["classifier"])
def _(cls, fam):
    """predict on a DataFrame whose columns differ from fit's."""
    est = quiet(make(cls).fit, pd.DataFrame(X0, columns=["a", "b", "c"]), Y0)
    return raises(
        "feature names", est.predict, pd.DataFrame(X0, columns=["x", "y", "z"])
    )


@case("crowd_unseen_class_at_predict", ["classifier"])
def _(cls, fam):
    """A crowd with a class unseen in fit: posterior refuses, score counts it wrong."""
    est = _fitted_classifier(cls)
    Y = Y0.copy()
    Y[:, 1] = 7
    if hasattr(est, "posterior_proba"):
        return raises("not among the known classes", est.posterior_proba, X0, Y)
    score = quiet(est.score, X0, Y)
    agree = quiet(est.score, X0, np.where(Y == 7, np.nan, Y))
    assert 0 <= score < agree <= 1
    return "works"


@case("crowd_unseen_worker_at_predict", ["classifier"])
def _(cls, fam):
    """A crowd with an extra worker at predict time."""
    est = _fitted_classifier(cls)
    Y = np.column_stack([Y0, Y0[:, 0]])
    if hasattr(est, "posterior_proba"):
        return raises("workers", est.posterior_proba, X0, Y)
    assert 0 <= quiet(est.score, X0, Y) <= 1
    return "works"


@case(
    "sample_weight_wrong_length",
    ["classifier"],
    applies=lambda cls: "sample_weight" in cls.fit.__code__.co_varnames,
)
def _(cls, fam):
    """sample_weight with the wrong length."""
    return fit_classifier_raises(
        cls, "sample_weight|samples", X0, Y0, sample_weight=np.ones(N - 1)
    )


# -- triplet cases -------------------------------------------------------------------
def _triplets():
    rng = np.random.RandomState(0)
    return np.array([rng.choice(8, 3, replace=False) for _ in range(40)])


TRIPLETS = _triplets()
OBJECTS = np.random.RandomState(1).randn(8, 3)


def _inductive(cls):
    """Whether the estimator embeds objects from features (TripletData objects)."""
    return "module" in cls().get_params()


def triplet_raises(cls, match, X, exc=(ValueError, TypeError)):
    return raises(match, make(cls).fit, X, exc=exc)


def triplet_works(cls, X, reference=None):
    est = quiet(make(cls).fit, X)
    pred = quiet(est.predict, X)
    assert np.isin(pred, [0, 1, 2]).all()
    score = quiet(est.score, X)
    assert 0 <= score <= 1
    if reference is not None:
        ref = quiet(make(cls).fit, reference)
        np.testing.assert_array_equal(quiet(ref.predict, reference), pred)
    return "works"


def _td(*args, **kwargs):
    from skcrowd.embedding import TripletData

    return TripletData(*args, **kwargs)


def triplet_case(
    name,
    make_input,
    match=None,
    exc=(ValueError, TypeError),
    reference=None,
    applies=None,
    doc="",
):
    def run(cls, fam):
        X = make_input()
        if match is not None:
            return triplet_raises(cls, match, X, exc)
        return triplet_works(cls, X, None if reference is None else reference())

    run.__doc__ = doc
    case(name, ["triplet"], applies)(run)


triplet_case(
    "triplets_wrong_width", lambda: TRIPLETS[:, :2], "shape", doc="Rows of two indices."
)
triplet_case("triplets_1d", lambda: TRIPLETS[:, 0], "shape", doc="A 1-D array.")
triplet_case("triplets_3d", lambda: TRIPLETS[:, :, None], "shape", doc="A 3-D array.")
triplet_case(
    "triplets_empty",
    lambda: np.empty((0, 3), dtype=int),
    "0 sample",
    doc="No triplets.",
)
triplet_case(
    "triplets_nan",
    lambda: np.where(TRIPLETS == 0, np.nan, TRIPLETS),
    "NaN",
    doc="NaN indices.",
)
triplet_case(
    "triplets_inf",
    lambda: np.where(TRIPLETS == 0, np.inf, TRIPLETS),
    "inf",
    doc="Infinite indices.",
)
triplet_case(
    "triplets_non_integer",
    lambda: TRIPLETS + 0.5,
    "non-integer",
    doc="Non-integral float indices.",
)
triplet_case(
    "triplets_negative", lambda: TRIPLETS - 1, "non-negative", doc="Negative indices."
)
triplet_case(
    "triplets_repeated_object",
    lambda: np.vstack([TRIPLETS, [[1, 1, 2]]]),
    "distinct",
    doc="A triplet naming one object twice.",
)
triplet_case(
    "triplets_strings", lambda: TRIPLETS.astype(str), "dtype", doc="String indices."
)
triplet_case(
    "triplets_object_dtype",
    lambda: TRIPLETS.astype(object),
    "dtype",
    doc="An object array of ints.",
)
triplet_case(
    "triplets_bool", lambda: TRIPLETS > 3, r"dtype|shape", doc="Boolean array."
)
triplet_case(
    "triplets_complex", lambda: TRIPLETS + 1j, "[Cc]omplex", doc="Complex indices."
)
triplet_case(
    "triplets_sparse",
    lambda: sp.csr_matrix(TRIPLETS),
    "[Ss]parse",
    exc=TypeError,
    doc="A sparse matrix.",
)
triplet_case(
    "triplets_dict",
    lambda: {"rows": TRIPLETS},
    "TripletData",
    doc="A dict instead of an array.",
)
triplet_case(
    "triplets_index_beyond_objects",
    lambda: _td(TRIPLETS, OBJECTS[:5]),
    "below the number of objects",
    doc="Indices beyond the TripletData's objects.",
)


@case("triplets_workers_wrong_length", ["triplet"])
def _(cls, fam):
    """Worker ids of the wrong length (raised by TripletData)."""
    return raises("workers", lambda: make(cls).fit(_td(TRIPLETS, workers=np.arange(3))))


triplet_case(
    "objects_nan",
    lambda: _td(TRIPLETS, np.where(OBJECTS > 1, np.nan, OBJECTS)),
    "NaN",
    applies=_inductive,
    doc="NaN in the object features.",
)
triplet_case(
    "objects_inf",
    lambda: _td(TRIPLETS, np.where(OBJECTS > 1, np.inf, OBJECTS)),
    "infinity",
    applies=_inductive,
    doc="Infinite object features.",
)
triplet_case(
    "objects_sparse",
    lambda: _td(TRIPLETS, sp.csr_matrix(OBJECTS)),
    "[Ss]parse",
    applies=_inductive,
    doc="Sparse object features.",
)
triplet_case(
    "objects_zero_features",
    lambda: _td(TRIPLETS, np.empty((8, 0))),
    "0 feature",
    applies=_inductive,
    doc="Objects without features.",
)
triplet_case(
    "triplets_float_integral",
    lambda: TRIPLETS.astype(float),
    reference=lambda: TRIPLETS,
    doc="Integral float indices: as ints.",
)
triplet_case(
    "triplets_uint64",
    lambda: TRIPLETS.astype(np.uint64),
    reference=lambda: TRIPLETS,
    doc="uint64 indices: as ints.",
)
triplet_case(
    "triplets_dataframe",
    lambda: pd.DataFrame(TRIPLETS),
    reference=lambda: TRIPLETS,
    doc="A DataFrame of triplets: as the array.",
)
triplet_case(
    "triplets_list",
    lambda: TRIPLETS.tolist(),
    reference=lambda: TRIPLETS,
    doc="A list of lists: as the array.",
)
triplet_case(
    "triplets_read_only",
    lambda: _read_only(TRIPLETS),
    reference=lambda: TRIPLETS,
    doc="A read-only array.",
)
triplet_case("triplets_single", lambda: TRIPLETS[:1], doc="A single triplet.")
triplet_case(
    "triplets_duplicated",
    lambda: np.vstack([TRIPLETS, TRIPLETS]),
    doc="Every triplet answered twice.",
)
triplet_case(
    "triplets_large_index",
    lambda: np.vstack([TRIPLETS, [[0, 1, 500]]]),
    doc="A large (500) object index: objects nobody compared get an embedding too.",
)
triplet_case(
    "workers_strings",
    lambda: _td(TRIPLETS, workers=[f"w{i % 4}" for i in range(40)]),
    doc="String worker ids.",
)


def _read_only(a):
    a = a.copy()
    a.setflags(write=False)
    return a


@pytest.mark.parametrize(
    "name, cls", [(n, c) for n, c in ESTIMATORS if family(c) == "triplet"]
)
def test_triplets_huge_object_index_is_rejected_clearly(name, cls):
    X = np.vstack([TRIPLETS, [[0, 1, 10**9]]])
    triplet_raises(cls, "objects", X)


@case("workers_unsortable", ["triplet"], applies=_inductive)
def _(cls, fam):
    """Worker ids mixing None and strings."""
    workers = [None if i % 3 == 0 else f"w{i % 4}" for i in range(40)]
    return triplet_raises(cls, "[Ww]orker", _td(TRIPLETS, OBJECTS, workers=workers))


@case("predict_unseen_worker", ["triplet"])
def _(cls, fam):
    """Triplets by a worker unseen in fit (the mean preference is used)."""
    data = _td(TRIPLETS, OBJECTS, workers=[f"w{i % 4}" for i in range(40)])
    est = quiet(make(cls).fit, data)
    new = _td(TRIPLETS, OBJECTS, workers=["new"] * 40)
    assert 0 <= quiet(est.score, new) <= 1
    return "works"


@case("predict_unseen_object", ["triplet"], applies=lambda c: not _inductive(c))
def _(cls, fam):
    """Transductive predict on an object index never fitted."""
    est = quiet(make(cls).fit, TRIPLETS)
    return raises("not fitted on|objects", est.predict, np.array([[0, 1, 50]]))


@case("transform_wrong_n_features", ["triplet"], applies=_inductive)
def _(cls, fam):
    """transform objects with a different number of features."""
    est = quiet(make(cls).fit, _td(TRIPLETS, OBJECTS))
    return raises("features", est.transform, OBJECTS[:, :2])


# -- multi-label nets (skcrowd.multilabel): fit(X, Y) with Y (n, n_labels),
# soft labels, 1-D class labels, or a crowd (n, n_workers, n_labels) ----------
YM0 = (X0 > np.median(X0, axis=0)).astype(int)  # 3 labels


def _crowd_ml():
    rng = np.random.RandomState(0)
    crowd = np.repeat(YM0[:, None, :], 4, axis=1).astype(float)
    flip = rng.rand(*crowd.shape) < 0.1
    crowd[flip] = 1 - crowd[flip]
    crowd[rng.rand(*crowd.shape) < 0.3] = np.nan
    crowd[:, 0] = YM0
    return crowd


def ml_raises(cls, match, X=None, Y=None):
    X = X0 if X is None else X
    Y = YM0 if Y is None else Y
    return raises(match, make(cls).fit, X, Y)


def ml_works(cls, X=None, Y=None, X_pred=None):
    """Fits; probabilities finite in [0, 1]; predictions 0/1 (or classes_)."""
    X = X0 if X is None else X
    Y = YM0 if Y is None else Y
    est = quiet(make(cls).fit, X, Y)
    X_pred = X if X_pred is None else X_pred
    proba = quiet(est.predict_proba, X_pred)
    assert proba.shape == (X_pred.shape[0], len(est.classes_))
    assert np.all(np.isfinite(proba)) and proba.min() >= 0 and proba.max() <= 1
    pred = quiet(est.predict, X_pred)
    if np.ndim(Y) == 1:
        assert set(np.unique(pred)) <= set(est.classes_)
    else:
        assert set(np.unique(pred)) <= {0, 1}
    return "works"


@case("X_nan", ["multilabel"])
def _(cls, fam):
    """NaN in the features."""
    X = X0.copy()
    X[1, 1] = np.nan
    return ml_raises(cls, "NaN", X)


@case("X_inf", ["multilabel"])
def _(cls, fam):
    """Infinity in the features."""
    X = X0.copy()
    X[1, 1] = np.inf
    return ml_raises(cls, "infinity", X)


@case("X_wrong_length", ["multilabel"])
def _(cls, fam):
    """Features and labels with different numbers of samples."""
    return ml_raises(cls, "inconsistent numbers of samples", X0[:-2])


@case("X_1d", ["multilabel"])
def _(cls, fam):
    """1-D features."""
    return ml_raises(cls, "Expected 2D|inconsistent", X0[:, 0])


@case("X_3d", ["multilabel"])
def _(cls, fam):
    """3-D features."""
    return ml_raises(cls, r"dim 3|dimensions", X0[:, :, None])


@case("X_strings", ["multilabel"])
def _(cls, fam):
    """Non-numeric string features."""
    X = X0.astype(object)
    X[0, 0] = "abc"
    return ml_raises(cls, r"could not convert|string", X)


@case("X_complex", ["multilabel"])
def _(cls, fam):
    """Complex features."""
    return ml_raises(cls, "[Cc]omplex", X0 + 1j)


@case("X_zero_features", ["multilabel"])
def _(cls, fam):
    """Features with no column."""
    return ml_raises(cls, "0 feature", np.empty((N, 0)))


@case("X_sparse_explicit_zeros", ["multilabel"])
def _(cls, fam):
    """Sparse features with explicit zeros: the dense model (dense gradients)."""
    Xs = sp.csr_matrix(X0)
    Xs.data[::3] = 0.0
    est = quiet(make(cls, optimizer="sgd").fit, Xs, YM0)
    ref = quiet(make(cls, optimizer="sgd").fit, Xs.toarray(), YM0)
    np.testing.assert_allclose(
        est.predict_proba(Xs), ref.predict_proba(Xs.toarray()), atol=1e-5
    )
    return ml_works(cls, Xs)


@case("X_dataframe", ["multilabel"])
def _(cls, fam):
    """A DataFrame of features: as the array, with feature names."""
    Xdf = pd.DataFrame(X0, columns=["a", "b", "c"])
    est = quiet(make(cls).fit, Xdf, YM0)
    ref = quiet(make(cls).fit, X0, YM0)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(quiet(est.predict_proba, Xdf), ref.predict_proba(X0))
    return "works"


@case("y_out_of_range", ["multilabel"])
def _(cls, fam):
    """A 2-D y with values outside [0, 1] (multi-output class labels)."""
    return ml_raises(cls, r"\[0, 1\]", Y=YM0 * 2)


@case("y_nan_in_label_matrix", ["multilabel"])
def _(cls, fam):
    """NaN in a 2-D label matrix (missing labels need a crowd)."""
    Y = YM0.astype(float)
    Y[0, 0] = np.nan
    return ml_raises(cls, "NaN or inf", Y=Y)


@case("y_strings_2d", ["multilabel"])
def _(cls, fam):
    """A 2-D y of strings."""
    return ml_raises(cls, "indicator matrix", Y=np.where(YM0 == 1, "a", "b"))


@case("y_continuous_1d", ["multilabel"])
def _(cls, fam):
    """A continuous 1-D y."""
    return ml_raises(cls, "Unknown label type", Y=X0[:, 0])


@case("y_4d", ["multilabel"])
def _(cls, fam):
    """A 4-D y."""
    return ml_raises(cls, "dimensions", Y=YM0[:, None, :, None])


@case("y_crowd_bad_values", ["multilabel"])
def _(cls, fam):
    """A crowd with values other than 0, 1 and NaN."""
    crowd = _crowd_ml()
    crowd[0, 0, 0] = 2
    return ml_raises(cls, "0, 1 or NaN", Y=crowd)


@case("y_crowd_all_missing", ["multilabel"])
def _(cls, fam):
    """A crowd without any observed label."""
    return ml_raises(cls, "no observed label", Y=np.full((N, 3, 2), np.nan))


@case("y_crowd_wrong_length", ["multilabel"])
def _(cls, fam):
    """A crowd with another number of samples than X."""
    return ml_raises(cls, "inconsistent numbers of samples", Y=_crowd_ml()[:-3])


@case("y_crowd", ["multilabel"])
def _(cls, fam):
    """A crowd of multi-label annotations with NaN: aggregated per label."""
    return ml_works(cls, Y=_crowd_ml())


@case("y_soft", ["multilabel"])
def _(cls, fam):
    """Soft labels in [0, 1]."""
    return ml_works(cls, Y=np.clip(YM0 * 0.8 + 0.1, 0, 1))


@case("y_one_label_never_positive", ["multilabel"])
def _(cls, fam):
    """A label without any positive training example."""
    Y = YM0.copy()
    Y[:, 2] = 0
    return ml_works(cls, Y=Y)


@case("y_class_labels_1d", ["multilabel"])
def _(cls, fam):
    """1-D string class labels: the most probable class is predicted."""
    return ml_works(cls, Y=np.array(["x", "y", "z"])[YM0.sum(axis=1) % 3])


@case("predict_before_fit", ["multilabel"])
def _(cls, fam):
    """predict on an unfitted estimator."""
    return raises("not fitted", make(cls).predict, X0, exc=NotFittedError)


@case("predict_wrong_n_features", ["multilabel"])
def _(cls, fam):
    """predict with a different number of features."""
    est = quiet(make(cls).fit, X0, YM0)
    return raises("features", est.predict, X0[:, :2])


@case("predict_X_nan", ["multilabel"])
def _(cls, fam):
    """NaN in the features at predict."""
    est = quiet(make(cls).fit, X0, YM0)
    X = X0.copy()
    X[0, 0] = np.nan
    return raises("NaN", est.predict, X)


# -- the suite -------------------------------------------------------------------
PAIRS = [(name, cls, c) for name, cls in ESTIMATORS for c in cases_for(cls)]


@pytest.mark.parametrize(
    "name, cls, bad_input", PAIRS, ids=[f"{n}-{c.name}" for n, _, c in PAIRS]
)
def test_bad_input(name, cls, bad_input):
    outcome = bad_input.run(cls)
    assert outcome in ("raises", "works")
    OUTCOMES[(name, bad_input.name)] = outcome


def test_every_estimator_has_a_family():
    orphans = [name for name, cls in ESTIMATORS if family(cls) is None]
    assert not orphans, (
        f"{orphans} belong to no family of tests/test_robustness.py: add their "
        "bad-input cases there"
    )


def count_table():
    """``{estimator: number of kinds of bad input}``."""
    return {name: len(cases_for(cls)) for name, cls in ESTIMATORS}


def test_bad_input_counts():
    counts = count_table()
    few = {name: n for name, n in counts.items() if n < 20}
    assert not few, f"fewer than 20 kinds of bad input: {few}"
    names = [c.name for c in CASES]
    for fam in ("aggregator", "classifier", "triplet", "multilabel"):
        fam_names = [c.name for c in CASES if c.family == fam]
        assert len(fam_names) == len(set(fam_names)), f"duplicate case in {fam}"
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in names)


def test_documented_counts_match():
    """doc/robustness.rst quotes the counts: they must be today's."""
    doc = Path(__file__).resolve().parents[1] / "doc" / "robustness.rst"
    if not doc.exists():
        pytest.skip("doc/robustness.rst not found (installed package)")
    quoted = dict(re.findall(r"^\s*(\w+)\s+(\d+)\s*$", doc.read_text(), flags=re.M))
    counts = count_table()
    listed = {name: int(quoted[name]) for name in counts if name in quoted}
    assert listed, "doc/robustness.rst quotes no per-estimator count"
    unlisted = sorted(set(counts) - set(quoted))
    assert not unlisted, f"doc/robustness.rst does not list {unlisted}"
    stale = {n: (listed[n], counts[n]) for n in listed if listed[n] != counts[n]}
    assert not stale, (
        f"doc/robustness.rst quotes stale counts (doc, actual): {stale}; update "
        "the table"
    )


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    """Print the per-estimator table in pytest's terminal summary."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not OUTCOMES:
        return
    lines = [
        "robustness (tests/test_robustness.py): kinds of bad input per estimator",
        f"{'estimator':<26}{'kinds':>6}{'ran':>6}{'raised':>8}{'worked':>8}",
    ]
    for name, cls in ESTIMATORS:
        ran = [o for (n, _), o in OUTCOMES.items() if n == name]
        lines.append(
            f"{name:<26}{len(cases_for(cls)):>6}{len(ran):>6}"
            f"{ran.count('raises'):>8}{ran.count('works'):>8}"
        )
    request.config._skcrowd_robustness = lines

    def summary(terminalreporter, *args, **kwargs):
        terminalreporter.section("skcrowd robustness")
        for line in lines:
            terminalreporter.write_line(line)

    class _Plugin:
        pytest_terminal_summary = staticmethod(summary)

    request.config.pluginmanager.register(_Plugin(), "skcrowd-robustness-report")


# -- numerical robustness --------------------------------------------------------------
def extreme_crowds():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, K, 30)
    crowds = {}
    Y = np.full((30, 1000), np.nan)
    Y[0] = rng.randint(0, K, 1000)
    Y[0, :700] = truth[0]
    for i in range(1, 30):
        Y[i, rng.choice(1000, 3, replace=False)] = truth[i]
    crowds["1000_labels_on_one_item"] = Y
    crowds["perfectly_consistent"] = np.repeat(truth[:, None], 6, axis=1).astype(float)
    crowds["all_adversarial"] = np.repeat((truth[:, None] + 1) % K, 6, axis=1).astype(
        float
    )
    crowds["one_worker"] = truth[:, None].astype(float)
    Y = np.repeat(truth[:, None], 6, axis=1).astype(float)
    Y[:, 3:] = (truth[:, None] + 1) % K
    crowds["half_adversarial"] = Y
    Y = np.repeat(truth[:, None], 6, axis=1).astype(float)
    Y[:, 0] = 0
    crowds["constant_spammer"] = Y
    return crowds, truth


EXTREME, EXTREME_TRUTH = extreme_crowds()
CROWD_ESTIMATORS = [
    (n, c) for n, c in ESTIMATORS if family(c) in ("aggregator", "classifier")
]


CROWD_INSTANCES = [
    (label, est)
    for label, est in instances()
    if family(type(est)) in ("aggregator", "classifier")
]


@pytest.mark.parametrize("crowd_name", list(EXTREME))
@pytest.mark.parametrize(
    "name, est", CROWD_INSTANCES, ids=[n for n, _ in CROWD_INSTANCES]
)
def test_extreme_crowds_give_finite_posteriors(name, est, crowd_name):
    """Every estimator (every crowd model) on extreme crowds: finite outputs."""
    Y = EXTREME[crowd_name]
    est = clone(est)
    fam = family(type(est))
    X = np.random.RandomState(0).randn(len(Y), 3) + EXTREME_TRUTH[:, None]
    fit_on(est, fam, Y, X)
    proba, pred = outputs(est, fam, Y, X)
    check_proba(proba, len(Y), len(est.classes_))
    for attr in (
        "proba_",
        "confusion_",
        "skill_",
        "worker_confusion_",
        "worker_reliability_",
        "log_likelihood_",
    ):
        value = getattr(est, attr, None)
        if value is not None:
            assert np.all(np.isfinite(value)), f"{attr} is not finite"
    if crowd_name == "perfectly_consistent" and fam == "aggregator":
        np.testing.assert_array_equal(pred, EXTREME_TRUTH)


EM_ESTIMATORS = [(n, c) for n, c in ESTIMATORS if issubclass(c, BaseEMAggregator)]


@pytest.mark.parametrize("crowd_name", [*EXTREME, "random"])
@pytest.mark.parametrize("name, cls", EM_ESTIMATORS, ids=[n for n, _ in EM_ESTIMATORS])
def test_em_objective_never_decreases(name, cls, crowd_name):
    if crowd_name == "random":
        rng = np.random.RandomState(1)
        Y = rng.randint(0, K, (200, 8)).astype(float)
        Y[rng.rand(200, 8) < 0.5] = np.nan
    else:
        Y = EXTREME[crowd_name]
    est = make(cls, max_iter=100, tol=0.0).fit(Y)
    history = est.log_likelihood_
    assert np.all(np.isfinite(history))
    scale = max(1.0, float(np.abs(history).max()))
    assert np.all(np.diff(history) >= -1e-9 * scale), np.diff(history).min()


# -- property-based fuzzing ------------------------------------------------------------
LABEL_SETS = {
    "ints": [0, 1, 2],
    "huge_ints": [-(2**62), 0, 2**62],
    "strings": ["a", "b", "c d"],
    "bools": [False, True],
    "floats": [0.0, 1.0, 7.0],
}


@st.composite
def crowds(draw):
    n_items = draw(st.integers(1, 7))
    n_workers = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(sorted(LABEL_SETS)))
    labels = LABEL_SETS[kind]
    codes = draw(
        hnp.arrays(
            np.int64, (n_items, n_workers), elements=st.integers(-1, len(labels) - 1)
        )
    )
    missing = draw(st.sampled_from(["nan", "none"]))
    Y = np.empty((n_items, n_workers), dtype=object)
    for idx, code in np.ndenumerate(codes):
        Y[idx] = None if code < 0 else labels[code]
    if missing == "nan" and kind in ("ints", "floats"):
        Y = np.where(codes < 0, np.nan, Y).astype(float)
    return Y, codes, labels


def _fuzz_settings(cls):
    neural = "max_epochs" in cls().get_params()
    return settings(
        max_examples=4 if neural else 25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )


@pytest.mark.parametrize(
    "name, cls", CROWD_ESTIMATORS, ids=[n for n, _ in CROWD_ESTIMATORS]
)
def test_property_random_crowds(name, cls):
    fam = family(cls)

    @_fuzz_settings(cls)
    @given(crowds())
    def check(data):
        Y, codes, labels = data
        X = np.random.RandomState(0).randn(len(Y), 2)
        observed = sorted({labels[c] for c in codes.ravel() if c >= 0})
        est = make(cls)
        with unchanged(Y, X):
            try:
                fit_on(est, fam, Y, X)
            except ValueError as exc:
                message = str(exc)
                if not observed:
                    assert "no observed label" in message
                    return
                # a two-stage classifier whose aggregated labels hold one
                # class may refuse it (its inner classifier needs two), clearly
                assert fam == "classifier" and "class" in message, message
                return
            assert observed, "fitted on a crowd without labels"
            assert est.classes_.tolist() == observed
            proba, pred = outputs(est, fam, Y, X)
        check_proba(proba, len(Y), len(observed))
        assert np.isin(pred, est.classes_).all()

    check()


AGGREGATORS = [(n, c) for n, c in ESTIMATORS if family(c) == "aggregator"]


@pytest.mark.parametrize("name, cls", AGGREGATORS, ids=[n for n, _ in AGGREGATORS])
def test_property_sparse_equals_dense(name, cls):
    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(crowds())
    def check(data):
        _, codes, _ = data
        if (codes < 0).all():
            return
        Y = np.where(codes < 0, np.nan, codes).astype(float)
        rows, cols = np.nonzero(codes >= 0)
        Ys = sp.csr_array(
            (codes[rows, cols].astype(float), (rows, cols)), shape=codes.shape
        )
        dense = quiet(make(cls).fit, Y)
        sparse = quiet(make(cls).fit, Ys)
        np.testing.assert_allclose(sparse.proba_, dense.proba_, atol=1e-10)
        np.testing.assert_array_equal(sparse.labels_, dense.labels_)

    check()


TRIPLET_ESTIMATORS = [(n, c) for n, c in ESTIMATORS if family(c) == "triplet"]


@st.composite
def triplet_arrays(draw):
    dtype = draw(st.sampled_from([np.int64, np.int32, np.float64, np.uint8]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    if dtype is np.float64:
        elements = st.one_of(
            st.integers(0, 9).map(float),
            st.sampled_from([np.nan, np.inf, -1.0, 2.5]),
        )
    elif dtype is np.uint8:
        elements = st.integers(0, 9)
    else:
        elements = st.integers(-1, 9)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@pytest.mark.parametrize(
    "name, cls", TRIPLET_ESTIMATORS, ids=[n for n, _ in TRIPLET_ESTIMATORS]
)
def test_property_random_triplet_arrays(name, cls):
    @_fuzz_settings(cls)
    @given(triplet_arrays())
    def check(X):
        est = make(cls)
        with unchanged(X):
            try:
                quiet(est.fit, X)
            except (ValueError, TypeError) as exc:
                assert str(exc), "an error without a message"
                return
            pred = quiet(est.predict, X)
        assert X.ndim == 2 and X.shape[1] == 3 and len(X) > 0
        assert np.isin(pred, [0, 1, 2]).all()

    check()
