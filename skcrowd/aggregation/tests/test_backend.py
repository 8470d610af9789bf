"""Array backends of the aggregators: torch equals numpy, the backends' ops.

The torch backend runs the same EM hooks in float64, so every fitted
attribute equals the numpy backend's to 1e-6 (in practice to ~1e-14), on the
CPU here and on CUDA where a GPU is present.
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skcrowd.aggregation import GLAD, DawidSkene, MajorityVote, OneCoinDawidSkene
from skcrowd.aggregation._backend import (
    _CHUNK,
    NumpyBackend,
    StreamingBackend,
    get_backend,
)
from skcrowd.datasets import make_crowd_classification
from skcrowd.utils import check_crowd_matrix

BACKEND_AGGREGATORS = [DawidSkene, OneCoinDawidSkene, GLAD, MajorityVote]
FITTED = {
    "DawidSkene": ("confusion_", "class_prior_"),
    "OneCoinDawidSkene": ("skill_", "class_prior_"),
    "GLAD": ("alphas_", "betas_", "skill_", "class_prior_"),
    "MajorityVote": ("skill_",),
}
TOL = 1e-6


def _devices():
    devices = ["cpu"]
    try:
        import torch
    except ImportError:
        return devices
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


@pytest.fixture(scope="module")
def crowds():
    """A dense 3-class crowd with missing labels, and a sparse 2-class one."""
    _, Y, y = make_crowd_classification(
        n_samples=250, n_classes=3, n_workers=12, random_state=0
    )
    Y = Y.astype(float)
    Y[np.random.default_rng(0).random(Y.shape) < 0.3] = np.nan
    _, Y2, y2 = make_crowd_classification(
        n_samples=300, n_classes=2, n_workers=9, random_state=1
    )
    return [(Y, y), (sp.csr_array(Y2 + 1), y2 + 1)]


def _assert_same(a, b):
    name = type(a).__name__
    np.testing.assert_allclose(a.proba_, b.proba_, rtol=0, atol=TOL)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    for attr in FITTED[name]:
        np.testing.assert_allclose(
            getattr(a, attr), getattr(b, attr), rtol=TOL, atol=TOL, err_msg=attr
        )
        assert isinstance(getattr(b, attr), np.ndarray)
    if hasattr(a, "n_iter_"):
        assert a.n_iter_ == b.n_iter_
        np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-9)


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("cls", BACKEND_AGGREGATORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("with_gold", [False, True])
def test_torch_backend_equals_numpy(crowds, cls, device, with_gold):
    pytest.importorskip("torch")
    kwargs = {"random_state": 0} if cls is MajorityVote else {}
    for Y, y in crowds:
        y_gold = None
        if with_gold:
            y_gold = np.full(len(y), np.nan)
            y_gold[::7] = y[::7]
        a = cls(**kwargs).fit(Y, y_gold=y_gold)
        b = cls(backend="torch", device=device, **kwargs).fit(Y, y_gold=y_gold)
        _assert_same(a, b)
        np.testing.assert_allclose(
            a.predict_proba(Y), b.predict_proba(Y), rtol=0, atol=TOL
        )


def test_torch_fitted_model_is_numpy_and_picklable(crowds):
    pytest.importorskip("torch")
    Y, _ = crowds[0]
    ds = DawidSkene(backend="torch").fit(Y)
    assert all(isinstance(v, np.ndarray) for v in ds._params_.values())
    loaded = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(loaded.predict_proba(Y), ds.predict_proba(Y))
    assert clone(ds).get_params()["backend"] == "torch"


def test_torch_on_a_confusion_prior_and_alpha_zero(crowds):
    pytest.importorskip("torch")
    Y, _ = crowds[0]
    for params in ({"alpha": 0.0}, {"confusion_prior": 5 * np.eye(3)}):
        _assert_same(
            DawidSkene(**params).fit(Y), DawidSkene(backend="torch", **params).fit(Y)
        )


@pytest.mark.parametrize("cls", BACKEND_AGGREGATORS, ids=lambda c: c.__name__)
def test_backend_parameters_are_validated(crowds, cls):
    Y, _ = crowds[0]
    with pytest.raises(InvalidParameterError, match="backend"):
        cls(backend="jax").fit(Y)
    with pytest.raises(ValueError, match="backend='torch'"):
        cls(device="cuda").fit(Y)


def test_unavailable_cuda_is_a_clear_error(crowds):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    Y, _ = crowds[0]
    with pytest.raises(ValueError, match="CUDA is not available"):
        DawidSkene(backend="torch", device="cuda").fit(Y)


def test_fitted_on_cuda_predicts_on_a_cpu_machine_after_set_params(crowds):
    # a model fitted with device="cuda" and loaded where there is no CUDA:
    # a clear error naming the fix, and the fit is kept on the CPU
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    Y, _ = crowds[0]
    ds = DawidSkene(backend="torch").fit(Y)
    expected = ds.predict_proba(Y)
    ds.set_params(device="cuda")  # as if fitted there
    with pytest.raises(ValueError, match=r"set_params\(device='cpu'\)"):
        ds.predict_proba(Y)
    ds.set_params(device="cpu")
    np.testing.assert_array_equal(ds.predict_proba(Y), expected)


def test_numpy_backend_imports_no_torch():
    code = (
        "import sys, numpy as np\n"
        "from skcrowd.aggregation import DawidSkene, GLAD\n"
        "Y = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1]])\n"
        "DawidSkene().fit(Y); GLAD().fit(Y)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the backends' operations -------------------------------------------------
def _backends():
    backends = [NumpyBackend(), StreamingBackend()]
    try:
        import torch  # noqa: F401
    except ImportError:
        return backends
    return backends + [get_backend("torch", d) for d in _devices()]


@pytest.mark.parametrize("xp", _backends(), ids=lambda b: f"{b.name}-{b.device}")
def test_incidence_products_and_bincount(xp):
    rng = np.random.default_rng(0)
    n, shape = 5000, (40, 300)
    rows = rng.integers(0, shape[0], n).astype(np.int32)
    cols = rng.integers(0, shape[1], n).astype(np.int32)
    dense = np.zeros(shape)
    np.add.at(dense, (rows, cols), 1.0)
    m = xp.incidence(xp.index(rows), xp.index(cols), shape)
    x, z = rng.random((shape[1], 3)), rng.random((shape[0], 3))
    np.testing.assert_allclose(xp.to_numpy(m.dot(xp.asarray(x))), dense @ x)
    np.testing.assert_allclose(xp.to_numpy(m.tdot(xp.asarray(z))), dense.T @ z)
    w = rng.random(n)
    got = xp.to_numpy(xp.bincount(xp.index(rows), xp.asarray(w), 50))
    np.testing.assert_allclose(got, np.bincount(rows, w, minlength=50))
    got = xp.to_numpy(xp.bincount(xp.index(rows), None, 50))
    np.testing.assert_array_equal(got, np.bincount(rows, minlength=50))


def test_chunked_bincount_equals_numpy():
    rng = np.random.default_rng(0)
    xp = NumpyBackend()
    n = 2 * _CHUNK + 17
    for index in (
        rng.integers(0, 1000, n).astype(np.int32),  # workers: any order
        np.sort(rng.integers(0, n // 3, n)).astype(np.int32),  # items: grouped
    ):
        w = rng.random(n)
        m = int(index.max()) + 5
        np.testing.assert_allclose(
            xp.bincount(index, w, m), np.bincount(index, w, minlength=m), rtol=1e-12
        )
        np.testing.assert_array_equal(
            xp.bincount(index, None, m), np.bincount(index, minlength=m)
        )


def test_flat_index_widens_when_the_product_overflows_int32():
    xp = NumpyBackend()
    a = np.array([2**30, 3], dtype=np.int32)
    b = np.array([1, 0], dtype=np.int32)
    out = xp.flat_index(a, 4, b, 2**32)
    assert out.dtype == np.int64
    assert out.tolist() == [2**32 + 1, 12]
    assert xp.flat_index(b, 4, b, 100).dtype == np.int32


# -- the compact crowd ----------------------------------------------------------
def test_compact_crowd_holds_the_same_codes_in_int32(crowds):
    for Y, _ in crowds:
        wide = check_crowd_matrix(Y)
        compact = check_crowd_matrix(Y, compact=True)
        for name in ("item", "worker", "label"):
            assert getattr(wide, name).dtype == np.int64
            assert getattr(compact, name).dtype == np.int32
            np.testing.assert_array_equal(getattr(wide, name), getattr(compact, name))
        np.testing.assert_array_equal(wide.classes, compact.classes)


@pytest.mark.parametrize(
    "values",
    [
        np.array([-3, 7, 7, 2, -3] * 20000, dtype=np.int16),
        np.array([True, False] * 40000),
        np.array([5, 9] * 40000, dtype=np.uint8),
        np.array([10, 70000, 3] * 30000, dtype=np.int64),  # a wide range: np.unique
    ],
)
def test_large_sparse_crowd_encodes_labels_like_unique(values):
    n = len(values)
    Y = sp.coo_array((values, (np.arange(n), np.zeros(n, dtype=int))), shape=(n, 1))
    crowd = check_crowd_matrix(Y, compact=True)
    classes, codes = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(crowd.classes, classes)
    assert crowd.classes.dtype == classes.dtype
    np.testing.assert_array_equal(crowd.label, codes)


def test_compact_validation_still_finds_duplicate_cells():
    Y = sp.coo_array(([1, 2, 1], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
    with pytest.raises(ValueError, match=r"1 duplicate entries.*\(0, 1\)"):
        check_crowd_matrix(Y, compact=True)
