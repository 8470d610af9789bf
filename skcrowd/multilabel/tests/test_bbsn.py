"""BBSNClassifier and MultiLabelNetClassifier: module, schedules, targets, data."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from skcrowd.multilabel import (  # noqa: E402
    LOSS_NAMES,
    BBSNClassifier,
    MultiLabelNetClassifier,
)
from skcrowd.multilabel._modules import (  # noqa: E402
    BBSNModule,
    SparseMLP,
    alpha_schedule,
    beta_schedule,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_data(n=160, n_features=20, seed=0):
    """A small long-tailed multi-label problem: label c is feature c > cut_c."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, n_features)
    cuts = np.array([0.3, 0.6, 0.8, 0.9, 0.95])
    Y = (X[:, : len(cuts)] > cuts).astype(int)
    return X, Y


SMALL = dict(
    hidden_units=(16,),
    max_epochs=4,
    batch_size=16,
    lr=0.01,
    random_state=0,
    threshold=0.5,
    model_selection="last",
    validation_fraction=None,
)


def small(cls, **params):
    extra = {"feature_dim": 8} if cls is BBSNClassifier else {}
    return cls(**{**SMALL, **extra, **params})


BOTH = [BBSNClassifier, MultiLabelNetClassifier]


# -- schedules ----------------------------------------------------------------
def test_alpha_and_beta_schedules():
    assert alpha_schedule(0, 5) == 1.0
    assert alpha_schedule(2, 5) == pytest.approx(0.75)
    assert alpha_schedule(4, 5) == 0.0
    assert beta_schedule(2, 5, "quadratic") == pytest.approx(0.75)
    assert beta_schedule(2, 5, "cosine") == pytest.approx(math.cos(math.pi / 4))
    assert beta_schedule(4, 5, "cosine") == pytest.approx(0.0, abs=1e-12)
    assert alpha_schedule(0, 1) == beta_schedule(0, 1, "cosine") == 1.0


@pytest.mark.parametrize("kind", ["quadratic", "cosine"])
def test_history_records_the_schedules(kind):
    X, Y = make_data()
    clf = small(BBSNClassifier, beta_schedule=kind, max_epochs=5).fit(X, Y)
    alphas = clf.history_[:, "alpha"]
    betas = clf.history_[:, "beta"]
    np.testing.assert_allclose(alphas, [alpha_schedule(e, 5) for e in range(5)])
    np.testing.assert_allclose(betas, [beta_schedule(e, 5, kind) for e in range(5)])


# -- the module and its loss ----------------------------------------------------
def test_bbsn_loss_is_the_papers_combination():
    torch.manual_seed(0)
    C, B = 4, 3
    module = BBSNModule(SparseMLP(6, (5,)), 5, C, feature_dim=7)
    module.alpha, module.beta = 0.7, 0.4
    x = torch.rand(4 * B, 6)
    y = (torch.rand(4 * B, C) > 0.5).float()
    module.train()
    out = module(x)
    loss = module.loss(out, y)
    y1, y2, y3, y4 = torch.chunk(y, 4)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def masked(z, a, b):
        g, m = a * b, a + b - a * b
        p = torch.sigmoid(z * m) * m
        return -(
            g * m * torch.log(p.clamp_min(1e-45))
            + (1 - g * m) * torch.log((1 - p).clamp_min(1e-45))
        ).mean()

    yhat1, yhat4, z1, z2, ybbn = out
    expected = (
        0.4 * (bce(yhat1, y1) + bce(yhat4, y4))
        + 0.6 * (masked(z1, y1, y2) + masked(z2, y3, y4))
        + 0.7 * bce(ybbn, y2)
        + 0.3 * bce(ybbn, y3)
    )
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    # the BBN heads take alpha * f2 (uniform, net 1) and (1 - alpha) * f3
    h = module.encoder(x)
    f2 = module.siamese1.linear1(torch.chunk(h, 4)[1])
    f3 = module.siamese2.linear1(torch.chunk(h, 4)[2])
    ref = module.bbn_branch2(0.7 * f2) + module.bbn_branch3(0.3 * f3)
    torch.testing.assert_close(ybbn, ref)


