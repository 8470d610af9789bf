"""Persistence: pickle/joblib round trips and the safe sharing format.

Every public estimator (``all_estimators()``), fitted, predicts identically
after a pickle, joblib or :mod:`skcrowd.persistence` round trip. The safe
format refuses types that are not trusted (before importing them), never
unpickles anything, writes atomically, and loads CUDA-trained models on a
machine without CUDA.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from skcrowd import persistence
from skcrowd.aggregation import BaseAggregator
from skcrowd.base import CrowdClassifierMixin
from skcrowd.persistence import UntrustedTypeError
from skcrowd.utils.estimator_checks import (
    all_estimators,
    construct_instance,
    labelled_instances,
    with_settings,
)

torch = pytest.importorskip("torch")

ESTIMATORS = all_estimators()
IDS = [name for name, _ in ESTIMATORS]
FAST = {
    "max_epochs": 3,
    "hidden_units": (8,),
    "batch_size": 16,
    "n_components": 2,
    "random_state": 0,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fast(est, **params):
    """``est`` with this file's small settings (see ``with_settings``)."""
    return with_settings(est, FAST, **params)


def make(cls, **params):
    return fast(construct_instance(cls), **params)


def instances():
    """``(id, unfitted instance)`` for each estimator (and each crowd model)."""
    return labelled_instances(FAST)


def crowd_data():
    rng = np.random.RandomState(0)
    truth = rng.randint(0, 3, 40)
    Y = np.where(rng.rand(40, 5) < 0.75, truth[:, None], rng.randint(0, 3, (40, 5)))
    Y = Y.astype(float)
    Y[rng.rand(40, 5) < 0.3] = np.nan
    Y[:, 0] = truth
    X = rng.randn(40, 4) + truth[:, None]
    return X, Y


X, Y = crowd_data()
# multi-label targets for skcrowd.multilabel: label c is "feature c > 0.5"
Y_MULTI = (X[:, :3] > 0.5).astype(int)


def is_multilabel(est):
    return type(est).__module__.startswith("skcrowd.multilabel")


def triplet_data(cls):
    from skcrowd.embedding import TripletData

    rng = np.random.RandomState(0)
    rows = np.array([rng.choice(10, 3, replace=False) for _ in range(60)])
    if "module" in cls().get_params():  # inductive: objects with features
        return TripletData(rows, rng.randn(10, 4), workers=rng.randint(0, 3, 60))
    return rows


def fit(est):
    if isinstance(est, BaseAggregator):
        return est.fit(Y)
    if isinstance(est, CrowdClassifierMixin):
        return est.fit(X, Y)
    if is_multilabel(est):
        return est.fit(X, Y_MULTI)
    return est.fit(triplet_data(type(est)))


