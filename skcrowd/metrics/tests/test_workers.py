import numpy as np
import pytest
import scipy.sparse as sp

from skcrowd.aggregation import DawidSkene, MajorityVote
from skcrowd.metrics import (
    crowd_agreement,
    crowd_log_likelihood,
    worker_accuracy,
    worker_confusion,
    worker_metrics_report,
)

# items x workers; worker 2 labels only item 3 (which has no gold label)
Y_TOY = np.array(
    [
        [0, 1, np.nan],
        [1, 1, np.nan],
        [2, 0, np.nan],
        [0, np.nan, 2],
    ]
)
GOLD_TOY = np.array([0, 1, 2, np.nan])


def simulate(n=300, accuracies=(0.55, 0.65, 0.75, 0.85, 0.95, 0.7), seed=0):
    rng = np.random.RandomState(seed)
    truth = rng.randint(0, 3, size=n)
    acc = np.asarray(accuracies)
    correct = rng.rand(n, len(acc)) < acc
    wrong = (truth[:, None] + rng.randint(1, 3, size=(n, len(acc)))) % 3
    Y = np.where(correct, truth[:, None], wrong).astype(float)
    Y[rng.rand(n, len(acc)) < 0.2] = np.nan
    return Y, truth


def test_worker_accuracy_by_hand():
    # worker 0: 3/3, worker 1: 1/3 (item 1 only), worker 2: no gold item
    acc = worker_accuracy(Y_TOY, GOLD_TOY)
    np.testing.assert_allclose(acc, [1.0, 1 / 3, np.nan])


def test_worker_accuracy_matches_loop_and_sparse():
    Y, truth = simulate()
    gold = truth.astype(float)
    gold[::3] = np.nan
    expected = []
    for r in range(Y.shape[1]):
        m = ~np.isnan(Y[:, r]) & ~np.isnan(gold)
        expected.append(np.mean(Y[m, r] == gold[m]))
    np.testing.assert_allclose(worker_accuracy(Y, gold), expected)
    # sparse: stored entries are observed (labels as codes, explicit zeros kept)
    rows, cols = np.nonzero(~np.isnan(Y))
    S = sp.csr_array((Y[rows, cols], (rows, cols)), shape=Y.shape)
    np.testing.assert_allclose(worker_accuracy(S, gold), expected)


def test_worker_accuracy_strings_and_unknown_gold():
    Y = np.array([["a", "b"], ["b", None], ["c", "c"]], dtype=object)
    # gold "z" was never given: a miss for both workers on item 2
    acc = worker_accuracy(Y, np.array(["a", "b", "z"], dtype=object))
    np.testing.assert_allclose(acc, [2 / 3, 0.0])
    with pytest.raises(ValueError, match="same label type"):
        worker_accuracy(Y_TOY, np.array(["0", "1", "2", None], dtype=object))
    with pytest.raises(ValueError, match="one entry per item"):
        worker_accuracy(Y_TOY, [0, 1])


def test_worker_confusion_by_hand():
    counts = worker_confusion(Y_TOY, GOLD_TOY, normalize=False)
    assert counts.shape == (3, 3, 3)
    np.testing.assert_array_equal(counts[0], np.eye(3))
    expected_1 = np.zeros((3, 3))
    expected_1[0, 1] = expected_1[1, 1] = expected_1[2, 0] = 1
    np.testing.assert_array_equal(counts[1], expected_1)
    assert counts[2].sum() == 0
    norm = worker_confusion(Y_TOY, GOLD_TOY)
    assert np.all(np.isnan(norm[2]))
    np.testing.assert_allclose(norm[0], np.eye(3))


def test_worker_confusion_rows_sum_to_one_and_diagonal_is_accuracy():
    Y, truth = simulate()
    conf = worker_confusion(Y, truth)
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)
    counts = worker_confusion(Y, truth, normalize=False)
    acc = np.trace(counts, axis1=1, axis2=2) / counts.sum(axis=(1, 2))
    np.testing.assert_allclose(acc, worker_accuracy(Y, truth))