@pytest.mark.parametrize("name", ["asymmetric", "focal"])
def test_bbsn_classification_terms_take_the_chosen_loss(name):
    from skcrowd.multilabel._losses import MultiLabelLoss, masked_bce

    torch.manual_seed(0)
    C, B = 4, 3
    y = (torch.rand(4 * B, C) > 0.5).float()
    crit = MultiLabelLoss(name, y.sum(0).numpy(), 4 * B)
    module = BBSNModule(SparseMLP(6, (5,)), 5, C, feature_dim=7, criterion=crit)
    module.alpha, module.beta = 0.7, 0.4
    module.train()
    out = module(torch.rand(4 * B, 6))
    y1, y2, y3, y4 = torch.chunk(y, 4)
    yhat1, yhat4, z1, z2, ybbn = out
    # L1, L5, L3 use the loss; the similarity terms L2, L4 stay masked BCE
    expected = (
        0.4 * (crit(yhat1, y1) + crit(yhat4, y4))
        + 0.6
        * (
            masked_bce(z1, y1 * y2, y1 + y2 - y1 * y2)
            + masked_bce(z2, y3 * y4, y3 + y4 - y3 * y4)
        )
        + 0.7 * crit(ybbn, y2)
        + 0.3 * crit(ybbn, y3)
    )
    assert float(module.loss(out, y)) == pytest.approx(float(expected), rel=1e-5)
    module.criterion = None  # the paper's BCE gives another value
    assert float(module.loss(out, y)) != pytest.approx(float(expected), rel=1e-3)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_bbsn_every_loss_trains(loss):
    X, Y = make_data(n=300)
    clf = small(BBSNClassifier, loss=loss, max_epochs=15, lr=0.05).fit(X, Y)
    # the objective changes with alpha and beta: its value need not fall,
    # but the labels are ranked well above chance (the asymmetric loss's
    # probabilities are not calibrated at 0.5, so no accuracy at a threshold)
    from sklearn.metrics import roc_auc_score

    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    proba = clf.predict_proba(X)
    auc = [roc_auc_score(Y[:, c], proba[:, c]) for c in range(Y.shape[1])]
    assert np.mean(auc) > 0.7
    criterion = clf.net_.module_.criterion
    if loss == "bce":
        assert criterion is None  # the paper's BCE, unchanged
    else:
        assert criterion.name == loss


def test_bbsn_loss_params_reach_the_loss():
    X, Y = make_data()
    clf = small(
        BBSNClassifier, loss="asymmetric", loss_params={"gamma_neg": 2.0}, max_epochs=1
    ).fit(X, Y)
    assert clf.net_.module_.criterion.params["gamma_neg"] == 2.0
    with pytest.raises(ValueError, match="Unknown parameters"):
        small(BBSNClassifier, loss="bce", loss_params={"gamma": 1.0}).fit(X, Y)


def test_category_similarity_formula():
    torch.manual_seed(0)
    module = BBSNModule(SparseMLP(3, (4,)), 4, 3, feature_dim=5)
    s = module.siamese1
    fa, fb = torch.randn(2, 5), torch.randn(2, 5)
    z = s.similarity(fa, fb)
    d = (torch.sigmoid(fa) - torch.sigmoid(fb)).abs()
    for c in range(3):
        e = torch.zeros(3)
        e[c] = 1
        q = torch.relu(s.linear_onehot(e) / math.sqrt(3))
        ref = s.contrast(d * q).squeeze(1)
        torch.testing.assert_close(z[:, c], ref)