def outputs(est):
    """Everything the fitted estimator computes, as numpy arrays."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(est, BaseAggregator):
            out["proba"] = est.predict_proba(Y)
            out["pred"] = est.predict(Y)
            out["proba_"] = est.proba_
        elif isinstance(est, CrowdClassifierMixin):
            out["proba"] = est.predict_proba(X)
            out["pred"] = est.predict(X)
            for name in ("worker_confusion_",):
                if hasattr(est, name):
                    out[name] = getattr(est, name)
            if hasattr(est, "posterior_proba"):
                out["posterior"] = est.posterior_proba(X, Y)
                out["worker_proba"] = est.predict_worker_proba(X)
        elif is_multilabel(est):
            out["proba"] = est.predict_proba(X)
            out["pred"] = est.predict(X)
            out["threshold_"] = est.threshold_
        else:
            data = triplet_data(type(est))
            out["pred"] = est.predict(data)
            objects = getattr(data, "objects", None)
            out["embedding"] = est.transform(
                objects if objects is not None else np.arange(10)
            )
    return out


def assert_same_outputs(a, b):
    oa, ob = outputs(a), outputs(b)
    assert oa.keys() == ob.keys()
    for key in oa:
        np.testing.assert_array_equal(oa[key], ob[key], err_msg=key)


INSTANCES = instances()
INSTANCE_IDS = [label for label, _ in INSTANCES]


@pytest.fixture(scope="module")
def fitted_estimators():
    """Every estimator (and every crowd model of CrowdClassifier), fitted."""
    return {label: fit(clone(est)) for label, est in INSTANCES}


@pytest.mark.parametrize("name", INSTANCE_IDS)
def test_pickle_round_trip(name, fitted_estimators):
    est = fitted_estimators[name]
    assert_same_outputs(pickle.loads(pickle.dumps(est)), est)


@pytest.mark.parametrize("name", INSTANCE_IDS)
def test_joblib_round_trip(name, fitted_estimators, tmp_path):
    est = fitted_estimators[name]
    joblib.dump(est, tmp_path / "model.joblib")
    assert_same_outputs(joblib.load(tmp_path / "model.joblib"), est)


@pytest.mark.parametrize("name", INSTANCE_IDS)
def test_safe_round_trip(name, fitted_estimators, tmp_path):
    est = fitted_estimators[name]
    path = tmp_path / "model.skcrowd"
    persistence.dump(est, path)
    assert persistence.get_untrusted_types(path) == []
    loaded = persistence.load(path)
    assert type(loaded) is type(est)
    assert repr(loaded.get_params()) == repr(est.get_params())
    assert_same_outputs(loaded, est)
    assert os.listdir(tmp_path) == ["model.skcrowd"]  # no temporary file left


@pytest.mark.parametrize("name, cls", ESTIMATORS, ids=IDS)
def test_safe_round_trip_unfitted(name, cls, tmp_path):
    est = make(cls)
    persistence.dump(est, tmp_path / "m.skcrowd")
    loaded = persistence.load(tmp_path / "m.skcrowd")
    assert repr(loaded.get_params()) == repr(est.get_params())


# -- refusing what is not trusted ---------------------------------------------------
USER_MODULE = """
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

IMPORTED = True


class MajorityClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_weight=None):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict_proba(self, X):
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, list(self.classes_).index(self.majority_)] = 1.0
        return proba

    def predict(self, X):
        return np.full(len(X), self.majority_)


class Backbone(torch.nn.Module):
    def __init__(self, n_features=4, width=6):
        super().__init__()
        self.width = width
        self.linear = torch.nn.Linear(n_features, width)

    def forward(self, X):
        return torch.relu(self.linear(X))
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's module on sys.path, unloaded again after use."""
    name = "skcrowd_test_user_code"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


def test_untrusted_estimator_type_is_refused_before_import(user_module, tmp_path):
    from skcrowd.classification import AggregatedClassifier

    est = AggregatedClassifier(estimator=user_module.MajorityClassifier()).fit(X, Y)
    path = tmp_path / "shared.skcrowd"
    persistence.dump(est, path)
    type_name = "skcrowd_test_user_code.MajorityClassifier"
    sys.modules.pop(user_module.__name__)  # a fresh process, as the receiver's

    assert persistence.get_untrusted_types(path) == [type_name]
    with pytest.raises(UntrustedTypeError, match="not trusted") as info:
        persistence.load(path)
    assert info.value.types == [type_name]
    assert type_name in str(info.value) and "trusted=" in str(info.value)
    assert user_module.__name__ not in sys.modules  # refused without importing

    loaded = persistence.load(path, trusted=[type_name])
    assert_same_outputs(loaded, est)


def test_untrusted_backbone_class_is_refused(user_module, tmp_path):
    from skcrowd.classification import CrowdClassifier

    est = fit(
        CrowdClassifier(module=user_module.Backbone, max_epochs=2, random_state=0)
    )
    path = tmp_path / "net.skcrowd"
    persistence.dump(est, path)
    name = "skcrowd_test_user_code.Backbone"
    sys.modules.pop(user_module.__name__)
    with pytest.raises(UntrustedTypeError) as info:
        persistence.load(path)
    assert info.value.types == [name]
    assert user_module.__name__ not in sys.modules
    loaded = persistence.load(path, trusted=[name])
    assert_same_outputs(loaded, est)


