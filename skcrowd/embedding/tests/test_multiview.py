import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skcrowd.datasets import make_multiview_triplets
from skcrowd.embedding import MultiviewTripletEmbedder, TripletData
from skcrowd.embedding._modules import (
    DecayExceptWorkers,
    FreeEmbedding,
    MultiviewTripletModule,
)

FAST = dict(max_epochs=3, hidden_units=(32,), batch_size=200, lr=5e-3)


@pytest.fixture(scope="module")
def digits():
    return make_multiview_triplets(
        n_objects=150,
        n_triplets=1500,
        test_size=0.2,
        n_test_triplets=300,
        random_state=0,
    )


def _reference_loss(emb, rows, W, query):
    """METHODS.md §B.5 written out with NumPy, one triplet at a time."""
    pairs = {"odd-one-out": [(0, 1), (0, 2), (1, 2)], "anchor": [(0, 1), (0, 2)]}
    losses = []
    for m, *t in rows:
        s = np.array(
            [
                [
                    np.exp(-np.linalg.norm(emb[t[a], v] - emb[t[b], v]))
                    for a, b in pairs[query]
                ]
                for v in range(emb.shape[1])
            ]
        )
        p = s / s.sum(axis=1, keepdims=True)
        ent = -(p * np.log(p)).sum(axis=1)
        H = (np.log(len(pairs[query])) - ent) / np.log(len(pairs[query]))
        Q = np.exp(H + W[m]) / np.exp(H + W[m]).sum()
        S = (Q[:, None] * s).sum(axis=0)
        losses.append(-np.log((S[0] + 1e-8) / (S.sum() + len(S) * 1e-8)))
    return np.mean(losses)


@pytest.mark.parametrize("query", ["odd-one-out", "anchor"])
def test_loss_is_the_papers(query):
    rng = np.random.RandomState(0)
    emb = rng.normal(size=(6, 3, 2))
    W = rng.normal(size=(2, 3))
    rows = np.array([[0, 0, 1, 2], [1, 3, 4, 5], [1, 2, 5, 0]])
    encoder = FreeEmbedding(6, 3, 2)
    module = MultiviewTripletModule(encoder, 2, 3, query, transductive=True)
    with torch.no_grad():
        encoder.table.copy_(torch.as_tensor(emb))
        module.worker_logits.copy_(torch.as_tensor(W))
    out = module(torch.as_tensor(rows)[None])
    loss = module.loss(out).item()
    np.testing.assert_allclose(loss, _reference_loss(emb, rows, W, query), rtol=1e-5)
    assert out[1].shape == (3, 3)
    np.testing.assert_allclose(out[1].sum(1).detach().numpy(), 1, rtol=1e-6)


def test_unknown_worker_gets_mean_preference():
    encoder = FreeEmbedding(3, 2, 2)
    module = MultiviewTripletModule(encoder, 2, 2, "odd-one-out", transductive=True)
    with torch.no_grad():
        encoder.table.zero_()  # every view equally (un)certain
        module.worker_logits.copy_(torch.tensor([[2.0, 0.0], [0.0, 0.0]]))
    _, attention = module.mix(encoder.table, torch.tensor([[-1, 0, 1, 2]]))
    expected = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    np.testing.assert_allclose(attention[0].detach().numpy(), expected.numpy(), 1e-6)


def test_decay_except_workers():
    module = MultiviewTripletModule(FreeEmbedding(3, 2, 2), 4, 2, "anchor", True)
    opt = DecayExceptWorkers(torch.optim.Adam)(
        [{"params": list(module.parameters())}], lr=0.1, weight_decay=0.5
    )
    decays = {
        tuple(p.shape): g["weight_decay"] for g in opt.param_groups for p in g["params"]
    }
    assert decays == {(3, 2, 2): 0.5, (4, 2): 0.0}