def test_evaluation_uses_alpha_one_half():
    torch.manual_seed(0)
    module = BBSNModule(SparseMLP(6, (5,)), 5, 3, feature_dim=7).eval()
    module.alpha = 0.0  # the training value must not matter
    x = torch.rand(4, 6)
    h = module.encoder(x)
    ref = module.bbn_branch2(0.5 * module.siamese1.linear1(h)) + module.bbn_branch3(
        0.5 * module.siamese2.linear1(h)
    )
    torch.testing.assert_close(module(x), ref)


def test_siamese_prediction_averages_the_siamese_classifiers():
    torch.manual_seed(0)
    module = BBSNModule(
        SparseMLP(6, (5,)), 5, 3, feature_dim=7, prediction="siamese"
    ).eval()
    x = torch.rand(4, 6)
    h = module.encoder(x)
    s1, s2 = module.siamese1, module.siamese2
    ref = 0.5 * (s1.classifier(s1.linear1(h)) + s2.classifier(s2.linear1(h)))
    torch.testing.assert_close(module(x), ref)
    # and it is not the BBN heads' prediction
    module.prediction = "bbn"
    assert not torch.allclose(module(x), ref)
    with pytest.raises(ValueError, match="prediction"):
        BBSNModule(SparseMLP(6, (5,)), 5, 3, prediction="heads")


def test_prediction_option_reaches_the_module():
    X, Y = make_data()
    clf = small(BBSNClassifier, prediction="siamese").fit(X, Y)
    assert clf.net_.module_.prediction == "siamese"
    ref = small(BBSNClassifier).fit(X, Y)
    # same training (the option only changes the evaluation logits)
    params = zip(
        clf.net_.module_.parameters(), ref.net_.module_.parameters(), strict=True
    )
    for a, b in params:
        torch.testing.assert_close(a, b)
    assert not np.allclose(clf.predict_proba(X), ref.predict_proba(X))
    with pytest.raises(ValueError, match="prediction"):
        small(BBSNClassifier, prediction="heads").fit(X, Y)


# -- fitting: targets -------------------------------------------------------------
@pytest.mark.parametrize("cls", BOTH)
def test_fit_predict_shapes_and_learning(cls):
    X, Y = make_data(n=300)
    clf = small(cls, max_epochs=15, lr=0.05).fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert clf.target_type_ == "multi-label"
    assert clf.threshold_.tolist() == [0.5] * Y.shape[1]
    # the frequent labels are learned
    acc = (clf.predict(X)[:, :2] == Y[:, :2]).mean()
    assert acc > 0.8


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_every_loss_trains(loss):
    X, Y = make_data()
    clf = small(MultiLabelNetClassifier, loss=loss).fit(X, Y)
    losses = clf.history_[:, "train_loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("cls", BOTH)
def test_soft_targets(cls):
    X, Y = make_data()
    hard = small(cls).fit(X, Y)
    same = small(cls).fit(X, Y.astype(float))
    np.testing.assert_array_equal(hard.predict_proba(X), same.predict_proba(X))
    soft = np.clip(Y * 0.8 + 0.1, 0, 1)
    clf = small(cls).fit(X, soft)
    assert clf.target_type_ == "multi-label"
    assert not np.array_equal(clf.predict_proba(X), hard.predict_proba(X))


def simulate_crowd(Y, n_workers=5, seed=0):
    rng = np.random.RandomState(seed)
    acc = np.array([0.95, 0.9, 0.9, 0.85, 0.5])[:n_workers]  # the last: a spammer
    flip = rng.rand(Y.shape[0], n_workers, Y.shape[1]) > acc[None, :, None]
    crowd = np.where(flip, 1 - Y[:, None, :], Y[:, None, :]).astype(float)
    crowd[rng.rand(*crowd.shape) < 0.2] = np.nan
    return crowd


@pytest.mark.parametrize("cls", BOTH)
def test_crowd_targets_are_aggregated_per_label(cls):
    from skcrowd.multilabel._base import aggregate_multilabel_crowd

    X, Y = make_data()
    crowd = simulate_crowd(Y)
    clf = small(cls).fit(X, crowd)
    assert clf.target_type_ == "crowd"
    assert hasattr(clf, "aggregator_")
    proba, _ = aggregate_multilabel_crowd(crowd)
    assert ((proba >= 0.5) == Y).mean() > 0.95
    # the same model as training on the aggregated probabilities
    ref = small(cls).fit(X, proba)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("cls", BOTH)
def test_crowd_aggregator_choices(cls):
    from skcrowd.aggregation import (
        MajorityVote,
        MultiLabelAggregator,
        MultiLabelDawidSkene,
    )

    X, Y = make_data()
    crowd = simulate_crowd(Y)
    pooled = small(cls, aggregator=MultiLabelDawidSkene()).fit(X, crowd)
    assert isinstance(pooled.aggregator_, MultiLabelDawidSkene)
    per_label = small(cls, aggregator=MajorityVote(random_state=0)).fit(X, crowd)
    assert isinstance(per_label.aggregator_, MultiLabelAggregator)
    assert isinstance(per_label.aggregator_.aggregators_[0], MajorityVote)
    assert not np.array_equal(pooled.predict_proba(X), per_label.predict_proba(X))


@pytest.mark.parametrize("cls", BOTH)
def test_one_dimensional_class_labels(cls):
    X, Y = make_data(n=200)
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0.33).astype(int) + (X[:, 0] > 0.66)]
    clf = small(cls, max_epochs=10).fit(X, y)
    assert clf.target_type_ == "single-label"
    assert clf.classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"a", "b", "c"}