def test_module_instance_parameter_round_trips(tmp_path):
    from skcrowd.classification import CrowdClassifier

    backbone = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh())
    est = fit(CrowdClassifier(module=backbone, max_epochs=2, random_state=0))
    persistence.dump(est, tmp_path / "m.skcrowd")
    loaded = persistence.load(tmp_path / "m.skcrowd")  # torch layers: trusted
    assert isinstance(loaded.module, torch.nn.Sequential)
    for a, b in zip(loaded.module.parameters(), backbone.parameters(), strict=True):
        assert torch.equal(a, b)
    assert_same_outputs(loaded, est)


def _rewrite(path, **members):
    """Rewrite members of a model archive (a tampered file)."""
    with zipfile.ZipFile(path) as archive:
        content = {n: archive.read(n) for n in archive.namelist()}
    content.update(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)


def test_tampered_manifest_cannot_smuggle_a_class(tmp_path):
    from skcrowd.classification import CrowdClassifier

    path = tmp_path / "m.skcrowd"
    persistence.dump(fit(CrowdClassifier(max_epochs=2, random_state=0)), path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("skcrowd.json"))
    # hide a class the file builds: rebuilding it is refused
    hidden = dict(manifest, module_classes=manifest["module_classes"][1:])
    _rewrite(path, **{"skcrowd.json": json.dumps(hidden)})
    with pytest.raises(UntrustedTypeError, match="not listed in its manifest"):
        persistence.load(path)
    # list a dangerous "module class": refused as untrusted
    evil = dict(manifest, module_classes=[*manifest["module_classes"], "os.system"])
    _rewrite(path, **{"skcrowd.json": json.dumps(evil)})
    with pytest.raises(UntrustedTypeError, match="os.system"):
        persistence.load(path)


class _Boom:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_and_junk_are_rejected_without_running_code(tmp_path):
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.skcrowd"
    evil.write_bytes(pickle.dumps(_Boom(str(marker))))
    with pytest.raises(ValueError, match="not a skcrowd model file"):
        persistence.load(evil)
    assert not marker.exists()

    junk = tmp_path / "junk.skcrowd"
    junk.write_bytes(os.urandom(200))
    with pytest.raises(ValueError, match="not a skcrowd model file"):
        persistence.load(junk)

    good = tmp_path / "good.skcrowd"
    from skcrowd.aggregation import DawidSkene

    persistence.dump(DawidSkene().fit(Y), good)
    _rewrite(good, **{"payload.pkl": pickle.dumps(_Boom(str(marker)))})
    with pytest.raises(ValueError, match="unexpected members"):
        persistence.load(good)
    assert not marker.exists()

    persistence.dump(DawidSkene().fit(Y), good)
    with zipfile.ZipFile(good) as archive:
        manifest = json.loads(archive.read("skcrowd.json"))
    _rewrite(good, **{"skcrowd.json": json.dumps(dict(manifest, version=99))})
    with pytest.raises(ValueError, match="upgrade skcrowd"):
        persistence.load(good)


def test_loading_never_unpickles(tmp_path, monkeypatch, fitted_estimators):
    path = tmp_path / "m.skcrowd"
    est = fitted_estimators["CrowdClassifier-crowdlayer-mw"]
    persistence.dump(est, path)

    def forbidden(*args, **kwargs):
        raise AssertionError("the safe loader unpickled something")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    loaded = persistence.load(path)
    monkeypatch.undo()
    assert_same_outputs(loaded, est)


def test_dump_refuses_what_it_cannot_rebuild(tmp_path):
    from skcrowd.classification import CrowdClassifier

    hooked = torch.nn.Sequential(torch.nn.Linear(4, 5))
    hooked.register_forward_hook(lambda module, args, output: output)
    est = fit(CrowdClassifier(module=hooked, max_epochs=1, random_state=0))
    with pytest.raises(TypeError, match="hook"):
        persistence.dump(est, tmp_path / "m.skcrowd")

    class LocalBackbone(torch.nn.Linear):
        pass

    est = fit(CrowdClassifier(module=LocalBackbone(4, 3), max_epochs=1, random_state=0))
    with pytest.raises(TypeError, match="cannot be imported"):
        persistence.dump(est, tmp_path / "m.skcrowd")
    assert os.listdir(tmp_path) == []  # nothing written


