"""scikit-learn's estimator properties, checked on triplet data.

``check_estimator`` feeds random float matrices, which are not triplets, so
the checks listed in ``skcrowd.utils.estimator_checks._TRIPLET_FAILURES``
fail at ``fit``; the properties they test are checked here on a
``TripletData`` (and on plain triplet rows for the transductive ones).
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skcrowd.datasets import make_multiview_triplets
from skcrowd.embedding import MVTE, STE, TSTE, MultiviewTripletEmbedder, TripletData

DS = make_multiview_triplets(n_objects=60, n_triplets=400, random_state=1)
ESTIMATORS = [
    MultiviewTripletEmbedder(max_epochs=2, hidden_units=(8,), random_state=0),
    MultiviewTripletEmbedder(max_epochs=2, query="anchor", random_state=0),
    TSTE(max_iter=30, query="odd-one-out", random_state=0),
    STE(max_iter=30, random_state=0),
    MVTE(max_iter=3, inner_iter=5, query="odd-one-out", random_state=0),
]
IDS = ["inductive", "transductive-anchor", "TSTE", "STE", "MVTE"]


def _data(est, readonly=False):
    rows = DS.data.triplets.copy()
    objects = DS.objects.copy()
    if readonly:
        rows.setflags(write=False)
        objects.setflags(write=False)
    if isinstance(est, MultiviewTripletEmbedder) and est.query == "anchor":
        return TripletData(rows, workers=DS.data.workers)  # transductive
    return TripletData(rows, objects, DS.data.workers)


def _outputs(est, X):
    index = np.arange(10)
    emb = est.transform(DS.objects[index] if _inductive(est) else index)
    return est.predict(X), emb


def _inductive(est):
    return isinstance(est, MultiviewTripletEmbedder) and not est.transductive_


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_fit_contract(est):
    X = _data(est)
    params = clone(est).get_params()
    est = clone(est)
    public_before = set(vars(est))
    assert est.fit(X, None) is est  # returns self, takes (and ignores) y
    assert clone(est).get_params() == params  # parameters not overwritten
    new = set(vars(est)) - public_before
    assert all(name.endswith("_") for name in new), new
    np.testing.assert_array_equal(X.triplets, DS.data.triplets)  # inputs untouched
    if X.objects is not None:
        np.testing.assert_array_equal(X.objects, DS.objects)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_unfitted_raises(est):
    with pytest.raises(NotFittedError):
        clone(est).predict(DS.data)
    with pytest.raises(NotFittedError):
        clone(est).transform(np.arange(3))


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_idempotent_pickle_and_readonly(est):
    X = _data(est)
    first = _outputs(clone(est).fit(X), X)
    fitted = clone(est).fit(X)
    fitted.fit(X)  # refitting gives the same model
    again = _outputs(fitted, X)
    readonly = _outputs(clone(est).fit(_data(est, readonly=True)), X)
    loaded = _outputs(pickle.loads(pickle.dumps(fitted)), X)
    for other in (again, readonly, loaded):
        np.testing.assert_array_equal(first[0], other[0])
        np.testing.assert_allclose(first[1], other[1], rtol=1e-6)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_methods_invariance_and_dict_unchanged(est):
    X = _data(est)
    est = clone(est).fit(X)
    state = pickle.dumps(vars(est))
    pred = est.predict(X)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_array_equal(est.predict(X[order]), pred[order])
    np.testing.assert_array_equal(est.predict(X[:7]), pred[:7])
    est.score(X)
    _outputs(est, X)
    assert pickle.dumps(vars(est)) == state


def test_inductive_feature_checks():
    est = clone(ESTIMATORS[0]).fit(_data(ESTIMATORS[0]))
    with pytest.raises(ValueError, match="features"):
        est.transform(DS.objects[:, :5])
    bad = DS.objects.copy()
    bad[3, 0] = np.inf
    with pytest.raises(ValueError, match="infinity|inf"):
        est.transform(bad)
    with pytest.raises(ValueError):
        est.transform(DS.objects[:, 0])  # 1-D