def test_worker_confusion_gold_class_absent_from_crowd():
    Y = np.array([[0, 0], [1, 0]])
    conf = worker_confusion(Y, [0, 2], normalize=False)  # class 2 never given
    assert conf.shape == (2, 3, 3)
    assert conf[1, 2, 0] == 1
    conf = worker_confusion(Y, [0, 1], classes=[0, 1, 2], normalize=False)
    assert conf.shape == (2, 3, 3)
    with pytest.raises(ValueError, match="outside the classes"):
        worker_confusion(Y, [0, 2], classes=[0, 1])


def test_worker_metrics_report_tracks_true_accuracy():
    Y, truth = simulate()
    ds = DawidSkene().fit(Y)
    report = worker_metrics_report(ds, Y, truth)
    assert list(report.columns) == [
        "n_labels",
        "n_gold",
        "estimated_accuracy",
        "true_accuracy",
        "error",
    ]
    np.testing.assert_allclose(report["true_accuracy"], worker_accuracy(Y, truth))
    np.testing.assert_allclose(report["estimated_accuracy"],
                               ds.worker_report()["accuracy"])
    assert report.attrs["spearman"] > 0.8
    assert report.attrs["pearson"] > 0.9
    assert report.attrs["mean_absolute_error"] < 0.1
    # an unfitted aggregator is cloned and fitted, leaving the argument alone
    mv = MajorityVote(random_state=0)
    report = worker_metrics_report(mv, Y, truth)
    assert not hasattr(mv, "labels_")
    assert np.isfinite(report.attrs["spearman"])


def test_worker_metrics_report_too_few_workers_gives_nan():
    report = worker_metrics_report(MajorityVote(), Y_TOY, GOLD_TOY)
    assert np.isnan(report.attrs["spearman"])
    assert report["n_gold"].tolist() == [3, 3, 0]
    with pytest.raises(ValueError, match="fitted on 3 workers"):
        worker_metrics_report(DawidSkene().fit(Y_TOY), Y_TOY[:, :2], GOLD_TOY)


def test_crowd_agreement():
    # 8 observed labels; predictions 0, 1, 2, 2 agree with 1 + 2 + 1 + 1 of them
    assert crowd_agreement([0, 1, 2, 2], Y_TOY) == pytest.approx(5 / 8)
    # a prediction outside the crowd's labels agrees with nobody
    assert crowd_agreement([5, 1, 2, 2], Y_TOY) == pytest.approx(4 / 8)
    Y, truth = simulate()
    mask = ~np.isnan(Y)
    expected = np.mean(Y[mask] == np.broadcast_to(truth[:, None], Y.shape)[mask])
    assert crowd_agreement(truth, Y) == pytest.approx(expected)
    with pytest.raises(ValueError, match="one entry per item"):
        crowd_agreement([0, 1], Y_TOY)


def test_crowd_log_likelihood():
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8],
                      [0.5, 0.25, 0.25]])
    # labels: (0,0)=0 (0,1)=1 (1,0)=1 (1,1)=1 (2,0)=2 (2,1)=0 (3,0)=0 (3,2)=2
    p = [0.8, 0.1, 0.6, 0.6, 0.8, 0.1, 0.5, 0.25]
    assert crowd_log_likelihood(proba, Y_TOY) == pytest.approx(np.mean(np.log(p)))
    per_worker = np.repeat(proba[:, None, :], 3, axis=1)
    assert crowd_log_likelihood(per_worker, Y_TOY) == pytest.approx(
        np.mean(np.log(p))
    )
    with pytest.raises(ValueError, match="must have shape"):
        crowd_log_likelihood(proba[:, :2], Y_TOY)
    # a class never observed: pass classes
    ll = crowd_log_likelihood(np.full((4, 4), 0.25), Y_TOY, classes=[0, 1, 2, 3])
    assert ll == pytest.approx(np.log(0.25))