def test_dump_is_atomic(tmp_path, monkeypatch, fitted_estimators):
    path = tmp_path / "m.skcrowd"
    path.write_bytes(b"previous model")
    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        if name == "tensors.safetensors":
            raise OSError("disk full")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        persistence.dump(fitted_estimators["CrowdClassifier-crowdlayer-mw"], path)
    assert path.read_bytes() == b"previous model"
    assert os.listdir(tmp_path) == ["m.skcrowd"]


def test_dump_onto_a_directory_leaves_no_temporary_file(tmp_path):
    from skcrowd.aggregation import MajorityVote

    (tmp_path / "taken").mkdir()
    # the temporary file is written, then os.replace fails onto the directory
    with pytest.raises(IsADirectoryError):
        persistence.dump(MajorityVote(), tmp_path / "taken")
    assert os.listdir(tmp_path) == ["taken"]
    assert os.listdir(tmp_path / "taken") == []


@pytest.mark.parametrize("func", [persistence.load, persistence.get_untrusted_types])
@pytest.mark.parametrize("path", [None, 3])
def test_load_refuses_a_path_of_the_wrong_type(func, path):
    # None was an AttributeError ('NoneType' object has no attribute 'seek')
    with pytest.raises(TypeError, match="path must be a str, a path-like"):
        func(path)


def test_load_still_reads_a_binary_file_object(tmp_path):
    from skcrowd.aggregation import DawidSkene

    path = tmp_path / "m.skcrowd"
    persistence.dump(DawidSkene().fit(Y), path)
    with open(path, "rb") as f:
        assert isinstance(persistence.load(f), DawidSkene)


def _as_if_trained_on_cuda(est):
    est.device = "cuda"
    est.net_.device = "cuda"  # the module itself stays on the CPU here
    return est


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only machine")
@pytest.mark.parametrize("how", ["safe", "pickle"])
def test_cuda_trained_model_loads_on_cpu(how, tmp_path):
    from skcrowd.classification import CrowdClassifier

    est = fit(CrowdClassifier(max_epochs=2, random_state=0))
    expected = outputs(est)
    est = _as_if_trained_on_cuda(est)
    if how == "safe":
        persistence.dump(est, tmp_path / "m.skcrowd")
        with pytest.warns(UserWarning, match="not available here"):
            loaded = persistence.load(tmp_path / "m.skcrowd")
    else:
        data = pickle.dumps(est)
        with pytest.warns(UserWarning, match="not available here"):
            loaded = pickle.loads(data)
    assert loaded.device == "cpu" and str(loaded.net_.device) == "cpu"
    got = outputs(loaded)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_trained_model_loads_in_a_cpu_only_process(tmp_path):
    from skcrowd.classification import CrowdClassifier

    est = fit(CrowdClassifier(max_epochs=2, random_state=0, device="cuda"))
    np.save(tmp_path / "expected.npy", est.predict_proba(X))
    np.save(tmp_path / "X.npy", X)
    persistence.dump(est, tmp_path / "m.skcrowd")
    joblib.dump(est, tmp_path / "m.joblib")
    script = textwrap.dedent(f"""
        import warnings, joblib, numpy as np, torch
        from skcrowd import persistence
        assert not torch.cuda.is_available()
        X = np.load({str(tmp_path / "X.npy")!r})
        expected = np.load({str(tmp_path / "expected.npy")!r})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for est in (persistence.load({str(tmp_path / "m.skcrowd")!r}),
                        joblib.load({str(tmp_path / "m.joblib")!r})):
                assert est.device == "cpu"
                np.testing.assert_allclose(est.predict_proba(X), expected, atol=1e-5)
                est.predict_worker_proba(X)
    """)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
