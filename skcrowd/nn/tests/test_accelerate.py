"""Training through Hugging Face accelerate (skorch's AccelerateMixin).

``accelerator=Accelerator(...)`` makes the neural estimators build their
skorch net with ``skorch.hf.AccelerateMixin``: multi-GPU or multi-process
data parallelism under ``accelerate launch``, mixed precision, gradient
accumulation. Tested here on accelerate's CPU path (one process), where the
training equals the plain one; the CUDA path needs a GPU.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

accelerate = pytest.importorskip("accelerate")
torch = pytest.importorskip("torch")

from skcrowd.classification import CrowdClassifier  # noqa: E402
from skcrowd.datasets import make_crowd_classification  # noqa: E402

FAST = {"hidden_units": (16,), "max_epochs": 4, "batch_size": 32, "random_state": 0}


@pytest.fixture(scope="module")
def crowd():
    return make_crowd_classification(n_samples=160, n_classes=3, random_state=0)


@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "em"])
def test_crowd_classifier_trains_and_predicts_through_accelerate(
    crowd, crowd_model, capsys
):
    from skorch.hf import AccelerateMixin

    X, Y, y = crowd
    accelerator = accelerate.Accelerator(cpu=True)
    clf = CrowdClassifier(crowd_model=crowd_model, accelerator=accelerator, **FAST)
    clf.fit(X, Y)
    assert isinstance(clf.net_, AccelerateMixin)
    assert clf.net_.accelerator is accelerator
    assert len(clf.history_) == FAST["max_epochs"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(X).shape == (len(X),)
    assert capsys.readouterr().out == ""  # verbose=0 stays silent
    # one CPU process: the same training as without accelerate
    plain = CrowdClassifier(crowd_model=crowd_model, **FAST).fit(X, Y)
    np.testing.assert_allclose(proba, plain.predict_proba(X), atol=1e-6)


def test_accelerated_estimator_clones_and_pickles(crowd):
    X, Y, _ = crowd
    clf = CrowdClassifier(accelerator=accelerate.Accelerator(cpu=True), **FAST)
    assert clone(clf).accelerator is not None
    clf.fit(X, Y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_default_has_no_accelerator(crowd):
    X, Y, _ = crowd
    clf = CrowdClassifier(**FAST).fit(X, Y)
    assert clf.get_params()["accelerator"] is None
    assert type(clf.net_).__name__ == "ModuleLossNet"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_crowd_classifier_trains_on_cuda_through_accelerate(crowd):
    X, Y, _ = crowd
    clf = CrowdClassifier(accelerator=accelerate.Accelerator(), **FAST).fit(X, Y)
    assert clf.predict_proba(X).shape == (len(X), 3)
