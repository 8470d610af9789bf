import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.aggregation import DawidSkene


def random_crowd(seed, n_items=60, n_workers=8, k=3, p_label=0.5):
    """A seeded crowd of workers with random confusion matrices."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(k, size=n_items)
    conf = rng.dirichlet(np.ones(k), size=(n_workers, k)) + 2 * np.eye(k)
    conf /= conf.sum(axis=2, keepdims=True)
    u = rng.random((n_items, n_workers, 1))
    labels = (u > np.cumsum(conf[:, truth].transpose(1, 0, 2), axis=2)).sum(axis=2)
    Y = labels.astype(float)
    Y[rng.random((n_items, n_workers)) > p_label] = np.nan
    Y[np.arange(n_items), rng.integers(n_workers, size=n_items)] = labels[
        np.arange(n_items), rng.integers(n_workers, size=n_items)
    ]
    return Y, truth


# A toy crowd whose first EM step is computed by hand (alpha=0):
# the majority-vote start is q = [2/3,1/3], [1/3,2/3], [0,1], [1,0];
# the class prior is (sum q)/4 = [1/2, 1/2];
# worker 0 (labels 0,0,1,0): true-0 row = [2/3+1/3+1, 0] / 2 = [1, 0],
#   true-1 row = [1/3+2/3+0, 1] / 2 = [1/2, 1/2];
# worker 1 (labels 0,1,1,0): true-0 row = [2/3+1, 1/3] / 2 = [5/6, 1/6],
#   true-1 row = [1/3, 2/3+1] / 2 = [1/6, 5/6];
# worker 2 (labels 1,1,1,0): true-0 row = [1, 2/3+1/3] / 2 = [1/2, 1/2],
#   true-1 row = [0, 1/3+2/3+1] / 2 = [0, 1].
# E-step, item 0 (labels 0,0,1): k=0: 1/2 * 1 * 5/6 * 1/2 = 5/24,
#   k=1: 1/2 * 1/2 * 1/6 * 1 = 1/24  ->  [5/6, 1/6]; item 1 symmetric [1/6, 5/6];
#   item 2 (1,1,1): k=0 has worker 0's impossible 0->1, so [0, 1]; item 3 [1, 0].
TOY = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 0]])


def test_one_em_step_matches_hand_computation():
    ds = DawidSkene(alpha=0, max_iter=1).fit(TOY)
    expected_conf = np.array(
        [
            [[1, 0], [1 / 2, 1 / 2]],
            [[5 / 6, 1 / 6], [1 / 6, 5 / 6]],
            [[1 / 2, 1 / 2], [0, 1]],
        ]
    )
    np.testing.assert_allclose(ds.confusion_, expected_conf, atol=1e-12)
    np.testing.assert_allclose(ds.class_prior_, [0.5, 0.5])
    np.testing.assert_allclose(
        ds.proba_, [[5 / 6, 1 / 6], [1 / 6, 5 / 6], [0, 1], [1, 0]], atol=1e-12
    )
    assert ds.n_iter_ == 1
    np.testing.assert_array_equal(ds.labels_, [0, 1, 1, 0])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.01, 1.0])
def test_objective_never_decreases(seed, alpha):
    Y, _ = random_crowd(seed)
    ds = DawidSkene(alpha=alpha, tol=0, max_iter=50).fit(Y)
    steps = np.diff(ds.log_likelihood_)
    assert np.all(steps >= -1e-9 * np.abs(ds.log_likelihood_[1:])), steps.min()


def test_recovers_truth_and_beats_majority_vote():
    Y, truth = random_crowd(0, n_items=400, n_workers=10)
    ds = DawidSkene().fit(Y)
    assert np.mean(ds.labels_ == truth) > 0.9
    assert ds.n_iter_ < ds.max_iter


def test_finite_with_a_thousand_labels_on_one_item():
    rng = np.random.default_rng(0)
    Y = np.full((3, 1000), np.nan)
    Y[0] = rng.integers(2, size=1000)
    Y[1, :3] = [0, 0, 1]
    Y[2, 3:6] = [1, 1, 0]
    ds = DawidSkene().fit(Y)
    assert np.all(np.isfinite(ds.proba_))
    assert np.all(np.isfinite(ds.log_likelihood_))
    np.testing.assert_allclose(ds.proba_.sum(axis=1), 1)


def test_gold_labels_are_clamped_and_inform_workers():
    Y, truth = random_crowd(3, n_items=100)
    gold = np.full(len(truth), np.nan)
    gold[:30] = truth[:30]
    ds = DawidSkene().fit(Y, y_gold=gold)
    np.testing.assert_array_equal(ds.labels_[:30], truth[:30])
    np.testing.assert_allclose(ds.proba_[np.arange(30), truth[:30]], 1.0)
    with pytest.raises(ValueError, match="no worker gave"):
        DawidSkene().fit(Y, y_gold=np.full(len(truth), 7.0))
    with pytest.raises(ValueError, match="one entry per item"):
        DawidSkene().fit(Y, y_gold=truth[:5])


def test_confusion_prior_pulls_workers_toward_the_prior():
    Y, _ = random_crowd(1)
    plain = DawidSkene().fit(Y)
    strong = DawidSkene(confusion_prior=1000 * np.eye(3)).fit(Y)
    diag = np.diagonal(strong.confusion_, axis1=1, axis2=2)
    assert np.all(diag > 0.9)
    assert diag.mean() > np.diagonal(plain.confusion_, axis1=1, axis2=2).mean()
    per_worker = np.repeat(np.eye(3)[None], Y.shape[1], axis=0)
    DawidSkene(confusion_prior=per_worker).fit(Y)
    with pytest.raises(ValueError, match="confusion_prior must have shape"):
        DawidSkene(confusion_prior=np.eye(2)).fit(Y)


def test_sparse_input_gives_the_dense_result():
    Y, _ = random_crowd(2)
    observed = ~np.isnan(Y)
    rows, cols = np.nonzero(observed)
    Ys = sp.csr_array((Y[observed], (rows, cols)), shape=Y.shape)
    dense = DawidSkene().fit(Y)
    sparse = DawidSkene().fit(Ys)
    np.testing.assert_allclose(sparse.proba_, dense.proba_, atol=1e-10)
    np.testing.assert_allclose(sparse.confusion_, dense.confusion_, atol=1e-10)


def test_predict_proba_on_training_crowd_matches_fit():
    Y, _ = random_crowd(4)
    ds = DawidSkene(tol=0, max_iter=300).fit(Y)
    np.testing.assert_allclose(ds.predict_proba(Y), ds.proba_, atol=1e-6)
    np.testing.assert_array_equal(ds.predict(Y), ds.labels_)


def test_many_classes():
    rng = np.random.default_rng(0)
    k, n_items, n_workers = 1000, 3000, 5
    truth = rng.integers(k, size=n_items)
    Y = np.tile(truth[:, None], (1, n_workers)).astype(float)
    noise = rng.random(Y.shape) < 0.3
    Y[noise] = rng.integers(k, size=noise.sum())
    ds = DawidSkene(max_iter=20).fit(Y)
    assert ds.confusion_.shape == (n_workers, len(ds.classes_), len(ds.classes_))
    assert np.mean(ds.labels_ == truth) > 0.95


def test_worker_report_orders_workers_by_quality():
    import pandas as pd

    Y, truth = random_crowd(5, n_items=300, n_workers=6)
    Y[:, 0] = truth  # a perfect worker
    Y[:, 1] = np.random.default_rng(0).integers(3, size=len(truth))  # a spammer
    df = pd.DataFrame(Y, columns=[f"w{i}" for i in range(6)])
    report = DawidSkene().fit(df).worker_report()
    assert list(report.index) == [f"w{i}" for i in range(6)]
    assert report.loc["w0", "accuracy"] > 0.95
    assert report.loc["w1", "accuracy"] < 0.5
    assert report.loc["w0", "confusion"].shape == (3, 3)
    assert report["n_labels"].sum() == np.sum(~np.isnan(Y))


def test_int_worker_ids_of_a_dataframe_are_kept():
    # a long table pivoted to a crowd has the (int) worker ids as columns;
    # scikit-learn keeps string column names only, and the report used to
    # show the positions 0..3 as ids, and a reordered crowd went unnoticed
    import pandas as pd

    Y, truth = random_crowd(1, n_items=200, n_workers=4)
    Y[:, 2] = truth  # worker 30: perfect
    workers = [10, 20, 30, 40]
    df = pd.DataFrame(Y, columns=workers)
    ds = DawidSkene().fit(df)
    report = ds.worker_report()
    assert list(report.index) == workers
    assert report["accuracy"].idxmax() == 30
    np.testing.assert_array_equal(ds.workers_, workers)
    np.testing.assert_array_equal(ds.predict(df), ds.labels_)
    ds.predict(Y)  # a plain array: by position, as before
    with pytest.raises(ValueError, match="worker ids"):
        ds.predict(df[workers[::-1]])
    # a refit on string worker names drops the int ids
    named = DawidSkene().fit(df).fit(df.set_axis(["a", "b", "c", "d"], axis=1))
    assert not hasattr(named, "workers_")
    assert list(named.worker_report().index) == ["a", "b", "c", "d"]
