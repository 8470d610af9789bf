"""Tests of the triplet data sets, the embedding metrics and the view plot."""

from pathlib import Path

import numpy as np
import pytest

from skcrowd.datasets import (
    load_food100,
    make_multiview_triplets,
    simulate_multiview_triplets,
)
from skcrowd.embedding import MultiviewTripletEmbedder, TripletData
from skcrowd.metrics import (
    clustering_purity,
    linear_probe_accuracy,
    triplet_accuracy,
    view_attribute_scores,
)

SHARED_FOOD = (
    Path(__file__).resolve().parents[3].parent / "shared/data/triplets/food100"
)


def test_simulated_answers_follow_each_workers_view():
    rng = np.random.RandomState(0)
    attributes = np.column_stack([rng.randint(5, size=200), rng.randint(4, size=200)])
    for query in ("odd-one-out", "anchor"):
        rows, workers = simulate_multiview_triplets(
            attributes, 3000, worker_views=[0, 1, 1], query=query, random_state=0
        )
        assert rows.shape == (3000, 3) and set(np.unique(workers)) == {0, 1, 2}
        view = np.array([0, 1, 1])[workers]
        a = attributes[rows, view[:, None]]  # each object's value in the view
        assert np.all(a[:, 0] == a[:, 1]) and np.all(a[:, 0] != a[:, 2])
        assert len(np.unique(rows, axis=0)) > 2900


def test_noise_and_subsets():
    attributes = np.repeat(np.arange(10), 10)[:, None]
    rows, _ = simulate_multiview_triplets(
        attributes, 3000, worker_views=[0], noise=0.3, random_state=0
    )
    agree = np.mean(attributes[rows[:, 0], 0] == attributes[rows[:, 1], 0])
    assert 0.7 < agree < 0.85  # 70% exact, plus a third of the random answers
    pool = np.arange(0, 100, 2)
    rows, _ = simulate_multiview_triplets(
        attributes, 500, worker_views=[0], objects=pool, random_state=0
    )
    assert np.isin(rows, pool).all()
    with pytest.raises(ValueError, match="worker_views"):
        simulate_multiview_triplets(attributes, 5, worker_views=[1])
    with pytest.raises(ValueError, match="no triplet"):
        simulate_multiview_triplets(np.zeros((5, 1), int), 5, worker_views=[0])


def test_make_multiview_triplets():
    ds = make_multiview_triplets(
        n_objects=80,
        n_triplets=300,
        test_size=0.25,
        n_test_triplets=40,
        random_state=0,
    )
    assert ds.objects.shape == (80, 192) and ds.images.shape == (80, 8, 8, 3)
    assert ds.objects.min() >= 0 and ds.objects.max() <= 1
    assert isinstance(ds.data, TripletData) and len(ds.test) == 40
    assert not np.isin(ds.data.triplets, ds.test_objects).any()
    assert np.isin(ds.test.triplets, ds.test_objects).all()
    again = make_multiview_triplets(
        n_objects=80,
        n_triplets=300,
        test_size=0.25,
        n_test_triplets=40,
        random_state=0,
    )
    np.testing.assert_array_equal(again.data.triplets, ds.data.triplets)
    with pytest.raises(ValueError, match="n_colors"):
        make_multiview_triplets(n_colors=11)
    with pytest.raises(ValueError, match="one view per worker"):
        make_multiview_triplets(n_workers=3, worker_views=[0, 1])


def test_load_food100():
    food = load_food100()
    assert food.triplets.shape == (250320, 3) and food.data.n_objects == 100
    assert len(np.unique(food.workers)) == 243
    assert "Wilber" in food.DESCR
    unique = load_food100(unique=True, as_frame=True)
    assert len(unique.triplets) == 190376 and len(unique.frame) == 190376


@pytest.mark.skipif(not SHARED_FOOD.exists(), reason="shared data not present")
def test_bundled_food100_equals_shared_copy():
    import pandas as pd

    shared = pd.read_csv(SHARED_FOOD / "triplets.csv.gz")
    np.testing.assert_array_equal(
        shared[["anchor", "near", "far"]].to_numpy(), load_food100().triplets
    )


