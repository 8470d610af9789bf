"""CrowdClassifier(mixup_alpha=...): mixup of the training batches."""

import numpy as np
import pytest

from skcrowd.classification import CROWD_MODEL_NAMES, CrowdClassifier
from skcrowd.datasets import make_crowd_classification

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def crowd():
    return make_crowd_classification(
        n_samples=120, n_features=4, n_classes=3, n_workers=5, labels_per_item=3,
        random_state=0,
    )


SMALL = dict(hidden_units=(8,), max_epochs=3, batch_size=16)


def test_mixup_inputs_is_a_convex_combination_with_a_permutation():
    from skcrowd.nn._modules import mixup_inputs

    X = torch.randn(10, 3)
    torch.manual_seed(0)
    mixed, (lam, perm) = mixup_inputs(X, 0.4)
    assert 0.0 <= float(lam) <= 1.0
    assert sorted(perm.tolist()) == list(range(10))
    torch.testing.assert_close(mixed, lam * X + (1 - lam) * X[perm])
    torch.manual_seed(0)
    again, (lam2, perm2) = mixup_inputs(X, 0.4)
    torch.testing.assert_close(again, mixed)


def test_mixed_loss_mixes_the_two_rows_crowd_losses(crowd):
    X, Y, _ = crowd
    clf = CrowdClassifier(crowd_model="speelfc", mixup_alpha=1.0, random_state=0,
                          **SMALL).fit(X, Y)
    module = clf.net_.module_
    assert module.mixup_alpha == 1.0
    target = torch.as_tensor(_target(X, Y)[:16])
    module.train()
    torch.manual_seed(1)
    logits, rep, (lam, perm) = module(torch.as_tensor(X[:16], dtype=torch.float32))
    expected = lam * module._crowd_loss(logits, rep, target) + (
        1 - lam
    ) * module._crowd_loss(logits, rep, target[perm])
    got = module.loss((logits, rep, (lam, perm)), target)
    torch.testing.assert_close(got, expected)
    # evaluation: no mixing, the plain two outputs
    module.eval()
    assert len(module(torch.as_tensor(X[:4], dtype=torch.float32))) == 2


def _target(X, Y):
    from skcrowd.nn._target import padded_crowd_target
    from skcrowd.utils import check_crowd_matrix

    crowd = check_crowd_matrix(Y)
    return np.column_stack(
        [padded_crowd_target(crowd), np.arange(len(X), dtype=np.int64)]
    )


def test_mixup_changes_training_and_repeats(crowd):
    X, Y, _ = crowd
    plain = CrowdClassifier(random_state=0, **SMALL).fit(X, Y)
    mixed = CrowdClassifier(mixup_alpha=0.5, random_state=0, **SMALL).fit(X, Y)
    again = CrowdClassifier(mixup_alpha=0.5, random_state=0, **SMALL).fit(X, Y)
    assert not np.allclose(plain.predict_proba(X), mixed.predict_proba(X))
    np.testing.assert_array_equal(mixed.predict_proba(X), again.predict_proba(X))
    # alpha 0 is the plain fit, draw for draw
    zero = CrowdClassifier(mixup_alpha=0.0, random_state=0, **SMALL).fit(X, Y)
    np.testing.assert_array_equal(plain.predict_proba(X), zero.predict_proba(X))


@pytest.mark.parametrize("model", CROWD_MODEL_NAMES)
def test_every_crowd_model_trains_with_mixup(crowd, model):
    X, Y, _ = crowd
    clf = CrowdClassifier(crowd_model=model, mixup_alpha=1.0, random_state=0,
                          **SMALL).fit(X, Y)
    losses = [h["train_loss"] for h in clf.history_]
    assert np.all(np.isfinite(losses))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_mixup_resumes_exactly(crowd):
    X, Y, _ = crowd
    params = dict(SMALL, mixup_alpha=1.0, random_state=0)
    part = CrowdClassifier(**dict(params, max_epochs=2)).fit(X, Y)
    part.set_params(max_epochs=4).resume(X, Y)
    full = CrowdClassifier(**dict(params, max_epochs=4)).fit(X, Y)
    np.testing.assert_array_equal(part.predict_proba(X), full.predict_proba(X))


def test_mixup_learns_a_noisy_crowd():
    X, Y, y = make_crowd_classification(
        n_samples=400, n_features=5, n_classes=3, n_workers=8, labels_per_item=3,
        random_state=1,
    )
    clf = CrowdClassifier(mixup_alpha=0.4, max_epochs=40, random_state=0).fit(X, Y)
    assert np.mean(clf.predict(X) == y) > 0.8


def test_negative_alpha_is_rejected(crowd):
    X, Y, _ = crowd
    with pytest.raises(ValueError, match="mixup_alpha"):
        CrowdClassifier(mixup_alpha=-0.1).fit(X, Y)


@pytest.mark.parametrize("model", CROWD_MODEL_NAMES)
def test_auto_mixup_is_on_for_the_models_it_helped(crowd, model):
    """mixup_alpha="auto" (the default): alpha 1 for speelfc and em
    (5-fold CV on Music) and annot-mix (its paper's), off for the others; a
    number overrides it."""
    X, Y, _ = crowd
    expected = 1.0 if model in ("speelfc", "em", "annot-mix") else 0.0
    auto = CrowdClassifier(crowd_model=model, random_state=0, **SMALL).fit(X, Y)
    assert CrowdClassifier().mixup_alpha == "auto"
    assert auto.mixup_alpha == "auto"  # the parameter is left as given
    assert auto.net_.module_.mixup_alpha == expected
    same = CrowdClassifier(crowd_model=model, mixup_alpha=expected, random_state=0,
                           **SMALL).fit(X, Y)
    np.testing.assert_array_equal(auto.predict_proba(X), same.predict_proba(X))
    off = CrowdClassifier(crowd_model=model, mixup_alpha=0.0, random_state=0,
                          **SMALL).fit(X, Y)
    assert off.net_.module_.mixup_alpha == 0.0


def test_auto_mixup_of_a_registered_model_is_its_class_attribute(crowd):
    from skcrowd.nn import CROWD_MODELS, register_crowd_model
    from skcrowd.nn._crowd_models import TraceReg

    @register_crowd_model("tracereg-mixed")
    class Mixed(TraceReg):
        default_mixup_alpha = 0.4

    try:
        X, Y, _ = crowd
        clf = CrowdClassifier(crowd_model="tracereg-mixed", **SMALL).fit(X, Y)
        assert clf.net_.module_.mixup_alpha == 0.4
    finally:
        del CROWD_MODELS["tracereg-mixed"]


def test_unknown_string_alpha_is_rejected(crowd):
    X, Y, _ = crowd
    with pytest.raises(ValueError, match="mixup_alpha"):
        CrowdClassifier(mixup_alpha="on").fit(X, Y)
