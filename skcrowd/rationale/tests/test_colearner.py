"""Tests of RationaleCoLearner: reduction, rationale formats, routing, explain."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing

from skcrowd.classification import CROWD_MODEL_NAMES, CrowdClassifier
from skcrowd.datasets import make_rationale_crowd
from skcrowd.rationale import (
    RationaleCoLearner,
    aggregate_rationales,
    check_rationales,
)

torch = pytest.importorskip("torch")

OFF = dict(
    rationale_weight=0.0,
    reconstruction_weight=0.0,
    orthogonality_weight=0.0,
    private_encoders=False,
)
SMALL = dict(hidden_units=(8,), max_epochs=3, batch_size=16, lr=0.01)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def task():
    return make_rationale_crowd(
        n_samples=80, n_features=10, n_attributes=6, n_workers=6, random_state=0
    )


# -- reduction to CrowdClassifier -----------------------------------
@pytest.mark.parametrize("crowd_model", CROWD_MODEL_NAMES)
def test_reduces_to_crowd_classifier(task, crowd_model):
    """Every rationale term off: the same network, init and training."""
    X, Y, R, _ = task
    params = dict(SMALL, crowd_model=crowd_model, random_state=3, dropout=0.2)
    ours = RationaleCoLearner(**params, **OFF).fit(X, Y, rationales=R)
    theirs = CrowdClassifier(**params).fit(X, Y)
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_array_equal(ours.worker_confusion_, theirs.worker_confusion_)
    assert [h["train_loss"] for h in ours.history_] == [
        h["train_loss"] for h in theirs.history_
    ]
    assert ours.n_rationale_terms_ == 0


def test_every_crowd_classifier_parameter_is_exposed():
    """The reduction needs every CrowdClassifier knob, with its default."""
    ours = RationaleCoLearner().get_params()
    for name, value in CrowdClassifier().get_params().items():
        assert name in ours, (
            f"RationaleCoLearner lacks CrowdClassifier's parameter {name!r}: add "
            "it to its __init__ (skcrowd/rationale/_colearner.py)"
        )
        assert repr(ours[name]) == repr(value), name


def test_reduces_with_class_prior_correction_and_validation(task):
    X, Y, R, _ = task
    params = dict(
        SMALL, class_prior_correction=True, validation_fraction=0.25, random_state=0
    )
    ours = RationaleCoLearner(**params, **OFF).fit(X, Y, rationales=R)
    theirs = CrowdClassifier(**params).fit(X, Y)
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))


def test_rationale_head_changes_the_model(task):
    X, Y, R, _ = task
    off = RationaleCoLearner(**SMALL, **OFF, random_state=0).fit(X, Y, rationales=R)
    on = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=R)
    assert on.n_rationale_terms_ == R.shape[2]
    assert not np.allclose(off.predict_proba(X), on.predict_proba(X))


# -- the full design -------------------------------------------------
@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "conal", "em"])
def test_every_branch_on(task, crowd_model):
    X, Y, R, _ = task
    clf = RationaleCoLearner(
        **SMALL,
        crowd_model=crowd_model,
        private_encoders=True,
        private_units=(4,),
        random_state=0,
    ).fit(X, Y, rationales=R)
    module = clf.net_.module_
    assert module.class_encoder is not None and module.rationale_encoder is not None
    assert module.decoder is not None and module.orthogonality_weight > 0
    # the class head and the crowd model read [h_s; h_c]
    assert module.crowd_net.head.in_features == 8 + 4
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.predict_rationale_proba(X).shape == (len(X), R.shape[2])
    assert clf.worker_confusion_.shape == (Y.shape[1], 3, 3)
    assert np.isfinite([h["train_loss"] for h in clf.history_]).all()


def test_user_module_class_and_instance(task):
    X, Y, R, _ = task

    class Encoder(torch.nn.Module):
        def __init__(self, n_features=10, width=5):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, width)

        def forward(self, X):
            return torch.relu(self.linear(X))

    for module in (Encoder, Encoder(10, 5)):
        clf = RationaleCoLearner(
            module, **SMALL, private_encoders=True, random_state=0
        ).fit(X, Y, rationales=R)
        net = clf.net_.module_
        assert isinstance(net.class_encoder, Encoder)
        # private encoders start elsewhere than the shared one
        shared = net.crowd_net.backbone.shared
        assert not torch.equal(net.class_encoder.linear.weight, shared.linear.weight)
    instance = Encoder(10, 5)
    before = instance.linear.weight.detach().clone()
    RationaleCoLearner(instance, **SMALL, private_encoders=True).fit(X, Y, rationales=R)
    assert torch.equal(instance.linear.weight, before)  # never trained in place


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_user_module_instance_already_on_cuda(task):
    X, Y, R, _ = task
    instance = torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU()).cuda()
    clf = RationaleCoLearner(
        instance, **SMALL, private_encoders=True, device="cuda", random_state=0
    ).fit(X, Y, rationales=R)
    assert next(instance.parameters()).is_cuda  # the user's instance is untouched
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.predict_rationale_proba(X).shape[0] == len(X)


def test_orthogonality_penalty():
    from skcrowd.rationale._module import cross_correlation_penalty

    g = torch.Generator().manual_seed(0)
    a = torch.randn(256, 3, generator=g)
    assert cross_correlation_penalty(a, a) > 0.3
    assert cross_correlation_penalty(a, torch.randn(256, 4, generator=g)) < 0.02
    assert cross_correlation_penalty(a, a.new_zeros(256, 0)) == 0
    assert cross_correlation_penalty(a[:1], a[:1]) == 0


def test_labels_missing_where_rationales_present(task):
    """Items without any class label still train the rationale head."""
    X, Y, R, _ = task
    Y = Y.copy()
    Y[:40] = np.nan
    clf = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=R)
    assert clf.predict_rationale_proba(X[:40]).shape == (40, R.shape[2])


def test_fit_without_rationales(task):
    X, Y, _, _ = task
    clf = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y)
    assert clf.n_rationale_terms_ == 0
    with pytest.raises(ValueError, match="no rationale head"):
        clf.predict_rationale_proba(X)
    with pytest.raises(ValueError, match="no rationale head"):
        clf.explain(X)


def test_rationale_target_not_kept_and_pickle(task):
    X, Y, R, _ = task
    clf = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=R)
    assert clf.net_.module_.rationale_rows is None
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(
        again.predict_rationale_proba(X), clf.predict_rationale_proba(X)
    )


def test_fit_is_idempotent_and_seeded(task):
    X, Y, R, _ = task
    clf = RationaleCoLearner(**SMALL, private_encoders=True, random_state=0)
    first = clf.fit(X, Y, rationales=R).predict_rationale_proba(X)
    second = clf.fit(X, Y, rationales=R).predict_rationale_proba(X)
    np.testing.assert_array_equal(first, second)
    # prediction does not depend on the other rows
    np.testing.assert_allclose(
        clf.predict_rationale_proba(X[:7]), first[:7], rtol=1e-6, atol=1e-7
    )


@pytest.mark.skipif(
    not hasattr(RationaleCoLearner, "resume"), reason="the base has no resume"
)
def test_resume_continues_exactly(task):
    X, Y, R, _ = task
    params = dict(SMALL, random_state=0)
    part = RationaleCoLearner(**{**params, "max_epochs": 2}).fit(X, Y, rationales=R)
    part.set_params(max_epochs=3).resume(X, Y, rationales=R)
    full = RationaleCoLearner(**params).fit(X, Y, rationales=R)
    np.testing.assert_array_equal(part.predict_proba(X), full.predict_proba(X))


# -- rationale formats -------------------------------------------------
def test_rationale_formats_agree(task):
    X, Y, R, _ = task
    dense = R.toarray()
    coo = sp.coo_array(dense)
    targets = [check_rationales(r, len(X)).target.toarray() for r in (R, dense, coo)]
    for t in targets[1:]:
        np.testing.assert_array_equal(t, targets[0])
    try:
        import sparse as pydata_sparse
    except ImportError:
        pass
    else:
        t = check_rationales(pydata_sparse.COO.from_numpy(dense), len(X)).target
        np.testing.assert_array_equal(t.toarray(), targets[0])
    a = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=R)
    for other in (dense, aggregate_rationales(R)):
        b = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=other)
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_check_rationales_fractions_and_counts():
    R = np.zeros((3, 4, 2), dtype=np.uint8)
    R[0, 0, 0] = R[0, 1, 0] = R[0, 2, 1] = 1  # 3 describing workers
    R[1, 3, 1] = 1
    out = check_rationales(R, 3)
    np.testing.assert_allclose(
        out.target.toarray(), [[2 / 3, 1 / 3], [0, 1], [0, 0]], rtol=1e-6
    )
    np.testing.assert_array_equal(out.has_rationale, [True, True, False])
    # duplicates in a COO input count once
    coords = np.array([[0, 0], [1, 1], [0, 0]])
    dup = sp.coo_array((np.ones(2), coords), shape=(1, 2, 1))
    np.testing.assert_array_equal(check_rationales(dup, 1).target.toarray(), [[1]])
    # 2-D: fractions as they are, counts above 1 scaled by the row's maximum
    counts = np.array([[2, 1, 0], [0, 0, 0], [1, 1, 0], [0.5, 0.25, 0]])
    for c in (counts, sp.csr_array(counts), sp.coo_matrix(counts)):
        out = check_rationales(c, 4)
        np.testing.assert_allclose(
            out.target.toarray(), [[1, 0.5, 0], [0, 0, 0], [1, 1, 0], [0.5, 0.25, 0]]
        )
        assert out.n_terms == 3 and out.mean_length == pytest.approx(4.25 / 3)


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
def test_check_rationales_nullable_pandas_counts(dtype):
    # nullable columns became an object array: "must hold numbers"
    pd = pytest.importorskip("pandas")
    counts = np.array([[2, 1, 0], [0, 0, 0], [1, 1, 0]])
    if dtype == "boolean":
        counts = (counts > 0).astype(int)
    frame = pd.DataFrame(counts, columns=["good", "bad", "ugly"]).astype(dtype)
    np.testing.assert_array_equal(
        check_rationales(frame, 3).target.toarray(),
        check_rationales(counts, 3).target.toarray(),
    )
    with pytest.raises(ValueError, match="NaN"):
        check_rationales(frame.mask(frame == 1, None), 3)


@pytest.mark.parametrize(
    "R, match",
    [
        (np.ones((5, 2, 3)), "rows but X has"),
        (-np.ones((10, 3)), "non-negative"),
        (np.full((10, 3), np.nan), "NaN"),
        (np.ones(10), "got shape"),
        (np.array([["a"]] * 10), "numbers"),
    ],
)
def test_check_rationales_errors(R, match):
    with pytest.raises(ValueError, match=match):
        check_rationales(R, 10)


def test_fit_rejects_bad_rationales(task):
    X, Y, R, _ = task
    with pytest.raises(ValueError, match="rows but X has"):
        RationaleCoLearner(**SMALL).fit(X, Y, rationales=R.toarray()[:10])
    with pytest.raises(ValueError, match="features that are the"):
        RationaleCoLearner(**SMALL, rationale_candidates="input").fit(
            X, Y, rationales=R
        )
    with pytest.raises(ValueError, match="rationale_gate=True needs features"):
        RationaleCoLearner(**SMALL, rationale_gate=True).fit(X, Y, rationales=R)


# -- explanations ------------------------------------------------------
def test_explain_ranks_terms(task):
    X, Y, R, _ = task
    clf = RationaleCoLearner(**SMALL, random_state=0).fit(X, Y, rationales=R)
    names = [f"attr{t}" for t in range(R.shape[2])]
    exp = clf.explain(X, top_k=3, term_names=names)
    np.testing.assert_array_equal(exp.y_pred, clf.predict(X))
    assert exp.top_terms.shape == exp.top_scores.shape == (len(X), 3)
    assert np.all(np.diff(exp.top_scores, axis=1) <= 0)
    expected = np.take_along_axis(exp.rationale_proba, exp.top_terms, axis=1)
    np.testing.assert_array_equal(exp.top_scores, expected)
    assert exp.top_names[0, 0] == names[exp.top_terms[0, 0]]
    # candidates: a mask with one candidate on the first row
    mask = np.zeros((len(X), R.shape[2]), dtype=bool)
    mask[0, 2] = True
    exp = clf.explain(X, top_k=2, candidates=mask, term_names=names)
    assert exp.top_terms[0].tolist() == [2, -1]
    assert np.isnan(exp.top_scores[0, 1]) and exp.top_names[0, 1] is None
    assert (exp.top_terms[1:] == -1).all()
    # more slots than terms
    assert clf.explain(X[:2], top_k=50).top_terms.shape == (2, R.shape[2])
    with pytest.raises(ValueError, match="top_k"):
        clf.explain(X, top_k=0)
    with pytest.raises(ValueError, match="candidates must"):
        clf.explain(X, candidates="words")
    with pytest.raises(ValueError, match="term_names"):
        clf.explain(X, term_names=["a"])
    with pytest.raises(ValueError, match="features that are the terms"):
        clf.explain(X, candidates="input")


def test_sparse_text_input_and_candidates():
    """TF-IDF-like sparse X whose features are the terms."""
    rng = np.random.RandomState(0)
    n, n_terms = 60, 12
    present = rng.uniform(size=(n, n_terms)) < 0.3
    X = sp.csr_array(present * rng.uniform(0.1, 1, size=(n, n_terms)))
    y = (present[:, :6].sum(1) > present[:, 6:].sum(1)).astype(float)
    Y = np.column_stack([y, np.where(rng.uniform(size=n) < 0.5, y, np.nan)])
    R = np.zeros((n, 2, n_terms))
    R[:, 0] = present & (np.arange(n_terms) < 3)  # worker 0 marks terms 0..2
    clf = RationaleCoLearner(**SMALL, rationale_candidates="input", random_state=0).fit(
        X, Y, rationales=R
    )
    dense = RationaleCoLearner(
        **SMALL, rationale_candidates="input", random_state=0
    ).fit(X.toarray(), Y, rationales=R)
    np.testing.assert_allclose(
        clf.predict_proba(X), dense.predict_proba(X.toarray()), rtol=1e-5, atol=1e-6
    )
    # the gate: the class reads the input weighted by the predicted rationale
    gated = RationaleCoLearner(
        **SMALL, rationale_candidates="input", rationale_gate=True, random_state=0
    ).fit(X, Y, rationales=R)
    assert gated.net_.module_.gate_input
    assert not np.allclose(gated.predict_proba(X), clf.predict_proba(X))
    module = gated.net_.module_.eval()
    with torch.no_grad():
        Xt = torch.as_tensor(X.toarray(), dtype=torch.float32)
        gate = torch.sigmoid(module.rationale_logits(Xt))
        net = module.crowd_net
        expected = torch.softmax(net.head(net.backbone(Xt * gate)), dim=1)
    np.testing.assert_allclose(gated.predict_proba(X), expected.numpy(), rtol=1e-5)
    # without rationales there is no head, hence no gate
    plain = RationaleCoLearner(**SMALL, rationale_gate=True).fit(X, Y)
    assert not plain.net_.module_.gate_input
    exp = clf.explain(X, top_k=3)  # "auto": only the terms of each item
    for i in range(n):
        ranked = exp.top_terms[i][exp.top_terms[i] >= 0]
        assert present[i, ranked].all()
        assert len(ranked) == min(3, present[i].sum())


# -- metadata routing ------------------------------------------------------
class _Spy(RationaleCoLearner):
    def fit(self, X, y, rationales=None):
        self.rationales_seen_ = None if rationales is None else rationales.shape
        return super().fit(X, y, rationales=rationales)


def test_pipeline_routes_rationales(task):
    X, Y, R, _ = task
    with sklearn.config_context(enable_metadata_routing=True):
        clf = _Spy(**SMALL, random_state=0).set_fit_request(rationales=True)
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        pipe.fit(X, Y, rationales=R)
        assert pipe[-1].rationales_seen_ == R.shape
        assert pipe[-1].n_rationale_terms_ == R.shape[2]
        assert pipe.predict(X).shape == (len(X),)


def test_grid_search_splits_rationales(task):
    X, Y, R, _ = task
    R = aggregate_rationales(R)  # CV makes sparse fit params CSR: 2-D only
    with sklearn.config_context(enable_metadata_routing=True):
        clf = _Spy(**SMALL, random_state=0).set_fit_request(rationales=True)
        search = GridSearchCV(
            clf, {"rationale_weight": [0.0, 1.0]}, cv=KFold(2), refit=True
        )
        search.fit(X, Y, rationales=R)
        assert search.best_estimator_.rationales_seen_ == R.shape
        for name in ("split0_test_score", "split1_test_score"):
            assert np.isfinite(search.cv_results_[name]).all()
    # a fold sees half the rationales: the spy of a fold-fit records it
    fold = _Spy(**SMALL, random_state=0)
    train = np.arange(len(X) // 2)
    fold.fit(X[train], Y[train], rationales=_safe_indexing(R, train))
    assert fold.rationales_seen_[0] == len(train)


def test_unrequested_rationales_are_rejected(task):
    X, Y, R, _ = task
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("clf", RationaleCoLearner(**SMALL))])
        with pytest.raises(Exception, match="rationales"):
            pipe.fit(X, Y, rationales=R)


# -- what the rationales buy ---------------------------------------------
def test_rationale_head_recovers_the_attributes():
    from sklearn.metrics import roc_auc_score

    info = make_rationale_crowd(n_samples=400, random_state=0, return_info=True)
    clf = RationaleCoLearner(hidden_units=(32,), lr=0.01, max_epochs=15, random_state=0)
    clf.fit(info.X[:300], info.Y[:300], rationales=sp.coo_array(info.R.toarray()[:300]))
    proba = clf.predict_rationale_proba(info.X[300:])
    auc = roc_auc_score(info.attributes[300:].ravel(), proba.ravel())
    assert auc > 0.9


@pytest.mark.slow
def test_rationales_beat_crowd_classifier_on_a_hard_task():
    """Acceptance 2 in small: mean over 3 seeds, same backbone and crowd model."""
    gains = []
    for seed in range(3):
        X, Y, R, y = make_rationale_crowd(n_samples=3000, random_state=seed)
        tr, te = slice(0, 1000), slice(1000, None)
        R_tr = sp.coo_array(R.toarray()[tr])
        params = dict(hidden_units=(64,), max_epochs=60, random_state=seed)
        cc = CrowdClassifier(**params).fit(X[tr], Y[tr])
        rcl = RationaleCoLearner(**params).fit(X[tr], Y[tr], rationales=R_tr)
        gains.append(
            np.mean(rcl.predict(X[te]) == y[te]) - np.mean(cc.predict(X[te]) == y[te])
        )
    assert np.mean(gains) > 0.04


def test_mixup_reduces_and_mixes_the_rationale_loss(task):
    """mixup_alpha: the same mixing as CrowdClassifier's; with rationales,
    the rationale loss of the mixed items is mixed like their labels."""
    X, Y, R, _ = task
    params = dict(SMALL, mixup_alpha=0.5, random_state=1)
    ours = RationaleCoLearner(**params, **OFF).fit(X, Y, rationales=R)
    theirs = CrowdClassifier(**params).fit(X, Y)
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))

    full = RationaleCoLearner(**params).fit(X, Y, rationales=R)
    again = RationaleCoLearner(**params).fit(X, Y, rationales=R)
    plain = RationaleCoLearner(**dict(params, mixup_alpha=0.0)).fit(
        X, Y, rationales=R
    )
    assert np.all(np.isfinite([h["train_loss"] for h in full.history_]))
    np.testing.assert_array_equal(full.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(full.predict_proba(X), plain.predict_proba(X))

    module = full.net_.module_
    module.train()
    target = torch.as_tensor(
        np.column_stack([np.full((16, 2), -1), np.arange(16)]), dtype=torch.int64
    )
    logits, rep, aux = module(torch.as_tensor(X[:16], dtype=torch.float32))
    lam, perm = aux["mix"]
    loss = module.loss((logits, rep, aux), target)
    expected = module.crowd_net.loss((logits, rep, (lam, perm)), target)
    expected = expected + module.rationale_weight * (
        lam * module.rationale_loss(aux["rationale"], target)
        + (1 - lam) * module.rationale_loss(aux["rationale"], target[perm])
    )
    if "reconstruction" in aux:
        expected = expected + module.reconstruction_weight * aux["reconstruction"]
    torch.testing.assert_close(loss, expected)


# -- per-batch padding of the crowd target ---------------------------
def test_per_batch_padded_target_fits_as_global(task, monkeypatch):
    """A crowd target padded per batch (forced) trains the same model."""
    from skcrowd.nn import _target

    X, Y, R, _ = task
    Y = np.array(Y, dtype=float)
    Y[0] = np.arange(Y.shape[1]) % 2  # item 0 labelled by every worker
    params = dict(SMALL, crowd_model="em", random_state=0, validation_fraction=0.25)
    reference = RationaleCoLearner(**params).fit(X, Y, rationales=R)
    monkeypatch.setattr(_target, "RAGGED_MIN_WASTE", 0)
    monkeypatch.setattr(_target, "RAGGED_MIN_CELLS", 0)
    seen = []
    fit_net = RationaleCoLearner._fit_net

    def spy(self, X, target, **info):
        seen.append(type(target))
        return fit_net(self, X, target, **info)

    monkeypatch.setattr(RationaleCoLearner, "_fit_net", spy)
    est = RationaleCoLearner(**params).fit(X, Y, rationales=R)
    assert seen == [_target.RaggedCrowdTarget]
    assert est.n_rationale_terms_ > 0
    np.testing.assert_allclose(
        est.predict_proba(X), reference.predict_proba(X), rtol=1e-5, atol=1e-7
    )