@pytest.mark.parametrize("dtype", ["Int64", "boolean", "Float64"])
def test_nullable_pandas_indicator_matrix(dtype):
    # nullable columns convert to an object array, which was rejected as
    # "not an indicator matrix"
    pd = pytest.importorskip("pandas")
    X, Y = make_data(n=60)
    Ydf = pd.DataFrame(Y, columns=[f"label{c}" for c in range(Y.shape[1])])
    expected = small(MultiLabelNetClassifier, max_epochs=2).fit(X, Y)
    clf = small(MultiLabelNetClassifier, max_epochs=2).fit(X, Ydf.astype(dtype))
    assert clf.target_type_ == "multi-label"
    np.testing.assert_array_equal(clf.predict_proba(X), expected.predict_proba(X))
    missing = Ydf.astype(dtype).mask(Ydf == 1, pd.NA if dtype != "Float64" else None)
    with pytest.raises(ValueError, match="NaN or inf"):
        small(MultiLabelNetClassifier).fit(X, missing)


@pytest.mark.parametrize(
    "y, match",
    [
        (np.full((10, 3), 2.0), r"in \[0, 1\]"),
        (np.where(np.eye(10, 3) > 0, np.nan, 0.0), "NaN or inf"),
        (np.full((10, 2, 3), 0.5), "0, 1\nor NaN|0, 1 or NaN"),
        (np.full((10, 2, 3), np.nan), "no observed label"),
    ],
)
def test_bad_targets_are_rejected_clearly(y, match):
    X = np.random.RandomState(0).rand(10, 4)
    with pytest.raises(ValueError, match=match):
        small(MultiLabelNetClassifier).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model_selection": "best"}, "validation_fraction"),
        ({"threshold": "tuned"}, "validation_fraction"),
    ],
)
def test_options_that_need_a_validation_split(params, match):
    X, Y = make_data()
    with pytest.raises(ValueError, match=match):
        small(BBSNClassifier, **params).fit(X, Y)


# -- validation, selection, thresholds ------------------------------------------------
@pytest.mark.parametrize("selection", ["best", "faithful"])
def test_model_selection_keeps_the_best_validation_epoch(selection):
    X, Y = make_data(n=200)
    clf = small(
        BBSNClassifier,
        max_epochs=6,
        validation_fraction=0.25,
        model_selection=selection,
        threshold="tuned",
    ).fit(X, Y)
    score = np.array(clf.history_[:, "valid_micro_f1"]) + np.array(
        clf.history_[:, "valid_macro_f1"]
    )
    best = int(np.argmax(score))
    assert clf.history_[best, "valid_f1_best"]
    assert clf.threshold_.shape == (Y.shape[1],)
    assert len(np.unique(clf.threshold_)) > 1  # per label


