"""CrowdClassifier with the crowd target padded per batch (RaggedCrowdTarget).

The thresholds of skcrowd.nn._target are lowered to force per-batch
padding on a tiny crowd where one item has many more labels than the rest;
the fits must match the global-padded ones.
"""

import pickle

import numpy as np
import pytest

from skcrowd.classification import CROWD_MODEL_NAMES, CrowdClassifier, _crowd
from skcrowd.datasets import make_crowd_classification
from skcrowd.nn import _target

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_WORKERS = 20
SMALL = dict(hidden_units=(8,), lr=0.01, max_epochs=3, batch_size=16, random_state=0)


@pytest.fixture(scope="module")
def skewed():
    """Two labels per item; item 0 labelled by all 20 workers."""
    X, Y = make_crowd_classification(
        n_samples=120, n_features=5, n_classes=3, n_workers=N_WORKERS,
        labels_per_item=2, random_state=0,
    )[:2]
    Y[0] = np.random.RandomState(0).randint(0, 3, N_WORKERS)
    return X, Y


def force_per_batch(monkeypatch):
    monkeypatch.setattr(_target, "RAGGED_MIN_WASTE", 0)
    monkeypatch.setattr(_target, "RAGGED_MIN_CELLS", 0)


def record_loss_widths(monkeypatch):
    """The widths of the targets the module's loss sees, in a list."""
    from skcrowd.nn._modules import CrowdNetModule

    widths, loss = [], CrowdNetModule.loss

    def spy(self, output, target):
        widths.append(target.shape[1])
        return loss(self, output, target)

    monkeypatch.setattr(CrowdNetModule, "loss", spy)
    return widths


@pytest.mark.parametrize("crowd_model", CROWD_MODEL_NAMES)
@pytest.mark.parametrize(
    "extra", [{}, {"validation_fraction": 0.25, "mixup_alpha": 1.0}],
    ids=["plain", "valid-mixup"],
)
def test_per_batch_padding_fits_as_global(skewed, monkeypatch, crowd_model, extra):
    X, Y = skewed
    params = dict(SMALL, crowd_model=crowd_model, **extra)
    reference = CrowdClassifier(**params).fit(X, Y)
    force_per_batch(monkeypatch)
    widths = record_loss_widths(monkeypatch)
    est = CrowdClassifier(**params).fit(X, Y)
    np.testing.assert_allclose(
        est.predict_proba(X), reference.predict_proba(X), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(
        est.posterior_proba(X, Y), reference.posterior_proba(X, Y),
        rtol=1e-5, atol=1e-7,
    )
    assert len(est.history_) == len(reference.history_)
    # the batches without item 0 never carry its 20-label width
    global_width = 2 * N_WORKERS + 1
    assert widths and min(widths) < global_width


def test_per_batch_padding_never_builds_the_global_width(skewed, monkeypatch):
    """Only the batch holding item 0 (20 labels) is 20 pairs wide."""
    X, Y = skewed
    force_per_batch(monkeypatch)
    built = []  # (rows, width) of every array the ragged target builds
    ragged_getitem = _target.RaggedCrowdTarget.__getitem__

    def spy(self, rows):
        out = ragged_getitem(self, rows)
        built.append(out.shape if out.ndim == 2 else (1, len(out)))
        return out

    monkeypatch.setattr(_target.RaggedCrowdTarget, "__getitem__", spy)
    monkeypatch.setattr(
        _target.RaggedCrowdTarget, "__array__",
        lambda *a, **k: pytest.fail("the ragged target was densified"),
    )
    widths = record_loss_widths(monkeypatch)
    est = CrowdClassifier(**SMALL, crowd_model="em", validation_fraction=0.25)
    est.fit(X, Y)
    global_width = 2 * N_WORKERS + 1
    # one loss per epoch at most on the batch with item 0, the rest narrow
    assert max(widths) == global_width
    assert sum(w == global_width for w in widths) <= len(est.history_)
    assert min(widths) == 2 * 2 + 1
    # nothing but a batch is ever built at the global width
    assert built and all(rows <= SMALL["batch_size"] for rows, w in built
                         if w == global_width)


def test_per_batch_pickle_does_not_keep_the_crowd(skewed, monkeypatch):
    X, Y = skewed
    plain = pickle.dumps(CrowdClassifier(**SMALL).fit(X, Y))
    force_per_batch(monkeypatch)
    est = CrowdClassifier(**SMALL).fit(X, Y)
    assert not any(
        isinstance(v, _target.RaggedCrowdTarget) for v in vars(est.net_).values()
    )
    assert abs(len(pickle.dumps(est)) - len(plain)) < 200


def test_accelerate_keeps_global_padding(skewed, monkeypatch):
    """accelerate's per-row loader stacks rows: no ragged target there."""
    X, Y = skewed
    force_per_batch(monkeypatch)
    seen = []
    fit_net = CrowdClassifier._fit_net

    def spy(self, X, target, **info):
        seen.append(type(target))
        return fit_net(self, X, target, **info)

    monkeypatch.setattr(CrowdClassifier, "_fit_net", spy)
    CrowdClassifier(**SMALL).fit(X, Y)
    est = CrowdClassifier(**SMALL)
    est.accelerator = object()  # only read as "is None" before _fit_net
    monkeypatch.setattr(CrowdClassifier, "_validate_params", lambda self: None)
    with pytest.raises(Exception):  # noqa: B017 - the fake accelerator fails later
        est.fit(X, Y)
    assert seen == [_target.RaggedCrowdTarget, np.ndarray]


@pytest.mark.parametrize("crowd_model", ["crowdlayer-mw", "em", "conal"])
def test_posterior_proba_chunked(skewed, monkeypatch, crowd_model):
    X, Y = skewed
    est = CrowdClassifier(**SMALL, crowd_model=crowd_model).fit(X, Y)
    whole = est.posterior_proba(X, Y)
    force_per_batch(monkeypatch)
    monkeypatch.setattr(_crowd, "_POSTERIOR_CHUNK_ROWS", 7)
    np.testing.assert_allclose(est.posterior_proba(X, Y), whole, rtol=1e-6, atol=1e-9)