def test_inductive_fit_transform_and_predict(digits):
    est = MultiviewTripletEmbedder(random_state=0, **FAST).fit(digits.data)
    assert not est.transductive_
    assert est.n_features_in_ == 192
    new = digits.objects[digits.test_objects]  # never seen in training
    assert est.transform(new).shape == (len(new), 20)
    views = est.transform_views(new)
    assert views.shape == (len(new), 2, 10)
    np.testing.assert_allclose(est.transform(new), views.reshape(len(new), -1))
    pred = est.predict(digits.test)
    assert pred.shape == (300,) and set(np.unique(pred)) <= {0, 1, 2}
    assert est.score(digits.test) == np.mean(pred == 2)
    proba = est.triplet_view_proba(digits.test)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(1), 1)
    assert est.worker_view_preference_.shape == (4, 2)
    np.testing.assert_allclose(est.worker_view_preference_.sum(1), 1)
    np.testing.assert_array_equal(est.workers_, [0, 1, 2, 3])
    assert len(est.history_) == FAST["max_epochs"]


def test_transductive_on_plain_rows():
    rng = np.random.RandomState(0)
    points = rng.rand(30, 2)
    rows = np.array([rng.choice(30, 3, replace=False) for _ in range(3000)])
    d = np.linalg.norm(points[rows[:, :1]] - points[rows[:, 1:]], axis=2)
    rows[d[:, 0] > d[:, 1]] = rows[d[:, 0] > d[:, 1]][:, [0, 2, 1]]
    est = MultiviewTripletEmbedder(
        n_views=1,
        n_components=2,
        query="anchor",
        lr=0.1,
        max_epochs=30,
        batch_size=500,
        random_state=0,
    ).fit(rows[:2500])
    assert est.transductive_ and est.embedding_.shape == (30, 1, 2)
    assert est.score(rows[2500:]) > 0.9
    np.testing.assert_allclose(est.transform([0, 3]), est.embedding_[[0, 3], 0])
    with pytest.raises(ValueError, match="indices"):
        est.transform(points)
    with pytest.raises(ValueError, match="not fitted on"):
        est.predict([[0, 1, 40]])


def test_workers_are_labels_and_unknown_ones_get_the_mean():
    rows = np.array([[0, 1, 2], [2, 3, 0], [1, 3, 2], [0, 2, 3]] * 10)
    workers = np.array(["bob", "ann"] * 20)
    est = MultiviewTripletEmbedder(max_epochs=2, batch_size=None, random_state=0).fit(
        TripletData(rows, workers=workers)
    )
    assert est.workers_.tolist() == ["ann", "bob"]
    mean = est.worker_view_logits_.mean(0)
    with_unknown = est.triplet_view_proba(TripletData(rows[:1], workers=["zoe"]))
    without = est.triplet_view_proba(rows[:1])
    np.testing.assert_allclose(with_unknown, without)
    shared = MultiviewTripletEmbedder(
        max_epochs=2, batch_size=None, per_worker=False, random_state=0
    ).fit(TripletData(rows, workers=workers))
    prefs = shared.worker_view_preference_
    assert prefs.shape == (2, 2) and np.allclose(prefs[0], prefs[1])
    assert mean.shape == (2,)


def test_gridsearch_over_n_views_and_lr(digits):
    search = GridSearchCV(
        MultiviewTripletEmbedder(random_state=0, **{**FAST, "max_epochs": 2}),
        {"n_views": [1, 2], "lr": [1e-3, 5e-3]},
        cv=KFold(2, shuffle=True, random_state=0),
    ).fit(digits.data)
    assert set(search.cv_results_["param_n_views"]) == {1, 2}
    assert 0 <= search.best_score_ <= 1
    assert search.best_estimator_.transform(digits.objects[:2]).shape[0] == 2
    scores = cross_val_score(
        MultiviewTripletEmbedder(random_state=0, **FAST), digits.data, cv=2
    )
    assert scores.shape == (2,)