def test_triplet_accuracy_by_hand():
    emb = np.array([[0.0], [1.0], [3.0]])
    # pairs: d01 = 1, d02 = 3, d12 = 2
    assert triplet_accuracy(emb, [[0, 1, 2]]) == 1.0
    assert triplet_accuracy(emb, [[1, 2, 0]]) == 0.0
    assert triplet_accuracy(emb, [[0, 1, 2], [2, 1, 0]], query="anchor") == 1.0
    with pytest.raises(ValueError, match="outside"):
        triplet_accuracy(emb, [[0, 1, 5]])
    with pytest.raises(ValueError, match="query"):
        triplet_accuracy(emb, [[0, 1, 2]], query="x")


def test_clustering_scores_and_matching():
    assert clustering_purity([0, 0, 1, 1, 1], [0, 0, 0, 1, 1]) == 0.8
    rng = np.random.RandomState(0)
    attributes = np.column_stack([rng.randint(3, size=90), rng.randint(4, size=90)])
    centres_a, centres_b = rng.normal(size=(3, 2)) * 10, rng.normal(size=(4, 2)) * 10
    views = np.stack(
        [centres_b[attributes[:, 1]], centres_a[attributes[:, 0]]], axis=1
    ) + rng.normal(scale=0.1, size=(90, 2, 2))
    scores = view_attribute_scores(views, attributes, random_state=0)
    assert scores.matching.tolist() == [1, 0]
    np.testing.assert_allclose(scores.matched_nmi, 1.0)
    np.testing.assert_allclose(scores.matched_purity, 1.0)
    agglo = view_attribute_scores(views, attributes, method="agglomerative")
    assert agglo.matching.tolist() == [1, 0]


def test_linear_probe_selects_on_validation():
    rng = np.random.RandomState(0)
    y = rng.randint(2, size=300)
    X = y[:, None] + rng.normal(scale=0.5, size=(300, 3))
    res = linear_probe_accuracy(
        X[:100], y[:100], X[100:200], y[100:200], X[200:], y[200:], Cs=(0.001, 1.0)
    )
    assert res.best_C == max(res.val_accuracy, key=res.val_accuracy.get)
    assert res.test_accuracy > 0.8


def test_plot_view_embeddings():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from skcrowd.plotting import plot_view_embeddings

    rng = np.random.RandomState(0)
    emb = rng.normal(size=(40, 2, 5))
    axes = plot_view_embeddings(
        emb,
        np.column_stack([np.arange(40) % 3, np.arange(40) % 2]),
        titles=["a", "b"],
        label_names=[["x", "y", "z"], None],
    )
    assert len(axes) == 2 and axes[0].get_title() == "a"
    assert len(axes[0].collections) == 3
    plot_view_embeddings(emb[:10, :1], method="tsne", random_state=0)
    with pytest.raises(ValueError, match="n_views"):
        plot_view_embeddings(emb[:, 0])
    plt.close("all")


@pytest.mark.slow
def test_acceptance_coloured_digits_inductive():
    """Issue acceptance 2: held-out objects, 2 views, 4 workers."""
    ds = make_multiview_triplets(
        n_objects=1000,
        n_triplets=20000,
        test_size=0.2,
        n_test_triplets=5000,
        random_state=0,
    )
    est = MultiviewTripletEmbedder(
        lr=5e-3, batch_size=2000, max_epochs=40, random_state=0
    ).fit(ds.data)
    assert est.score(ds.test) >= 0.90
    views = est.transform_views(ds.objects[ds.test_objects])
    scores = view_attribute_scores(
        views, ds.attributes[ds.test_objects], random_state=0
    )
    nmi = dict(zip(ds.attribute_names, scores.matched_nmi, strict=True))
    assert nmi["colour"] >= 0.9 and nmi["digit"] >= 0.7
    preferred = np.argmax(est.worker_view_preference_, axis=1)
    np.testing.assert_array_equal(preferred, scores.matching[ds.worker_views])


def test_acceptance_food100_transductive():
    """Issue acceptance 4: Food-100 held-out accuracy >= 0.84 (10-D)."""
    food = load_food100(unique=True)
    perm = np.random.RandomState(0).permutation(len(food.data))
    n_train = int(0.8 * len(perm))
    est = MultiviewTripletEmbedder(
        n_views=2,
        query="anchor",
        lr=0.1,
        batch_size=4096,
        max_epochs=5,
        random_state=0,
    ).fit(food.data[perm[:n_train]])
    assert est.score(food.data[perm[n_train:]]) >= 0.84
