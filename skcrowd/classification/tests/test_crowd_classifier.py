"""Tests of CrowdClassifier: every crowd model, model selection, persistence."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcrowd.classification import CROWD_MODEL_NAMES, CrowdClassifier
from skcrowd.datasets import make_crowd_classification
from skcrowd.metrics import make_gold_scorer
from skcrowd.model_selection import CrowdStratifiedKFold

torch = pytest.importorskip("torch")

#: small and fast settings (the defaults train 100 epochs of a 100-unit MLP)
FAST = {
    "hidden_units": (16,),
    "lr": 0.01,
    "max_epochs": 10,
    "batch_size": 32,
    "random_state": 0,
}
K, N_WORKERS = 3, 6


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def crowd():
    return make_crowd_classification(
        n_samples=200,
        n_features=5,
        n_classes=K,
        n_workers=N_WORKERS,
        labels_per_item=3,
        random_state=0,
        return_info=True,
    )


@pytest.fixture(scope="module")
def sparse_crowd():
    return make_crowd_classification(
        n_samples=200,
        n_features=5,
        n_classes=K,
        n_workers=N_WORKERS,
        labels_per_item=3,
        sparse=True,
        random_state=0,
        return_info=True,
    )


def _check_fitted(clf, X, Y):
    n = len(X)
    proba = clf.predict_proba(X)
    assert proba.shape == (n, K)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.n_workers_ == N_WORKERS
    assert clf.worker_confusion_.shape == (N_WORKERS, K, K)
    np.testing.assert_allclose(clf.worker_confusion_.sum(-1), 1.0, atol=1e-5)
    assert clf.worker_reliability_.shape == (N_WORKERS,)
    assert np.all((clf.worker_reliability_ >= 0) & (clf.worker_reliability_ <= 1))
    worker_proba = clf.predict_worker_proba(X)
    assert worker_proba.shape == (n, N_WORKERS, K)
    np.testing.assert_allclose(worker_proba.sum(-1), 1.0, atol=1e-5)
    some = clf.predict_worker_proba(X, workers=[4, 1])
    np.testing.assert_allclose(some, worker_proba[:, [4, 1]], atol=1e-6)
    post = clf.posterior_proba(X, Y)
    assert post.shape == (n, K)
    np.testing.assert_allclose(post.sum(1), 1.0)
    assert 0 <= clf.score(X, Y) <= 1


@pytest.mark.parametrize("crowd_model", CROWD_MODEL_NAMES)
def test_every_crowd_model_on_a_sparse_crowd(crowd_model, sparse_crowd):
    X, Y, y = sparse_crowd.X, sparse_crowd.Y, sparse_crowd.y_true
    assert sp.issparse(Y)
    clf = CrowdClassifier(crowd_model=crowd_model, **FAST).fit(X, Y)
    _check_fitted(clf, X, Y)
    loss = clf.history_[:, "train_loss"]
    assert len(loss) == FAST["max_epochs"]
    assert loss[-1] < loss[0]
    assert np.mean(clf.predict(X) == y) > 0.7
    # the posterior given the crowd is at least as right as the classifier
    post = clf.classes_[clf.posterior_proba(X, Y).argmax(1)]
    assert np.mean(post == y) >= np.mean(clf.predict(X) == y) - 0.02


@pytest.mark.parametrize("crowd_model", CROWD_MODEL_NAMES)
def test_every_crowd_model_with_string_labels(crowd_model, crowd):
    names = np.array(["cat", "dog", "eel"], dtype=object)
    Y = np.full(crowd.Y.shape, None, dtype=object)
    seen = ~np.isnan(crowd.Y)
    Y[seen] = names[crowd.Y[seen].astype(int)]
    clf = CrowdClassifier(crowd_model=crowd_model, **FAST).fit(crowd.X, Y)
    assert list(clf.classes_) == list(names)
    _check_fitted(clf, crowd.X, Y)
    assert np.mean(clf.predict(crowd.X) == names[crowd.y_true]) > 0.7


@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "em"])
def test_sparse_crowd_gives_the_dense_result(crowd_model, crowd, sparse_crowd):
    np.testing.assert_array_equal(
        sparse_crowd.Y.toarray(), np.nan_to_num(crowd.Y, nan=0)
    )
    dense = CrowdClassifier(crowd_model=crowd_model, **FAST).fit(crowd.X, crowd.Y)
    sparse = CrowdClassifier(crowd_model=crowd_model, **FAST).fit(
        sparse_crowd.X, sparse_crowd.Y
    )
    np.testing.assert_array_equal(
        dense.predict_proba(crowd.X), sparse.predict_proba(crowd.X)
    )


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "crowd_model", ["em", "instance", "crowdlayer-mw", "annot-mix"]
)
def test_worker_reliability_ranks_the_true_accuracies(crowd_model, seed):
    info = make_crowd_classification(
        n_samples=600,
        n_features=5,
        n_workers=10,
        labels_per_item=4,
        worker_profiles={"reliable": 0.6, "uniform_spammer": 0.2, "adversarial": 0.2},
        random_state=seed,
        return_info=True,
    )
    params = {**FAST, "max_epochs": 15, "random_state": seed}
    clf = CrowdClassifier(crowd_model=crowd_model, **params).fit(info.X, info.Y)
    rho = spearmanr(clf.worker_reliability_, info.worker_accuracy)[0]
    assert rho >= 0.9, (rho, clf.worker_reliability_, info.worker_accuracy)


def test_instance_model_learns_where_workers_fail():
    info = make_crowd_classification(
        n_samples=400,
        n_features=5,
        n_workers=6,
        labels_per_item=3,
        instance_dependent=1.0,
        random_state=0,
        return_info=True,
    )
    clf = CrowdClassifier(crowd_model="instance", **{**FAST, "max_epochs": 30})
    clf.fit(info.X, info.Y)
    # the failure probability of each (item, worker) pair, which sees the
    # item and the worker but not the label, flags the wrong labels
    item, worker = np.nonzero(~np.isnan(info.Y))
    wrong = info.Y[item, worker] != info.y_true[item]
    _, rep = clf._forward(info.X.astype(np.float32))
    with torch.no_grad():
        failure = clf.net_.module_.crowd_model.failure_logit(
            rep[item], torch.as_tensor(worker)[:, None]
        )[:, 0]
    assert roc_auc_score(wrong, failure.numpy()) > 0.65


# -- determinism and persistence ----------------------------------------------
@pytest.mark.parametrize("crowd_model", CROWD_MODEL_NAMES)
def test_pickle_round_trip_gives_identical_predictions(crowd_model, crowd):
    X, Y = crowd.X, crowd.Y
    clf = CrowdClassifier(crowd_model=crowd_model, **{**FAST, "max_epochs": 2})
    clf.fit(X, Y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), loaded.predict_proba(X))
    np.testing.assert_array_equal(
        clf.predict_worker_proba(X), loaded.predict_worker_proba(X)
    )
    np.testing.assert_array_equal(clf.worker_confusion_, loaded.worker_confusion_)


@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "conal", "instance", "em"])
def test_same_random_state_same_fit(crowd_model, crowd):
    X, Y = crowd.X, crowd.Y
    params = {**FAST, "max_epochs": 3, "crowd_model": crowd_model, "dropout": 0.2}
    first = CrowdClassifier(**params).fit(X, Y).predict_proba(X)
    again = CrowdClassifier(**params).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, again)
    other = CrowdClassifier(**{**params, "random_state": 1}).fit(X, Y).predict_proba(X)
    assert not np.allclose(first, other)


def test_fit_leaves_the_global_torch_rng_alone(crowd):
    state = torch.get_rng_state()
    CrowdClassifier(crowd_model="conal", **{**FAST, "max_epochs": 2}).fit(
        crowd.X, crowd.Y
    )
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "instance", "em"])
def test_train_on_cuda_load_on_cpu(crowd_model, crowd, monkeypatch):
    X, Y = crowd.X, crowd.Y
    clf = CrowdClassifier(crowd_model=crowd_model, device="cuda", **FAST).fit(X, Y)
    assert next(clf.net_.module_.parameters()).is_cuda
    proba = clf.predict_proba(X)
    blob = pickle.dumps(clf)
    # a machine without CUDA: skorch maps the weights to the CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning
        loaded = pickle.loads(blob)
    assert not next(loaded.net_.module_.parameters()).is_cuda
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-5)
    assert loaded.predict_worker_proba(X).shape == (len(X), N_WORKERS, K)
    assert loaded.posterior_proba(X, Y).shape == (len(X), K)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_backbone_instance_already_on_cuda(crowd, device):
    from skcrowd.nn import MLP

    X, Y = crowd.X, crowd.Y
    backbone = MLP(X.shape[1], (8,)).cuda()
    clf = CrowdClassifier(module=backbone, device=device, **FAST).fit(X, Y)
    assert next(backbone.parameters()).is_cuda  # the user's instance is untouched
    param = next(clf.net_.module_.parameters())
    assert param.device.type == device
    assert clf.predict_proba(X).shape == (len(X), K)


# -- scikit-learn integration --------------------------------------------------
def test_grid_search_over_crowd_model_and_lr_with_the_gold_scorer(crowd):
    X, Y, y = crowd.X, crowd.Y, crowd.y_true.astype(float)
    y_gold = y.copy()
    y_gold[::3] = np.nan  # gold labels for two items in three
    grid = {"crowd_model": ["crowdlayer-mw", "em"], "lr": [0.01, 1e-4]}
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            CrowdClassifier(**FAST),
            grid,
            scoring=make_gold_scorer(),
            cv=CrowdStratifiedKFold(2, random_state=0),
        ).fit(X, Y, y_gold=y_gold)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(np.isfinite(scores))
    assert search.best_params_["lr"] == 0.01  # 1e-4 barely trains in 10 epochs
    assert search.best_estimator_.predict(X).shape == (len(X),)


def test_pipeline_with_standard_scaler(crowd):
    X, Y, y = crowd.X * 100 + 50, crowd.Y, crowd.y_true
    pipe = make_pipeline(StandardScaler(), CrowdClassifier(crowd_model="em", **FAST))
    pipe.fit(X, Y)
    assert np.mean(pipe.predict(X) == y) > 0.8
    assert pipe.predict_proba(X).shape == (len(X), K)
    assert 0 <= pipe.score(X, Y) <= 1
    assert pipe[-1].worker_confusion_.shape == (N_WORKERS, K, K)


def test_verbose_prints_the_epoch_table(crowd, capsys):
    CrowdClassifier(**{**FAST, "max_epochs": 2}, verbose=1).fit(crowd.X, crowd.Y)
    out = capsys.readouterr()
    assert "train_loss" in out.out and "epoch" in out.out
    CrowdClassifier(**{**FAST, "max_epochs": 2}).fit(crowd.X, crowd.Y)
    assert capsys.readouterr().out == ""


def test_verbose_adds_a_progress_bar():
    from skorch.callbacks import ProgressBar

    clf = CrowdClassifier(verbose=1)
    assert any(isinstance(cb, ProgressBar) for _, cb in clf._skorch_callbacks())
    assert not CrowdClassifier()._skorch_callbacks()


@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "em"])
def test_validation_fraction_and_early_stopping(crowd_model, crowd):
    clf = CrowdClassifier(
        crowd_model=crowd_model,
        **{**FAST, "max_epochs": 60},
        validation_fraction=0.25,
        early_stopping=True,
        n_iter_no_change=3,
    ).fit(crowd.X, crowd.Y)
    valid = clf.history_[:, "valid_loss"]
    assert np.all(np.isfinite(valid))
    assert len(clf.history_) < 60  # stopped early
    assert np.mean(clf.predict(crowd.X) == crowd.y_true) > 0.7


def test_em_hook_runs_once_per_epoch_and_keeps_user_callbacks(crowd):
    from skorch.callbacks import Callback

    class Count(Callback):
        def initialize(self):
            self.n = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.n += 1

    counter = Count()
    clf = CrowdClassifier(
        crowd_model="em", **{**FAST, "max_epochs": 3}, callbacks=[("count", counter)]
    ).fit(crowd.X, crowd.Y)
    names = [name for name, _ in clf.net_.callbacks]
    assert names[0] == "crowd_model_epoch_end" and "count" in names
    assert dict(clf.net_.callbacks)["count"].n == 3
    # the posteriors moved away from the majority vote
    q = clf.net_.module_.crowd_model.posterior
    assert q.shape == (len(crowd.X), K)
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-5)


class Backbone(torch.nn.Module):
    def __init__(self, n_features=5, width=8):
        super().__init__()
        self.layer = torch.nn.Linear(n_features, width)

    def forward(self, X):
        return torch.relu(self.layer(X))


@pytest.mark.parametrize("crowd_model", ["instance", "conal"])
def test_user_module_class_and_instance(crowd_model, crowd):
    X, Y = crowd.X, crowd.Y
    clf = CrowdClassifier(
        Backbone, module_params={"width": 12}, crowd_model=crowd_model, **FAST
    ).fit(X, Y)
    assert clf.net_.module_.backbone.layer.out_features == 12
    assert clf.predict_proba(X).shape == (len(X), K)

    backbone = Backbone()
    before = backbone.layer.weight.detach().clone()
    clf = CrowdClassifier(backbone, crowd_model=crowd_model, **FAST).fit(X, Y)
    assert torch.equal(backbone.layer.weight, before)  # not trained in place
    assert not torch.equal(clf.net_.module_.backbone.layer.weight, before)
    clone(clf).fit(X, Y)  # clone copies the instance parameter


def test_backbone_must_return_a_matrix(crowd):
    class Flat(torch.nn.Module):
        def forward(self, X):
            return X.sum(1)

    with pytest.raises(ValueError, match="representation"):
        CrowdClassifier(Flat, **FAST).fit(crowd.X, crowd.Y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"crowd_model": "dawid-skene"}, "crowd_model"),
        ({"lr": -1.0}, "lr"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"confusion_rank": 0}, "confusion_rank"),
        ({"reg": -0.1}, "reg"),
        ({"dropout": 1.5}, "dropout"),
        ({"optimizer": "lbfgs-ish"}, "optimizer"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"early_stopping": True}, "validation_fraction"),
        ({"module": "resnet"}, "module"),
    ],
)
def test_bad_parameters_raise(params, match, crowd):
    with pytest.raises(ValueError, match=match):
        CrowdClassifier(**{**FAST, **params}).fit(crowd.X, crowd.Y)


def test_bad_prediction_arguments_raise(crowd):
    X, Y = crowd.X, crowd.Y
    clf = CrowdClassifier(**{**FAST, "max_epochs": 1}).fit(X, Y)
    for workers in ([N_WORKERS], [-1], [], [[0, 1]], [0.5]):
        with pytest.raises(ValueError, match="workers"):
            clf.predict_worker_proba(X, workers=workers)
    with pytest.raises(ValueError, match="workers"):
        clf.posterior_proba(X, Y[:, :3])
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


@pytest.mark.parametrize("crowd_model", ["speelfc", "conal", "instance"])
def test_low_rank_confusion_for_many_classes(crowd_model):
    info = make_crowd_classification(
        n_samples=300,
        n_features=10,
        n_classes=12,
        n_workers=5,
        labels_per_item=3,
        class_sep=3.0,
        random_state=0,
        return_info=True,
    )
    clf = CrowdClassifier(crowd_model=crowd_model, confusion_rank=2, **FAST)
    clf.fit(info.X, info.Y)
    assert clf.worker_confusion_.shape == (5, 12, 12)
    np.testing.assert_allclose(clf.worker_confusion_.sum(-1), 1.0, atol=1e-5)
    shapes = [p.shape for p in clf.net_.module_.crowd_model.parameters()]
    assert (5, 12, 12) not in shapes  # no full matrix per worker
    assert np.mean(clf.predict(info.X) == info.y_true) > 0.5


def test_dataframe_crowd_worker_ids_are_kept_and_checked(crowd):
    # the workers of a DataFrame crowd are its columns: kept in workers_ and
    # a reordered crowd at posterior_proba is an error, not other workers'
    pd = pytest.importorskip("pandas")
    X, Y = crowd.X, crowd.Y
    ids = [f"w{j}" for j in range(Y.shape[1])]
    frame = pd.DataFrame(Y, columns=ids)
    clf = CrowdClassifier(max_epochs=2, random_state=0).fit(X, frame)
    assert clf.workers_.tolist() == ids
    expected = clf.posterior_proba(X, Y)
    np.testing.assert_array_equal(clf.posterior_proba(X, frame), expected)
    with pytest.raises(ValueError, match="worker ids"):
        clf.posterior_proba(X, frame[ids[::-1]])
    assert not hasattr(clf.fit(X, Y), "workers_")  # a refit on an array