def test_user_module_on_images(digits):
    images = digits.objects.reshape(-1, 3, 8, 8)
    data = TripletData(digits.data.triplets, images, digits.data.workers)

    class Conv(torch.nn.Module):
        def __init__(self, width=4):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, width, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x)).mean(dim=(2, 3))

    est = MultiviewTripletEmbedder(
        Conv, module_params={"width": 6}, random_state=0, **FAST
    ).fit(data)
    assert est.transform(images[:5]).shape == (5, 20)

    class WholeEncoder(torch.nn.Module):  # returns (batch, views, components)
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(192, 2 * 10)

        def forward(self, x):
            return self.lin(x.flatten(1)).view(-1, 2, 10)

    est = MultiviewTripletEmbedder(WholeEncoder(), random_state=0, **FAST).fit(data)
    assert est.transform_views(images[:3]).shape == (3, 2, 10)
    # the default MLP flattens images
    est = MultiviewTripletEmbedder(random_state=0, **FAST).fit(data)
    assert est.transform(images[:3]).shape == (3, 20)

    class Bad(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="must return"):
        MultiviewTripletEmbedder(Bad, **FAST).fit(data)


def test_prediction_follows_the_module_device(digits):
    # ``device`` changed after fit (e.g. to "cuda" on a model trained on the
    # CPU) must not move the inputs away from the module. torch's "meta"
    # device stands in for CUDA: it refuses CPU tensors as CUDA does.
    est = MultiviewTripletEmbedder(random_state=0, **FAST).fit(digits.data)
    emb, proba = est.transform(digits.objects[:10]), est.triplet_view_proba(digits.test)
    est.set_params(device="meta")
    np.testing.assert_array_equal(est.transform(digits.objects[:10]), emb)
    np.testing.assert_array_equal(est.triplet_view_proba(digits.test), proba)
    rows = digits.data.triplets[:200]
    tr = MultiviewTripletEmbedder(random_state=0, **FAST).fit(rows)
    proba = tr.triplet_view_proba(rows[:50])
    tr.set_params(device="meta")
    np.testing.assert_array_equal(tr.triplet_view_proba(rows[:50]), proba)


def test_repeatable_pickle_and_inputs_untouched(digits):
    objects = digits.objects.copy()
    rows = digits.data.triplets.copy()
    est = MultiviewTripletEmbedder(random_state=3, **FAST)
    before = torch.random.get_rng_state()
    a = est.fit(digits.data).transform(digits.objects[:20])
    assert torch.equal(before, torch.random.get_rng_state())
    b = clone(est).fit(digits.data).transform(digits.objects[:20])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(objects, digits.objects)
    np.testing.assert_array_equal(rows, digits.data.triplets)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(digits.test), est.predict(digits.test))
    np.testing.assert_array_equal(loaded.transform(digits.objects[:20]), a)


def test_bad_input_errors(digits):
    est = MultiviewTripletEmbedder(**FAST)
    with pytest.raises(ValueError, match="integer object indices"):
        est.fit(np.full((10, 3), 0.25))
    with pytest.raises(ValueError):
        MultiviewTripletEmbedder(n_views=0).fit(digits.data)
    with pytest.raises(ValueError, match="query"):
        MultiviewTripletEmbedder(query="closest").fit(digits.data)
    est.fit(digits.data)
    with pytest.raises(ValueError, match="features"):
        est.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="inductive"):
        est.predict(digits.data.triplets)
    bad = digits.objects.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiviewTripletEmbedder(**FAST).fit(TripletData([[0, 1, 2]], bad))


def test_ties_never_agree():
    rows = np.array([[0, 1, 2], [1, 2, 0]])
    est = MultiviewTripletEmbedder(max_epochs=1, random_state=0).fit(rows)
    with torch.no_grad():
        est.net_.module_.encoder.table.zero_()
    assert est.score(rows) == 0.0


def test_import_does_not_import_torch():
    code = (
        "import sys, skcrowd, skcrowd.embedding, skcrowd.datasets, skcrowd.metrics,"
        " skcrowd.plotting; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False", out.stderr


def test_validation_fraction_and_early_stopping(digits):
    est = MultiviewTripletEmbedder(
        max_epochs=30,
        validation_fraction=0.2,
        early_stopping=True,
        n_iter_no_change=2,
        hidden_units=(16,),
        lr=5e-2,
        random_state=0,
    ).fit(digits.data)
    assert "valid_loss" in est.history_[-1]
    assert len(est.history_) < 30