def test_faithful_mode_reloads_the_best_weights():
    """After an epoch that did not improve, training restarts from the best."""
    from skorch.callbacks import Callback

    class Record(Callback):
        def initialize(self):
            self.states = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.states.append(
                {k: v.clone() for k, v in net.module_.state_dict().items()}
            )

    X, Y = make_data(n=200)
    rec = Record()
    clf = small(
        BBSNClassifier,
        max_epochs=8,
        lr=0.05,
        validation_fraction=0.25,
        model_selection="faithful",
        callbacks=[("record", rec)],
    ).fit(X, Y)
    improved = clf.history_[:, "valid_f1_best"]
    assert not all(improved), "the test needs an epoch without improvement"
    # the selection callback runs after "record": compare the next epoch's start
    final = clf.net_.module_.state_dict()
    best_epoch = max(i for i, b in enumerate(improved) if b)
    for key in final:
        torch.testing.assert_close(final[key], rec.states[best_epoch][key])


# -- data: sparse, user module -------------------------------------------------------
@pytest.mark.parametrize("cls", BOTH)
def test_sparse_input_is_never_densified_whole(cls, monkeypatch):
    X, Y = make_data(n=200, n_features=50)
    X[X < 0.7] = 0
    Xs = sp.csr_matrix(X)
    densified = []
    for klass in (sp.csr_matrix, sp.csr_array, sp.coo_matrix):
        for name in ("toarray", "todense"):
            orig = getattr(klass, name)

            def spy(self, *a, _orig=orig, **k):
                densified.append(self.shape[0])
                return _orig(self, *a, **k)

            monkeypatch.setattr(klass, name, spy)
    seen = []
    orig_forward = SparseMLP.forward

    def forward(self, x):
        seen.append(x.layout)
        return orig_forward(self, x)

    monkeypatch.setattr(SparseMLP, "forward", forward)
    clf = small(cls).fit(Xs, Y)
    sparse_proba = clf.predict_proba(Xs)
    assert all(n < len(X) for n in densified), densified
    assert set(seen) == {torch.sparse_csr}
    assert sparse_proba.shape == Y.shape
    # with dense gradients (SGD), the sparse and dense paths are the same model
    # (AdamW updates the sparse first layer lazily: only the batch's rows)
    a = small(cls, optimizer="sgd", lr=0.5).fit(Xs, Y).predict_proba(Xs)
    b = small(cls, optimizer="sgd", lr=0.5).fit(X, Y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-5)


class Tiny(torch.nn.Module):
    def __init__(self, n_features=20, width=6):
        super().__init__()
        self.lin = torch.nn.Linear(n_features, width)

    def forward(self, x):
        return torch.tanh(self.lin(x))


@pytest.mark.parametrize("cls", BOTH)
@pytest.mark.parametrize("as_instance", [False, True])
def test_user_module(cls, as_instance):
    X, Y = make_data()
    module = Tiny() if as_instance else Tiny
    clf = small(cls, module=module).fit(sp.csr_matrix(X), Y)
    assert isinstance(clf.net_.module_.encoder, Tiny)
    assert clf.predict(X).shape == Y.shape
    if as_instance:  # the user's instance is not trained in place
        assert clf.net_.module_.encoder is not module


