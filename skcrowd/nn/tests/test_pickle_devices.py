"""A neural estimator trained on CUDA must unpickle on a machine without CUDA.

skorch pickles its ``module_``, ``optimizer_`` and ``criterion_`` in a
stream of their own, which it unpickles with ``map_location`` (the CPU when
there is no CUDA). Any tensor pickled *outside* that stream is restored by
plain torch unpickling on the device it was saved from, so a CUDA tensor
there fails on a CPU-only machine ("Attempting to deserialize object on a
CUDA device") before skorch's mapping runs. Without a GPU these tests check
the cause on CPU-trained models: no tensor at all in the outer stream.
"""

import io
import pickle
import warnings

import numpy as np
import pytest
import torch

from skcrowd.classification import CrowdClassifier
from skcrowd.datasets import (
    make_crowd_classification,
    make_multiview_triplets,
    make_rationale_crowd,
)
from skcrowd.embedding import MultiviewTripletEmbedder
from skcrowd.multilabel import BBSNClassifier, MultiLabelNetClassifier
from skcrowd.rationale import RationaleCoLearner

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _TensorSpy(pickle.Pickler):
    """A pickler that records the tensors it pickles itself.

    skorch pickles its CUDA-dependent attributes with a pickler of its own
    (inside ``NeuralNet.__getstate__``), which this one does not see.
    """

    def __init__(self, file):
        super().__init__(file)
        self.tensors = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            self.tensors.append((type(obj).__name__, tuple(obj.shape)))
        return NotImplemented


def tensors_outside_map_location(obj):
    spy = _TensorSpy(io.BytesIO())
    spy.dump(obj)
    return spy.tensors


def _crowd(crowd_model, **params):
    X, Y, _ = make_crowd_classification(n_samples=60, n_workers=4, random_state=0)
    clf = CrowdClassifier(
        crowd_model=crowd_model, hidden_units=(8,), max_epochs=2, random_state=0,
        **params,
    )
    return clf.fit(X, Y)


def _rationale():
    X, Y, R, _ = make_rationale_crowd(
        n_samples=40, n_features=10, n_attributes=6, n_workers=4, random_state=0
    )
    clf = RationaleCoLearner(
        hidden_units=(8,), max_epochs=2, batch_size=16, private_encoders=True,
        random_state=0,
    )
    return clf.fit(X, Y, rationales=R)


def _multiview():
    data = make_multiview_triplets(
        n_objects=40, n_triplets=200, test_size=0.2, n_test_triplets=20,
        random_state=0,
    )
    est = MultiviewTripletEmbedder(
        max_epochs=2, hidden_units=(8,), batch_size=100, random_state=0
    )
    return est.fit(data.data)


def _multilabel(cls, **params):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 8)
    Y = (X[:, :3] > [0.3, 0.6, 0.8]).astype(int)
    return cls(hidden_units=(8,), max_epochs=2, batch_size=16, random_state=0,
               **params).fit(X, Y)


FITS = {
    "crowd-mw": lambda: _crowd("crowdlayer-mw"),
    "crowd-em": lambda: _crowd("em"),
    "crowd-annot-mix-identity": lambda: _crowd(
        "annot-mix", confusion_init="identity"
    ),
    "crowd-early-stopping": lambda: _crowd(
        "speelfc", validation_fraction=0.3, early_stopping=True
    ),
    "rationale": _rationale,
    "multiview": _multiview,
    "multilabel": lambda: _multilabel(MultiLabelNetClassifier),
    "bbsn": lambda: _multilabel(
        BBSNClassifier, feature_dim=8, validation_fraction=0.3,
        model_selection="best",
    ),
}


@pytest.mark.parametrize("name", list(FITS))
def test_no_tensor_is_pickled_outside_skorch_device_mapping(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = FITS[name]()
    assert tensors_outside_map_location(est) == []
    # and the round trip still gives the same model, module and module_ one
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.net_.module is loaded.net_.module_
    before = est.net_.module_.state_dict()
    after = loaded.net_.module_.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)