# -- reproducibility and persistence ----------------------------------------------
@pytest.mark.parametrize("cls", BOTH)
def test_determinism_and_global_rng_untouched(cls):
    X, Y = make_data()
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002
    before = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    a = small(
        cls, validation_fraction=0.2, threshold="tuned", model_selection="best"
    ).fit(X, Y)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])  # noqa: NPY002
    b = small(
        cls, validation_fraction=0.2, threshold="tuned", model_selection="best"
    ).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.threshold_, b.threshold_)
    c = small(cls, random_state=1).fit(X, Y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_branch_learning_rates_follow_alpha():
    from skorch.callbacks import Callback

    class Snapshot(Callback):
        def on_train_begin(self, net, **kwargs):
            m = net.module_
            self.start_ = [m.bbn_branch2.weight.clone(), m.bbn_branch3.weight.clone()]

    X, Y = make_data()
    snap = Snapshot()
    # 2 epochs: alpha = 1 then 0
    clf = small(
        BBSNClassifier, max_epochs=2, scale_branch_lr=True, callbacks=[snap]
    ).fit(X, Y)
    m = clf.net_.module_
    heads = [m.bbn_branch2.weight, m.bbn_branch3.weight]
    moved = [not torch.equal(w, w0) for w, w0 in zip(heads, snap.start_, strict=True)]
    groups = clf.net_.optimizer_.param_groups
    by_param = {id(p): g for g in groups for p in g["params"]}
    assert by_param[id(m.bbn_branch2.weight)]["lr_scale"] == 0.0  # alpha = 0
    assert by_param[id(m.bbn_branch3.weight)]["lr_scale"] == 1.0
    assert sum(len(g["params"]) for g in groups) == len(list(m.parameters()))
    # branch 3 was frozen in epoch 1 (alpha = 1), branch 2 in epoch 2, but
    # each learned in its own epoch
    assert moved == [True, True]
    one = small(
        BBSNClassifier, max_epochs=1, scale_branch_lr=True, callbacks=[snap]
    ).fit(X, Y)
    m1 = one.net_.module_
    assert torch.equal(m1.bbn_branch3.weight, snap.start_[1])
    assert not torch.equal(m1.bbn_branch2.weight, snap.start_[0])


def test_pairs_are_redrawn_each_epoch_unless_asked_not_to():
    from skcrowd.multilabel._modules import PairData

    draws = []
    orig = PairData.redraw

    def redraw(self, rng):
        orig(self, rng)
        draws.append(self.pairs.copy())

    X, Y = make_data()
    PairData.redraw = redraw
    try:
        small(BBSNClassifier, max_epochs=3).fit(X, Y)
        assert len(draws) == 3 and not np.array_equal(draws[0], draws[1])
        draws.clear()
        small(BBSNClassifier, max_epochs=3, resample_pairs=False).fit(X, Y)
        assert len(draws) == 1
    finally:
        PairData.redraw = orig


@pytest.mark.parametrize("cls", BOTH)
def test_pickle_round_trip(cls):
    X, Y = make_data()
    clf = small(
        cls, validation_fraction=0.2, model_selection="best", threshold="tuned"
    ).fit(sp.csr_matrix(X), Y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))


def test_inputs_are_not_modified():
    X, Y = make_data()
    crowd = simulate_crowd(Y)
    Xc, cc = X.copy(), crowd.copy()
    small(BBSNClassifier).fit(X, crowd)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(crowd, cc)


def test_bbsn_diverged_training_is_reported_not_a_torch_error():
    # lr 1e3 on unscaled features: the weights go NaN. The epoch's selection
    # score raised "proba contains NaN" and, past it, the similarity BCE
    # torch's "all elements of input should be between 0 and 1";
    # now a NaN epoch is never selected, and a fit whose weights stay NaN
    # says that training diverged
    rng = np.random.RandomState(0)
    X = rng.rand(40, 6)
    Y = np.column_stack([X[:, 0] > 0.3, X[:, 1] > 0.8, X[:, 2] > 0.9]).astype(int)
    clf = BBSNClassifier(
        hidden_units=(8,), max_epochs=5, lr=1e3, optimizer="sgd",
        random_state=0,
    )
    try:
        clf.fit(X * 1e3, Y)
    except ValueError as exc:
        assert "training diverged" in str(exc)
    else:
        assert np.isfinite(clf.predict_proba(X)).all()
